/* Azure Blob Storage (issue 16): the user's own storage account and container. Config:
 * account_name, account_key (write-only, sealed), container, optional endpoint (default
 * https://<account>.blob.core.windows.net) and key prefix. Requests are authorized with
 * Shared Key (net/azblob.h). POST .../azure-blob/test writes, reads back and deletes a
 * probe blob; health reads the container's properties. */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/validate.h"
#include "events/audit.h"
#include "integrations/integration.h"
#include "integrations/integration_events.h"
#include "integrations/providers/azure_blob.h"
#include "integrations/providers/provider.h"
#include "net/azblob.h"
#include "net/s3.h"

static const char *check_endpoint(struct json_object *v)
{
	return s3_check_endpoint(json_object_get_string(v), config_bool("SB_AZURE_ALLOW_HTTP", false));
}
static const char *check_account(struct json_object *v)
{
	return azblob_check_account(json_object_get_string(v));
}
static const char *check_container(struct json_object *v)
{
	return azblob_check_container(json_object_get_string(v));
}
static const char *check_key(struct json_object *v)
{
	return azblob_check_key(json_object_get_string(v));
}
static const char *check_prefix(struct json_object *v)
{
	return s3_check_key(json_object_get_string(v));
}

static const struct field az_fields[] = {
	{"enabled", FIELD_BOOL, false, 0, 0, NULL},
	{"endpoint", FIELD_STRING, false, 1, 2048, check_endpoint},
	{"account_name", FIELD_STRING, true, 3, 24, check_account},
	{"account_key", FIELD_STRING, false, 16, 256, check_key},
	{"container", FIELD_STRING, true, 3, 63, check_container},
	{"prefix", FIELD_STRING, false, 0, 200, check_prefix},
	{NULL, 0, false, 0, 0, NULL},
};

static const char *const az_secrets[] = {"account_key", NULL};

static void az_validate_saved(struct json_object *body, const struct integration *prev, struct json_object *errors)
{
	struct json_object *v;
	if (json_object_object_get_ex(body, "account_key", &v) && v)
		return;
	if (!prev || !json_object_object_get_ex(prev->config, "account_key_encrypted", &v))
		json_object_object_add(errors, "account_key", json_object_new_string("is required"));
}

static int az_config_build(struct arena *a, const char *user_id, struct json_object *body,
			   const struct integration *prev, struct json_object **out)
{
	struct json_object *c = json_object_new_object();
	const char *account = jsonx_get_string(body, "account_name"), *ep = jsonx_get_string(body, "endpoint");
	json_object_object_add(c, "account_name", json_object_new_string(account));
	json_object_object_add(c, "container", json_object_new_string(jsonx_get_string(body, "container")));
	json_object_object_add(
		c, "endpoint",
		json_object_new_string(ep ? ep : arena_printf(a, "https://%s.blob.core.windows.net", account)));
	const char *prefix = jsonx_get_string(body, "prefix");
	json_object_object_add(c, "prefix", json_object_new_string(prefix ? prefix : ""));
	const char *key = jsonx_get_string(body, "account_key");
	if (key) {
		if (integration_seal(a, c, user_id, "azure_blob", "account_key", key)) {
			json_object_put(c);
			return -1;
		}
	} else if (prev && jsonx_get_string(prev->config, "account_key_encrypted")) {
		json_object_object_add(c, "account_key_encrypted",
				       json_object_new_string(jsonx_get_string(prev->config, "account_key_encrypted")));
	}
	*out = arena_defer(a, jsonx_put, c);
	return 0;
}

int azure_saved_target(struct arena *a, const struct integration *row, struct azblob_target *t)
{
	memset(t, 0, sizeof(*t));
	t->endpoint = jsonx_get_string(row->config, "endpoint");
	t->account = jsonx_get_string(row->config, "account_name");
	t->container = jsonx_get_string(row->config, "container");
	char *key = NULL;
	if (integration_open(a, row->config, row->user_id, "azure_blob", "account_key", &key) < 0)
		return -1;
	t->key = key;
	return t->endpoint && t->account && t->container && key ? 0 : 1;
}

const char *azure_saved_prefix(const struct integration *row)
{
	const char *p = jsonx_get_string(row->config, "prefix");
	return p ? p : "";
}

static void az_health(struct arena *a, const struct actor *who, const struct provider *p,
		      const struct integration *row, struct provider_health *o)
{
	(void)who;
	(void)p;
	struct azblob_target t;
	int rc = azure_saved_target(a, row, &t);
	if (rc) {
		o->secret_failed = rc < 0;
		o->status = rc < 0 ? NULL : "error";
		o->error = rc < 0 ? NULL : "the configuration is incomplete";
		return;
	}
	struct outbound_response res;
	bool ok = !azblob_call(a, &t, "GET", NULL, NULL, 0, NULL, &res) && res.status == 200;
	o->status = ok ? "connected" : "error";
	o->error = ok ? NULL : azblob_failure(a, &res);
}

static struct json_object *az_view(struct arena *a, const struct integration *row)
{
	(void)a;
	struct json_object *v = json_object_new_object(), *c = row->config, *tmp;
	json_object_object_add(v, "enabled", json_object_new_boolean(row->enabled));
	static const char *const names[] = {"endpoint", "account_name", "container", "prefix"};
	for (size_t i = 0; i < 4; i++)
		json_object_object_add(v, names[i], jsonx_string_or_null(jsonx_get_string(c, names[i])));
	json_object_object_add(v, "has_account_key",
			       json_object_new_boolean(json_object_object_get_ex(c, "account_key_encrypted", &tmp)));
	json_object_object_add(v, "status", jsonx_string_or_null(row->status));
	json_object_object_add(v, "last_error", jsonx_string_or_null(row->last_error));
	json_object_object_add(v, "last_checked_at", jsonx_string_or_null(row->last_checked_at));
	json_object_object_add(v, "updated_at", jsonx_string_or_null(row->updated_at));
	return v;
}

static const struct provider_action az_actions[] = {
	{"test", false, NULL, azure_test, NULL, NULL},
	{NULL, false, NULL, NULL},
};

const struct provider provider_azure_blob = {
	.name = "azure_blob",
	.url_name = "azure-blob",
	.display_name = "Azure Blob Storage",
	.description = "Your own Azure storage account container (Shared Key)",
	.auth = PROVIDER_AUTH_CONFIG,
	.config_fields = az_fields,
	.validate_saved = az_validate_saved,
	.secret_fields = az_secrets,
	.config_build = az_config_build,
	.view = az_view,
	.health = az_health,
	.actions = az_actions,
};
