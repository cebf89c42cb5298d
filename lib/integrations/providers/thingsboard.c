/* ThingsBoard (CE, PE or ThingsBoard Cloud): a tenant or customer user's server URL,
 * username and password (write-only, sealed as password_encrypted). Every call logs in
 * first (POST /api/auth/login) and keeps the JWT only in the request's memory; the
 * refresh token is never used nor kept. The server URL is user-supplied: every call is
 * guarded by the private-address guard. Health: the login works and GET /api/auth/user
 * answers with the token. Devices, telemetry, RPC and attributes: thingsboard_ops.c. */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "integrations/integration.h"
#include "integrations/providers/provider.h"
#include "integrations/providers/thingsboard.h"
#include "net/outbound.h"
#include "net/s3.h"

static const char *check_server_url(struct json_object *v)
{
	return s3_check_endpoint(json_object_get_string(v), config_bool("SB_THINGSBOARD_ALLOW_HTTP", false));
}

static const struct field tb_fields[] = {
	{"enabled", FIELD_BOOL, false, 0, 0, NULL},
	{"server_url", FIELD_STRING, true, 1, 2048, check_server_url},
	{"username", FIELD_STRING, true, 1, 255, check_printable},
	{"password", FIELD_STRING, false, 1, 255, check_printable},
	{NULL, 0, false, 0, 0, NULL},
};
static const char *const tb_secrets[] = {"password", NULL};

static void tb_validate_saved(struct json_object *body, const struct integration *prev, struct json_object *errors)
{
	struct json_object *v;
	bool given = json_object_object_get_ex(body, "password", &v) && v;
	if (!given && !(prev && jsonx_get_string(prev->config, "password_encrypted")))
		json_object_object_add(errors, "password", json_object_new_string("is required"));
}

static int tb_config_build(struct arena *a, const char *user_id, struct json_object *body,
			   const struct integration *prev, struct json_object **out)
{
	struct json_object *c = json_object_new_object();
	const char *url = jsonx_get_string(body, "server_url");
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	json_object_object_add(c, "server_url", json_object_new_string_len(url, (int)n));
	json_object_object_add(c, "username", json_object_new_string(jsonx_get_string(body, "username")));
	const char *password = jsonx_get_string(body, "password");
	if (password) {
		if (integration_seal(a, c, user_id, "thingsboard", "password", password)) {
			json_object_put(c);
			return -1;
		}
	} else if (prev && jsonx_get_string(prev->config, "password_encrypted")) {
		json_object_object_add(c, "password_encrypted",
				       json_object_new_string(jsonx_get_string(prev->config, "password_encrypted")));
	}
	*out = arena_defer(a, jsonx_put, c);
	return 0;
}

static struct json_object *tb_view(struct arena *a, const struct integration *row)
{
	(void)a;
	struct json_object *v = json_object_new_object(), *c = row->config, *tmp;
	json_object_object_add(v, "enabled", json_object_new_boolean(row->enabled));
	json_object_object_add(v, "server_url", jsonx_string_or_null(jsonx_get_string(c, "server_url")));
	json_object_object_add(v, "username", jsonx_string_or_null(jsonx_get_string(c, "username")));
	json_object_object_add(v, "has_password",
			       json_object_new_boolean(json_object_object_get_ex(c, "password_encrypted", &tmp)));
	json_object_object_add(v, "devices", NULL);
	json_object_object_add(v, "devices_total", NULL);
	json_object_object_add(v, "devices_error", NULL);
	json_object_object_add(v, "connected",
			       json_object_new_boolean(row->enabled && row->status &&
						       (!strcmp(row->status, "connected") ||
							!strcmp(row->status, "active"))));
	json_object_object_add(v, "connected_at", jsonx_string_or_null(row->connected_at));
	json_object_object_add(v, "status", jsonx_string_or_null(row->status));
	json_object_object_add(v, "last_error", jsonx_string_or_null(row->last_error));
	json_object_object_add(v, "last_checked_at", jsonx_string_or_null(row->last_checked_at));
	json_object_object_add(v, "updated_at", jsonx_string_or_null(row->updated_at));
	return v;
}

/* --- calls ------------------------------------------------------------------------------ */

/* The reply of a non-2xx answer: ThingsBoard's {status, message, errorCode}. */
static void error_reply(struct arena *a, const struct outbound_response *o, struct tb_reply *r)
{
	const char *m = r->json ? jsonx_get_string(r->json, "message") : NULL;
	struct json_object *code = NULL;
	if (r->json)
		json_object_object_get_ex(r->json, "errorCode", &code);
	r->reason = arena_printf(a, "ThingsBoard answered HTTP %ld%s%s%s%.200s", o->status,
				 code ? " (errorCode " : "", code ? json_object_get_string(code) : "",
				 code ? "): " : ": ", m ? m : "no message");
	if (o->status == 401)
		r->outcome = TB_AUTH;
	else if (o->status >= 400 && o->status < 500)
		r->outcome = TB_REJECTED;
	else
		r->outcome = TB_UNREACHABLE;
}

