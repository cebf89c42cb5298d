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
#include "integrations/providers/s3.h"
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
	if (!type || !json_object_is_type(type, json_type_string) || strcmp(json_object_get_string(type), "s3"))
		add(errors, "destination.type", "must be \"s3\"");
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
	if (integration_load(a, user_id, "s3", false, &row, &found) != DB_OK) {
		add(errors, "destination.type", "the saved s3 integration could not be read; try again");
		return NULL;
	}
	if (!found || !row.enabled) {
		add(errors, "destination.type",
		    found ? "the s3 integration is disabled" : "no s3 integration is saved: PUT /users/me/integrations/s3 first");
		return NULL;
	}
	struct json_object *clean = json_object_new_object();
	json_object_object_add(clean, "type", json_object_new_string("s3"));
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

/* The saved s3 integration of the job's user, ready to call. 0, or -1 with *why. */
static int load_target(struct arena *a, const struct export_job *job, struct s3_target *t, const char **prefix,
		       const char **why)
{
	struct integration row;
	bool found = false;
	if (integration_load(a, job->user_id, "s3", false, &row, &found) != DB_OK) {
		*why = "delivery failed: the saved s3 integration could not be read";
		return -1;
	}
	if (!found || !row.enabled) {
		*why = found ? "delivery failed: the s3 integration is disabled"
			     : "delivery failed: no s3 integration is saved";
		return -1;
	}
	int rc = s3_saved_target(a, &row, t);
	if (rc) {
		*why = rc < 0 ? "delivery failed: the stored S3 secret could not be opened; save the configuration again"
			      : "delivery failed: the saved S3 configuration is incomplete";
		return -1;
	}
	*prefix = s3_saved_prefix(&row);
	return 0;
}

int export_deliver(struct arena *a, const struct export_job *job, const char *path, const char **key,
		   const char **why)
{
	struct json_object *dest = json_tokener_parse(job->destination_json ? job->destination_json : "null");
	arena_defer(a, jsonx_put, dest);
	const char *type = jsonx_get_string(dest, "type"), *dprefix = jsonx_get_string(dest, "prefix");
	if (!type || strcmp(type, "s3")) {
		*why = "delivery failed: unknown destination type";
		return -1;
	}
	struct s3_target t;
	const char *prefix;
	if (load_target(a, job, &t, &prefix, why))
		return -1;
	t.timeout_ms = config_int("SB_EXPORT_DELIVERY_TIMEOUT_MS", 120000, 1000, 3600000);
	char *data;
	size_t len;
	long long max = config_int("SB_EXPORT_DELIVERY_MAX_BYTES", 256L << 20, 1024, 4L << 30);
	if (read_file(a, path, max, &data, &len, why))
		return -1;
	/* The job id makes the key unique, and a retried job overwrites its own object. */
	*key = arena_printf(a, "%s%s%s-%s.%s", prefix, dprefix ? dprefix : "", job->entity, job->id, job->format);
	const char *ctype = !strcmp(job->format, "xlsx")
				    ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
				    : "text/csv";
	struct outbound_response res;
	int rc = s3_call(a, &t, "PUT", *key, data, len, ctype, &res);
	if (rc || res.status < 200 || res.status >= 300) {
		*why = arena_printf(a, "delivery to bucket %s failed: %s", t.bucket, s3_failure(a, &res));
		log_msg(LOG_WARN, "export %s: %s", job->id, *why);
		return -1;
	}
	return 0;
}
