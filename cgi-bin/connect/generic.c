/* The OAuth part of the generic routes (spec 003 and 002), for single-page apps that
 * own their callback page: POST /integrations/connect {integration_type, redirect_uri,
 * scopes} -> {authorization_url, state}; GET /integrations/callback?code&state&
 * integration_type -> {success, integration_id, redirect_url}; and spec 002's
 * POST /integrations/{type}/connect (an OAuth provider starts the same flow, a config
 * provider saves its config as PUT /users/me/integrations/{type} does). The flow is
 * the one of /auth/{provider}/connect and /callback: the same state (single use,
 * expiring, bound to this browser by a cookie), exchange and store. */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/urlenc.h"
#include "core/validate.h"
#include "db/db.h"
#include "events/audit.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"
#include "integrations/integration.h"
#include "integrations/integration_ops.h"
#include "integrations/oauth_connection.h"
#include "integrations/providers/provider.h"
#include "oauth/oauth_client.h"
#include "oauth/oauth_state.h"
#include "provider_reply.h"

#define COOKIE_PATH  "/api/v1/integrations/"
#define MAX_SCOPES   20
#define MAX_SCOPE_CH 200

static const char *frontend(void)
{
	return config_str("SB_FRONTEND_URL", "http://localhost:3000");
}

/* A redirect_uri the operator allowed: one of SB_INTEGRATIONS_REDIRECT_URIS (comma
 * separated, compared exactly), by default <SB_FRONTEND_URL>/integrations/callback. */
static bool redirect_allowed(struct arena *a, const char *uri)
{
	const char *list = config_str("SB_INTEGRATIONS_REDIRECT_URIS", NULL);
	if (!list || !*list)
		list = arena_printf(a, "%s/integrations/callback", frontend());
	size_t n = strlen(uri);
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len && (*p == ' '))
			p++, len--;
		while (len && p[len - 1] == ' ')
			len--;
		if (len == n && !memcmp(p, uri, n))
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

/* The provider's scopes plus the requested ones (no duplicates), joined with its
 * separator; NULL with *bad set when a requested scope is not a plain token. */
static const char *merged_scopes(struct arena *a, const struct oauth_provider *p, struct json_object *list,
				 const char **bad)
{
	*bad = NULL;
	if (!list || json_object_is_type(list, json_type_null))
		return p->scopes;
	if (!json_object_is_type(list, json_type_array) || json_object_array_length(list) > MAX_SCOPES) {
		*bad = "must be an array of at most 20 scope names";
		return NULL;
	}
	const char *sep = p->scope_separator && *p->scope_separator ? p->scope_separator : " ";
	char *out = arena_strdup(a, p->scopes ? p->scopes : "");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *v = json_object_array_get_idx(list, i);
		const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		if (!s || !*s || strlen(s) > MAX_SCOPE_CH) {
			*bad = "each scope must be a non-empty string of at most 200 characters";
			return NULL;
		}
		for (const char *c = s; *c; c++)
			if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || *c == '"' || *c == '\\' ||
			    *c == ',') {
				*bad = "each scope must be printable ASCII without spaces, commas, quotes or backslashes";
				return NULL;
			}
		/* already granted by default? */
		bool seen = false;
		size_t sl = strlen(s), seplen = strlen(sep);
		for (const char *q = out; *q;) {
			const char *e = strstr(q, sep);
			size_t len = e ? (size_t)(e - q) : strlen(q);
			if (len == sl && !memcmp(q, s, sl))
				seen = true;
			if (!e)
				break;
			q = e + seplen;
		}
		if (!seen)
			out = *out ? arena_printf(a, "%s%s%s", out, sep, s) : arena_strdup(a, s);
	}
	return out;
}

/* The OAuth provider of an integration type, or NULL with 404/409 answered. */
static const struct oauth_provider *oauth_of(struct request *rq, const char *type, const char *field)
{
	const struct provider *p = type ? provider_find(type) : NULL;
	const struct oauth_provider *op = p && p->auth == PROVIDER_AUTH_OAUTH2 ? p->oauth : NULL;
	if (!p) {
		if (field)
			reply_invalid_field(rq, field, "is not a known integration type");
		else
			reply_error(rq, 404, "not_found", "No such integration type");
	} else if (!op)
		reply_error(rq, 400, "not_oauth",
			    arena_printf(rq->arena,
					 "%s is not connected through OAuth: save its configuration with "
					 "POST /integrations/%s/connect or PUT /users/me/integrations/%s",
					 p->name, p->name, p->name));
	else if (!oauth_provider_available(op)) {
		reply_error(rq, 409, "provider_not_configured", "This provider is not configured on this server");
		op = NULL;
	}
	return op;
}

