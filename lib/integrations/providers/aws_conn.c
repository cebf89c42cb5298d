/* Shared parts of the Amazon SES and AWS SNS connectors; see aws_conn.h. */
#include "integrations/providers/aws_conn.h"

#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "integrations/integration.h"
#include "net/outbound.h"
#include "net/s3.h"

bool aws_conn_allow_http(void)
{
	return config_bool("SB_AWS_ALLOW_HTTP", false);
}

const char *aws_conn_check_region(struct json_object *v)
{
	return s3_check_region(json_object_get_string(v));
}

const char *aws_conn_check_endpoint(struct json_object *v)
{
	return s3_check_endpoint(json_object_get_string(v), aws_conn_allow_http());
}

void aws_conn_validate_saved(struct json_object *body, const struct integration *prev, struct json_object *errors)
{
	struct json_object *v;
	if (json_object_object_get_ex(body, "secret_access_key", &v) && v)
		return;
	if (!prev || !json_object_object_get_ex(prev->config, "secret_access_key_encrypted", &v))
		json_object_object_add(errors, "secret_access_key", json_object_new_string("is required"));
}

static void copy_string(struct json_object *from, struct json_object *to, const char *name)
{
	const char *s = jsonx_get_string(from, name);
	if (s)
		json_object_object_add(to, name, json_object_new_string(s));
}

int aws_conn_config_build(struct arena *a, const char *provider, const char *user_id, struct json_object *body,
			  const struct integration *prev, const char *const *extra, struct json_object **out)
{
	struct json_object *c = json_object_new_object();
	copy_string(body, c, "region");
	copy_string(body, c, "access_key_id");
	copy_string(body, c, "endpoint");
	for (size_t i = 0; extra && extra[i]; i++)
		copy_string(body, c, extra[i]);
	const char *secret = jsonx_get_string(body, "secret_access_key");
	if (secret) {
		if (integration_seal(a, c, user_id, provider, "secret_access_key", secret)) {
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

struct json_object *aws_conn_view(const struct integration *row)
{
	struct json_object *v = json_object_new_object(), *c = row->config, *tmp;
	json_object_object_add(v, "enabled", json_object_new_boolean(row->enabled));
	static const char *const names[] = {"region", "access_key_id", "endpoint"};
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

int aws_conn_call(struct arena *a, const char *provider, const struct integration *row, const struct aws_call *c,
		  struct outbound_response *out, const char **reason, int *http)
{
	char *secret = NULL;
	if (integration_open(a, row->config, row->user_id, provider, "secret_access_key", &secret) <= 0)
		return -2;
	const char *region = jsonx_get_string(row->config, "region");
	const char *endpoint = jsonx_get_string(row->config, "endpoint");
	if (!endpoint)
		endpoint = arena_printf(a, "https://%s.%s.amazonaws.com", c->host_prefix, region);
	const char *headers[2] = {NULL, NULL};
	if (c->content_type)
		headers[0] = arena_printf(a, "Content-Type: %s", c->content_type);
	struct outbound_request rq = {
		.method = c->method,
		.url = arena_printf(a, "%s%s", endpoint, c->path),
		.headers = headers,
		.body = c->body,
		.body_len = c->body ? strlen(c->body) : 0,
		.user_supplied = true,
		.idempotent = !c->body,
		.aws_sigv4 = arena_printf(a, "aws:amz:%s:%s", region, c->service),
		.aws_key_id = jsonx_get_string(row->config, "access_key_id"),
		.aws_secret = secret,
		.max_response = 64 * 1024,
	};
	if (outbound_do(a, &rq, out) == 0)
		return 0;
	*http = outbound_http_status(out);
	*reason = out->message ? out->message : "no answer";
	return -1;
}
