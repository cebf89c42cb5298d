/* S3-compatible object storage (issue 16): the user's own bucket on AWS S3 or any
 * S3-compatible service. Config: endpoint, region, bucket, access_key_id,
 * secret_access_key (write-only, sealed), addressing "path" or "virtual", optional key
 * prefix. Calls are signed with SigV4 by libcurl (net/s3.h). */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "integrations/integration.h"
#include "integrations/providers/provider.h"
#include "integrations/providers/s3.h"
#include "net/s3.h"

static bool allow_http(void)
{
	/* Plain http only where the operator allows it (the dev stack's loopback server). */
	return config_bool("SB_S3_ALLOW_HTTP", false);
}

static const char *check_endpoint(struct json_object *v)
{
	return s3_check_endpoint(json_object_get_string(v), allow_http());
}

static const char *check_region(struct json_object *v)
{
	return s3_check_region(json_object_get_string(v));
}

static const char *check_bucket(struct json_object *v)
{
	return s3_check_bucket(json_object_get_string(v));
}

static const char *check_addressing(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	return strcmp(s, "path") && strcmp(s, "virtual") ? "must be \"path\" or \"virtual\"" : NULL;
}

static const char *check_prefix(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	return strlen(s) > 200 ? "must be at most 200 characters" : s3_check_key(s);
}

static const struct field s3_fields[] = {
	{"enabled", FIELD_BOOL, false, 0, 0, NULL},
	{"endpoint", FIELD_STRING, true, 1, 2048, check_endpoint},
	{"region", FIELD_STRING, true, 1, 40, check_region},
	{"bucket", FIELD_STRING, true, 3, 63, check_bucket},
	{"access_key_id", FIELD_STRING, true, 1, 128, check_printable},
	{"secret_access_key", FIELD_STRING, false, 1, 256, check_printable},
	{"addressing", FIELD_STRING, false, 1, 10, check_addressing},
	{"prefix", FIELD_STRING, false, 0, 200, check_prefix},
	{NULL, 0, false, 0, 0, NULL},
};

static const char *const s3_secrets[] = {"secret_access_key", NULL};

/* A first save needs the secret; later saves keep the stored one when it is left out. */
static void s3_validate_saved(struct json_object *body, const struct integration *prev, struct json_object *errors)
{
	struct json_object *v;
	if (json_object_object_get_ex(body, "secret_access_key", &v) && v)
		return;
	if (!prev || !json_object_object_get_ex(prev->config, "secret_access_key_encrypted", &v))
		json_object_object_add(errors, "secret_access_key", json_object_new_string("is required"));
}

static void copy_string(struct json_object *from, struct json_object *to, const char *name, const char *dflt)
{
	const char *s = jsonx_get_string(from, name);
	if (s || dflt)
		json_object_object_add(to, name, json_object_new_string(s ? s : dflt));
}

static int s3_config_build(struct arena *a, const char *user_id, struct json_object *body,
			   const struct integration *prev, struct json_object **out)
{
	struct json_object *c = json_object_new_object();
	copy_string(body, c, "endpoint", NULL);
	copy_string(body, c, "region", NULL);
	copy_string(body, c, "bucket", NULL);
	copy_string(body, c, "access_key_id", NULL);
	copy_string(body, c, "addressing", "path");
	copy_string(body, c, "prefix", "");
	const char *secret = jsonx_get_string(body, "secret_access_key");
	if (secret) {
		if (integration_seal(a, c, user_id, "s3", "secret_access_key", secret)) {
			json_object_put(c);
			return -1;
		}
	} else if (prev) {
		const char *sealed = jsonx_get_string(prev->config, "secret_access_key_encrypted");
		if (sealed)
			json_object_object_add(c, "secret_access_key_encrypted", json_object_new_string(sealed));
	}
	*out = arena_defer(a, jsonx_put, c);
	return 0;
}