/* Starts the flow from a body {redirect_uri, scopes}. */
static int start_from_body(struct request *rq, const struct oauth_provider *op, struct json_object *body)
{
	struct json_object *v;
	const char *redirect = NULL;
	if (body && json_object_object_get_ex(body, "redirect_uri", &v) && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_string))
			return reply_invalid_field(rq, "redirect_uri", "must be a string");
		redirect = json_object_get_string(v);
		if (!redirect_allowed(rq->arena, redirect))
			return reply_invalid_field(
				rq, "redirect_uri",
				"is not a redirect URI this server allows (SB_INTEGRATIONS_REDIRECT_URIS)");
	}
	const char *bad, *scopes = merged_scopes(rq->arena, op,
						 body && json_object_object_get_ex(body, "scopes", &v) ? v : NULL, &bad);
	if (!scopes)
		return reply_invalid_field(rq, "scopes", bad);
	/* Without a redirect_uri this server's own callback finishes the flow (the cookie
	 * must then reach /api/v1/auth/). */
	return connect_start(rq, op, "connect", rq->user_id, redirect, scopes, NULL,
			     redirect ? COOKIE_PATH : "/api/v1/auth/", true);
}

/* The body members of the two connect routes (struct route's body_fields); the
 * handlers check their values. */
static const struct field flow_names[] = {
	{"redirect_uri", FIELD_STRING, false, 0, 0, NULL},
	{"scopes", FIELD_ARRAY, false, 0, 0, NULL},
	{NULL, 0, false, 0, 0, NULL},
};
static const struct field type_name[] = {
	{"integration_type", FIELD_STRING, false, 0, 0, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

const struct field *const *generic_connect_body_fields(const struct request *rq)
{
	(void)rq;
	static const struct field *const t[] = {type_name, flow_names, NULL};
	return t;
}

/* An OAuth provider: redirect_uri and scopes; a config provider: its PUT body. */
const struct field *const *type_connect_body_fields(const struct request *rq)
{
	const struct provider *p = provider_find(request_param(rq, "type"));
	if (!p)
		return NULL;
	if (p->auth == PROVIDER_AUTH_OAUTH2) {
		static const struct field *const t[] = {flow_names, NULL};
		return t;
	}
	return integration_body_fields(rq->arena, p, INTEGRATION_BODY_PUT, NULL);
}

/* POST /integrations/connect {integration_type, redirect_uri, scopes}
 * 200 {authorization_url, state, provider, expires_in} | 400 not_oauth | 401 | 409 | 422 | 503 */
int handle_generic_connect(struct request *rq)
{
	struct json_object *v;
	const char *type = NULL;
	if (json_object_object_get_ex(rq->json, "integration_type", &v) && json_object_is_type(v, json_type_string))
		type = json_object_get_string(v);
	if (!type)
		return reply_invalid_field(rq, "integration_type", "is required (a string)");
	const struct oauth_provider *op = oauth_of(rq, type, "integration_type");
	return op ? start_from_body(rq, op, rq->json) : rq->status;
}

/* POST /integrations/{type}/connect (spec 002: "configure integration"): an OAuth
 * provider starts the flow as above; a config provider saves the body as its config. */
int handle_type_connect(struct request *rq)
{
	const struct provider *p = provider_find(request_param(rq, "type"));
	if (!p)
		return reply_error(rq, 404, "not_found", "No such integration type");
	if (p->auth != PROVIDER_AUTH_OAUTH2) {
		if (!rq->json)
			return reply_error(rq, 400, "malformed_json", "A JSON object body with the configuration is required");
		struct provider_call c = {rq->arena, request_actor(rq, rq->user_id), rq->user_id, rq->json, false, NULL};
		struct provider_result r;
		integration_put(p, &c, &r);
		if (r.outcome == PROVIDER_OK && r.data && json_object_is_type(r.data, json_type_object)) {
			struct integration row;
			bool found = false;
			if (integration_load(rq->arena, rq->user_id, p->name, false, &row, &found) != DB_OK)
				found = false;
			integration_identify(r.data, found ? &row : NULL, p->name);
		}
		return reply_result(rq, &r);
	}
	const struct oauth_provider *op = oauth_of(rq, p->name, NULL);
	return op ? start_from_body(rq, op, rq->json) : rq->status;
}

/* A failed callback once the state was valid: audited for its user. Never success. */
static int fail(struct request *rq, const struct oauth_pending *pend, int status, const char *reason,
		const char *message)
{
	if (pend) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "reason", json_object_new_string(reason));
		json_object_object_add(d, "purpose", json_object_new_string("connect"));
		if (audit_record(rq->arena, request_actor(rq, pend->user_id), "integration.connect_failed",
				 pend->provider, d) == DB_UNAVAILABLE)
			log_msg(LOG_WARN, "could not audit a failed %s callback: database unavailable", pend->provider);
	}
	return reply_error(rq, status, reason, message);
}