/* One call; caller keys the per-user outbound limit (the JWT is new at every login). */
static void do_call(struct arena *a, const struct tb_session *s, const char *auth, const char *method,
		    const char *path, const char *body, struct tb_reply *r)
{
	long timeout = config_int("SB_THINGSBOARD_TIMEOUT_MS", 5000, 200, 60000);
	const char *headers[4] = {"Accept: application/json", "Content-Type: application/json", NULL, NULL};
	if (auth)
		headers[2] = arena_printf(a, "X-Authorization: Bearer %s", auth);
	bool get = !method || !strcmp(method, "GET");
	struct outbound_request rq = {
		.method = method,
		.url = arena_printf(a, "%s%s", s->server, path),
		.caller = s->caller,
		.headers = headers,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.user_supplied = true,
		.idempotent = get,
		.timeout_ms = timeout,
		.connect_timeout_ms = timeout < 3000 ? timeout : 3000,
		.max_response = 1024 * 1024,
	};
	struct outbound_response o;
	memset(r, 0, sizeof(*r));
	if (outbound_do(a, &rq, &o)) {
		r->outcome = o.error == OUTBOUND_TIMEOUT	 ? TB_TIMEOUT
			     : o.error == OUTBOUND_RATE_LIMITED ? TB_LIMITED
								 : TB_UNREACHABLE;
		r->blocked = o.error == OUTBOUND_BLOCKED;
		r->retry_at = o.retry_at;
		r->reason = arena_printf(a, "the ThingsBoard server: %s", o.message ? o.message : "no answer");
		return;
	}
	r->status = o.status;
	r->json = o.len ? outbound_json(a, &o) : NULL;
	if (o.status >= 200 && o.status < 300)
		r->outcome = TB_OK;
	else
		error_reply(a, &o, r);
}

void tb_call(struct arena *a, const struct tb_session *s, const char *method, const char *path, const char *body,
	     struct tb_reply *r)
{
	do_call(a, s, s->token, method, path, body, r);
	if (r->outcome == TB_AUTH)
		r->reason = arena_printf(a, "ThingsBoard refused the session token: %s", r->reason);
}

int tb_login(struct arena *a, const struct integration *row, struct tb_session *s, struct tb_reply *r)
{
	char *password = NULL;
	memset(r, 0, sizeof(*r));
	s->server = jsonx_get_string(row->config, "server_url");
	s->token = NULL;
	s->caller = arena_printf(a, "thingsboard:%s", row->user_id);
	if (integration_open(a, row->config, row->user_id, "thingsboard", "password", &password) <= 0 || !s->server) {
		r->outcome = TB_SECRET;
		r->reason = "the stored password could not be decrypted: save it again";
		return -1;
	}
	struct json_object *b = json_object_new_object();
	json_object_object_add(b, "username", json_object_new_string(jsonx_get_string(row->config, "username")));
	json_object_object_add(b, "password", json_object_new_string(password));
	const char *body = arena_strdup(a, json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN));
	json_object_put(b);
	do_call(a, s, NULL, "POST", "/api/auth/login", body, r);
	if (r->outcome == TB_AUTH)
		r->reason = arena_printf(a, "ThingsBoard refused the username or password (%s)", r->reason);
	if (r->outcome != TB_OK)
		return -1;
	s->token = r->json ? jsonx_get_string(r->json, "token") : NULL;
	if (!s->token || !*s->token) {
		r->outcome = TB_UNREACHABLE;
		r->reason = "ThingsBoard's login answer carried no token";
		return -1;
	}
	return 0;
}

int tb_fail(const struct tb_reply *b, struct provider_result *r)
{
	switch (b->outcome) {
	case TB_SECRET:
		return provider_secret(r, "The stored ThingsBoard password could not be decrypted; save it again");
	case TB_TIMEOUT:
		return provider_fail(r, PROVIDER_UPSTREAM_TIMEOUT, "provider_timeout", b->reason);
	case TB_LIMITED:
		return provider_rate_limited(r, b->retry_at, b->reason);
	case TB_AUTH:
	case TB_REJECTED:
		return provider_fail(r, PROVIDER_UPSTREAM, "provider_rejected", b->reason);
	default:
		return provider_fail(r, PROVIDER_UPSTREAM, b->blocked ? "address_blocked" : "provider_unavailable",
				     b->reason);
	}
}

/* The login works and the token reads the user (GET /api/auth/user). */
static void tb_health(struct arena *a, const struct actor *who, const struct provider *p,
		      const struct integration *row, struct provider_health *o)
{
	(void)who;
	(void)p;
	struct tb_session s;
	struct tb_reply r;
	if (!tb_login(a, row, &s, &r))
		tb_call(a, &s, NULL, "/api/auth/user", NULL, &r);
	if (r.outcome == TB_SECRET) {
		o->secret_failed = true;
		return;
	}
	o->status = r.outcome == TB_OK ? "connected" : "error";
	o->error = r.outcome == TB_OK ? NULL : r.reason;
}

static void tb_catalog(struct json_object *entry)
{
	json_object_object_add(entry, "max_devices_shown",
			       json_object_new_int((int)config_int("SB_THINGSBOARD_VIEW_DEVICES", 20, 1, 100)));
}

/* Members the attributes and rpc bodies may carry besides their field tables. */
static const struct field rpc_extra[] = {{"params", FIELD_STRING, false, 0, 0, NULL}, {NULL, 0, false, 0, 0, NULL}};
static const struct field *const rpc_accepts[] = {rpc_extra, NULL};

static const struct provider_action tb_actions[] = {
	{"rpc", true, tb_rpc_fields, tb_rpc, NULL, rpc_accepts},
	{"attributes", true, tb_attr_fields, tb_attributes, NULL, NULL},
	{NULL, false, NULL, NULL, NULL, NULL},
};

const struct provider provider_thingsboard = {
	.name = "thingsboard",
	.display_name = "ThingsBoard",
	.description = "ThingsBoard IoT devices: active state, latest telemetry, one-way RPC and shared attributes",
	.auth = PROVIDER_AUTH_CONFIG,
	.config_fields = tb_fields,
	.validate_saved = tb_validate_saved,
	.secret_fields = tb_secrets,
	.config_build = tb_config_build,
	.view = tb_view,
	.catalog = tb_catalog,
	.health = tb_health,
	.get = tb_get,
	.actions = tb_actions,
};