int s3_saved_target(struct arena *a, const struct integration *row, struct s3_target *t)
{
	struct json_object *c = row->config;
	memset(t, 0, sizeof(*t));
	t->endpoint = jsonx_get_string(c, "endpoint");
	t->region = jsonx_get_string(c, "region");
	t->bucket = jsonx_get_string(c, "bucket");
	t->access_key_id = jsonx_get_string(c, "access_key_id");
	const char *addressing = jsonx_get_string(c, "addressing");
	t->virtual_host = addressing && !strcmp(addressing, "virtual");
	char *secret = NULL;
	int rc = integration_open(a, c, row->user_id, "s3", "secret_access_key", &secret);
	if (rc < 0)
		return -1;
	t->secret_access_key = secret;
	return t->endpoint && t->region && t->bucket && t->access_key_id && secret ? 0 : 1;
}

const char *s3_saved_prefix(const struct integration *row)
{
	const char *p = jsonx_get_string(row->config, "prefix");
	return p ? p : "";
}

/* A HEAD of the bucket: reachable, the credentials accepted, the bucket there. */
static void s3_health(struct arena *a, const struct actor *who, const struct provider *p,
		      const struct integration *row, struct provider_health *o)
{
	(void)who;
	(void)p;
	struct s3_target t;
	int rc = s3_saved_target(a, row, &t);
	if (rc < 0) {
		o->secret_failed = true;
		return;
	}
	if (rc > 0) {
		o->status = "error";
		o->error = "the configuration is incomplete";
		return;
	}
	struct outbound_response res;
	bool ok = !s3_call(a, &t, "HEAD", NULL, NULL, 0, NULL, &res) && res.status >= 200 && res.status < 300;
	o->status = ok ? "connected" : "error";
	o->error = ok ? NULL : s3_failure(a, &res);
}

static struct json_object *s3_view(struct arena *a, const struct integration *row)
{
	(void)a;
	struct json_object *v = json_object_new_object(), *c = row->config, *tmp;
	json_object_object_add(v, "enabled", json_object_new_boolean(row->enabled));
	static const char *const names[] = {"endpoint", "region", "bucket", "access_key_id", "addressing", "prefix"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		json_object_object_add(v, names[i], jsonx_string_or_null(jsonx_get_string(c, names[i])));
	json_object_object_add(
		v, "has_secret_access_key",
		json_object_new_boolean(json_object_object_get_ex(c, "secret_access_key_encrypted", &tmp)));
	json_object_object_add(v, "status", jsonx_string_or_null(row->status));
	json_object_object_add(v, "last_error", jsonx_string_or_null(row->last_error));
	json_object_object_add(v, "last_checked_at", jsonx_string_or_null(row->last_checked_at));
	json_object_object_add(v, "updated_at", jsonx_string_or_null(row->updated_at));
	return v;
}

static void s3_catalog(struct json_object *entry)
{
	struct json_object *modes = json_object_new_array();
	json_object_array_add(modes, json_object_new_string("path"));
	json_object_array_add(modes, json_object_new_string("virtual"));
	json_object_object_add(entry, "addressing", modes);
	json_object_object_add(entry, "allows_http", json_object_new_boolean(allow_http()));
}

static const struct provider_action s3_actions[] = {
	{"test", false, NULL, s3_test, NULL, NULL},
	{NULL, false, NULL, NULL},
};

const struct provider provider_s3 = {
	.name = "s3",
	.display_name = "S3-compatible object storage",
	.description = "Your own bucket on Amazon S3 or an S3-compatible service (exports are delivered there)",
	.auth = PROVIDER_AUTH_CONFIG,
	.config_fields = s3_fields,
	.validate_saved = s3_validate_saved,
	.secret_fields = s3_secrets,
	.config_build = s3_config_build,
	.view = s3_view,
	.catalog = s3_catalog,
	.health = s3_health,
	.actions = s3_actions,
};
