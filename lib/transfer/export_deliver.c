/* Export delivery; see export_deliver.h. */
#include "transfer/export_deliver.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "integrations/integration.h"
#include "integrations/providers/azure_blob.h"
#include "integrations/providers/s3.h"
#include "net/azblob.h"
#include "net/s3.h"

static void add(struct json_object *errors, const char *field, const char *msg)
{
	json_object_object_add(errors, field, json_object_new_string(msg));
}

const char *export_destination_check(struct arena *a, const char *user_id, struct json_object *dest,
				     struct json_object *errors)
{
	int before = json_object_object_length(errors);
	json_object_object_foreach(dest, k, v)
	{
		(void)v;
		if (strcmp(k, "type") && strcmp(k, "prefix"))
			add(errors, arena_printf(a, "destination.%s", k), "is not a member of a destination");
	}
	struct json_object *type = NULL, *prefix = NULL;
	json_object_object_get_ex(dest, "type", &type);
	json_object_object_get_ex(dest, "prefix", &prefix);
	const char *provider = type && json_object_is_type(type, json_type_string) ? json_object_get_string(type) : "";
	if (strcmp(provider, "s3") && strcmp(provider, "azure_blob"))
		add(errors, "destination.type", "must be \"s3\" or \"azure_blob\"");
	const char *pfx = "";
	if (prefix && !json_object_is_type(prefix, json_type_string))
		add(errors, "destination.prefix", "must be a string");
	else if (prefix) {
		pfx = json_object_get_string(prefix);
		const char *why = strlen(pfx) > 200 ? "must be at most 200 characters" : s3_check_key(pfx);
		if (why)
			add(errors, "destination.prefix", why);
	}
	if (json_object_object_length(errors) > before)
		return NULL;
	struct integration row;
	bool found = false;
	if (integration_load(a, user_id, provider, false, &row, &found) != DB_OK) {
		add(errors, "destination.type", "the saved integration could not be read; try again");
		return NULL;
	}
	if (!found || !row.enabled) {
		add(errors, "destination.type",
		    found ? arena_printf(a, "the %s integration is disabled", provider)
			  : arena_printf(a, "no %s integration is saved: PUT /users/me/integrations/%s first", provider,
					 strcmp(provider, "s3") ? "azure-blob" : "s3"));
		return NULL;
	}
	struct json_object *clean = json_object_new_object();
	json_object_object_add(clean, "type", json_object_new_string(provider));
	json_object_object_add(clean, "prefix", json_object_new_string(pfx));
	const char *text = arena_strdup(a, json_object_to_json_string_ext(clean, JSON_C_TO_STRING_PLAIN));
	json_object_put(clean);
	return text;
}

/* The whole file in the arena (at most max bytes). 0, or -1 with *why. */
static int read_file(struct arena *a, const char *path, long long max, char **data, size_t *len, const char **why)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st)) {
		log_msg(LOG_ERROR, "export delivery: cannot open %s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		*why = "the export file could not be read for delivery";
		return -1;
	}
	if ((long long)st.st_size > max) {
		fclose(f);
		*why = arena_printf(a, "the export file is larger than the delivery limit of %lld bytes", max);
		return -1;
	}
	*len = (size_t)st.st_size;
	*data = arena_alloc(a, *len + 1);
	size_t got = *len ? fread(*data, 1, *len, f) : 0;
	fclose(f);
	if (got != *len) {
		*why = "the export file could not be read for delivery";
		return -1;
	}
	return 0;
}

/* The job user's saved integration of provider, enabled. 0, or -1 with *why. */
static int load_row(struct arena *a, const struct export_job *job, const char *provider, struct integration *row,
		    const char **why)
{
	bool found = false;
	if (integration_load(a, job->user_id, provider, false, row, &found) != DB_OK) {
		*why = arena_printf(a, "delivery failed: the saved %s integration could not be read", provider);
		return -1;
	}
	if (!found || !row->enabled) {
		*why = found ? arena_printf(a, "delivery failed: the %s integration is disabled", provider)
			     : arena_printf(a, "delivery failed: no %s integration is saved", provider);
		return -1;
	}
	return 0;
}

static const char *secret_why(int rc)
{
	return rc < 0 ? "delivery failed: the stored secret could not be opened; save the configuration again"
		      : "delivery failed: the saved configuration is incomplete";
}

/* Uploads data as key under the integration's prefix. 0, or -1 with *why. */
static int upload(struct arena *a, const struct export_job *job, const char *provider, const char *name,
		  const char *data, size_t len, const char *ctype, const char **key, const char **why)
{
	struct integration row;
	if (load_row(a, job, provider, &row, why))
		return -1;
	long timeout = config_int("SB_EXPORT_DELIVERY_TIMEOUT_MS", 120000, 1000, 3600000);
	struct outbound_response res;
	int rc;
	const char *where;
	if (!strcmp(provider, "s3")) {
		struct s3_target t;
		if ((rc = s3_saved_target(a, &row, &t))) {
			*why = secret_why(rc);
			return -1;
		}
		t.timeout_ms = timeout;
		*key = arena_printf(a, "%s%s", s3_saved_prefix(&row), name);
		where = arena_printf(a, "bucket %s", t.bucket);
		rc = s3_call(a, &t, "PUT", *key, data, len, ctype, &res);
	} else {
		struct azblob_target t;
		if ((rc = azure_saved_target(a, &row, &t))) {
			*why = secret_why(rc);
			return -1;
		}
		t.timeout_ms = timeout;
		*key = arena_printf(a, "%s%s", azure_saved_prefix(&row), name);
		where = arena_printf(a, "container %s", t.container);
		rc = azblob_call(a, &t, "PUT", *key, data, len, ctype, &res);
	}
	if (rc || res.status < 200 || res.status >= 300) {
		const char *reason = !strcmp(provider, "s3") ? s3_failure(a, &res) : azblob_failure(a, &res);
		*why = arena_printf(a, "delivery to %s failed: %s", where, reason);
		log_msg(LOG_WARN, "export %s: %s", job->id, *why);
		return -1;
	}
	return 0;
}

int export_deliver(struct arena *a, const struct export_job *job, const char *path, const char **key,
		   const char **why)
{
	struct json_object *dest = json_tokener_parse(job->destination_json ? job->destination_json : "null");
	arena_defer(a, jsonx_put, dest);
	const char *type = jsonx_get_string(dest, "type"), *dprefix = jsonx_get_string(dest, "prefix");
	if (!type || (strcmp(type, "s3") && strcmp(type, "azure_blob"))) {
		*why = "delivery failed: unknown destination type";
		return -1;
	}
	char *data;
	size_t len;
	long long max = config_int("SB_EXPORT_DELIVERY_MAX_BYTES", 256L << 20, 1024, 4L << 30);
	if (read_file(a, path, max, &data, &len, why))
		return -1;
	/* The job id makes the key unique, and a retried job overwrites its own object. */
	const char *name = arena_printf(a, "%s%s-%s.%s", dprefix ? dprefix : "", job->entity, job->id, job->format);
	const char *ctype = !strcmp(job->format, "xlsx")
				    ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
				    : "text/csv";
	return upload(a, job, type, name, data, len, ctype, key, why);
}