/* GET /integrations/callback?code&state&integration_type
 * 200 {success: true, integration_id, integration_type, redirect_url, reconnected, account}
 * | 400 state_* / code_missing / token_exchange_refused / the provider's error | 404 |
 * 409 | 502 | 504 | 500 | 503. Every failure is the error envelope (success false). */
int handle_generic_callback(struct request *rq)
{
	const char *type = request_query(rq, "integration_type");
	if (!type || !*type)
		return reply_invalid_field(rq, "integration_type", "is required");
	const struct provider *p = provider_find(type);
	const struct oauth_provider *op = p && p->auth == PROVIDER_AUTH_OAUTH2 ? p->oauth : NULL;
	if (!op)
		return reply_error(rq, 404, "not_found", "No such OAuth integration type");
	enum oauth_state_check check;
	struct oauth_pending pend;
	const char *state = request_query(rq, "state");
	const char *binding = state ? request_cookie(rq, oauth_state_cookie_name(rq->arena, state)) : NULL;
	enum db_status s = oauth_state_consume(rq->arena, state, op->name, binding, &check, &pend);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (check == OAUTH_STATE_OK && strcmp(pend.purpose, "connect")) /* a sign-in never completes here */
		return reply_error(rq, 400, "state_invalid", "This state does not belong to a connection");
	const char *perror = request_query(rq, "error");
	if (perror) {
		if (check == OAUTH_STATE_OK)
			return fail(rq, &pend, 400, "access_denied", "The authorization was not granted at the provider");
		return reply_error(rq, 400, "access_denied", "The authorization was not granted at the provider");
	}
	if (check != OAUTH_STATE_OK)
		return reply_error(rq, 400, oauth_state_reason(check), oauth_state_message(check));
	const char *code = request_query(rq, "code");
	if (!code || !*code || strlen(code) > 2048)
		return fail(rq, &pend, 400, "code_missing", "The provider sent no authorization code");
	if (!oauth_provider_available(op))
		return fail(rq, &pend, 409, "provider_not_configured", "This provider is not configured on this server");
	struct oauth_tokens t;
	const char *reason = NULL;
	int http_status = 502;
	enum oauth_result r =
		oauth_exchange_code(rq->arena, op, code, pend.verifier, pend.redirect_uri, &t, &reason, &http_status);
	if (r == OAUTH_REFUSED)
		return fail(rq, &pend, 400, "token_exchange_refused",
			    arena_printf(rq->arena, "The provider refused the authorization code (%s)", reason));
	if (r != OAUTH_OK)
		return fail(rq, &pend, http_status, http_status == 504 ? "provider_timeout" : "provider_unavailable",
			    reason);
	struct json_object *profile;
	r = oauth_fetch_profile(rq->arena, op, t.access_token, &profile, &reason, &http_status);
	if (r != OAUTH_OK)
		return fail(rq, &pend, http_status == 504 ? 504 : 502,
			    http_status == 504 ? "provider_timeout" : "provider_unavailable", reason);
	bool reconnected, found = false;
	struct integration row;
	s = db_begin(rq->arena);
	if (s == DB_OK)
		s = oauth_connection_store(rq->arena, request_actor(rq, pend.user_id), op, &t, profile, &reconnected);
	if (s == DB_OK)
		s = integration_load(rq->arena, pend.user_id, op->name, false, &row, &found);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK) {
		db_rollback(rq->arena);
		return reply_db_failure(rq, s);
	}
	struct form f;
	form_init(&f, rq->arena);
	form_add(&f, "connected", op->name);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "success", json_object_new_boolean(1));
	json_object_object_add(d, "integration_id", jsonx_string_or_null(found ? row.id : NULL));
	json_object_object_add(d, "integration_type", json_object_new_string(op->name));
	json_object_object_add(
		d, "redirect_url",
		json_object_new_string(url_with_query(
			rq->arena, arena_printf(rq->arena, "%s/settings/integrations", frontend()), &f)));
	json_object_object_add(d, "reconnected", json_object_new_boolean(reconnected));
	json_object_object_add(d, "account", jsonx_string_or_null(jsonx_get_string(profile, "username")));
	json_object_object_add(d, "scopes", oauth_scope_list(t.scope ? t.scope : op->scopes));
	return reply_ok(rq, 200, d, "Connected");
}
