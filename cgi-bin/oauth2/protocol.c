/* The OAuth 2.0 protocol endpoints: token (client_credentials, authorization_code,
 * refresh_token), revoke, introspect, userinfo and the server metadata. Requests are
 * forms, answers RFC JSON.
 *
 * authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.5): the code is single-use and lives
 * 60 seconds; presenting a used one again revokes every token issued from it (and their
 * refreshes). Its tokens are the approving user's ("delegated"), with a refresh token
 * when the user granted offline_access.
 *
 * Refresh tokens: client_credentials issues none by default (RFC 6749 §4.4.3). A client
 * registered with the offline_access scope may ask for it (scope=... offline_access):
 * that grant then also gets a refresh token, so a long-running integration can renew
 * its access without presenting its secret each hour. Refresh tokens rotate on every
 * use; presenting a rotated one again revokes every token of its grant. */
#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>

#include "auth/apikey.h"
#include "auth/oauth_client_store.h"
#include "auth/oauth_code_store.h"
#include "auth/oauth_grant_store.h"
#include "auth/scope.h"
#include "auth/user_store.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "db/db.h"
#include "events/audit.h"
#include "handlers.h"
#include "http/authenticate.h"
#include "http/form.h"
#include "http/reply.h"
#include "http/request.h"

/* The one answer to database trouble at the RFC endpoints (the transaction has ended). */
static int db_failure(struct request *rq, enum db_status s)
{
	if (s == DB_UNAVAILABLE) {
		reply_header(rq, "Retry-After", "5");
		return reply_oauth_error(rq, 503, "temporarily_unavailable",
					 "The database is unavailable; try again shortly");
	}
	return reply_oauth_error(rq, 500, "server_error", "Internal error");
}

/* 200 with the RFC 6749 §5.1 body of what was issued. */
static int reply_tokens(struct request *rq, const struct oauth_issued *t)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "access_token", json_object_new_string(t->access_token));
	json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(o, "expires_in", json_object_new_int64(t->expires_in));
	json_object_object_add(o, "scope", json_object_new_string(t->scopes));
	if (t->refresh_token)
		json_object_object_add(o, "refresh_token", json_object_new_string(t->refresh_token));
	reply_header(rq, "Pragma", "no-cache");
	return reply_json(rq, 200, o);
}

/* The scope parameter checked against what may be granted (granted: space-separated).
 * Returns the normalised set, or NULL after answering 400 invalid_scope. */
static const char *requested_scope(struct request *rq, const char *granted, const char *def)
{
	const char *want = form_value(rq, "scope");
	if (!want)
		return def;
	const char *bad = NULL;
	char *norm = scope_normalise(rq->arena, want, &bad);
	if (!norm || !*norm) {
		reply_oauth_error(rq, 400, "invalid_scope",
				  norm ? "The scope is empty" : "The scope names an unknown scope");
		return NULL;
	}
	/* offline_access is granted only by itself: the hierarchy never implies it. */
	if (!scope_subset(norm, granted)) {
		reply_oauth_error(rq, 400, "invalid_scope", "The scope exceeds what this client may be granted");
		return NULL;
	}
	return norm;
}

static int grant_client_credentials(struct request *rq)
{
	if (rq->public_client)
		return reply_oauth_error(rq, 400, "unauthorized_client",
					 "A public client cannot use client_credentials (RFC 6749 §4.4)");
	/* By default the client's scopes without offline_access: no refresh token unless asked. */
	const char *scopes = requested_scope(rq, rq->scopes, scope_without(rq->arena, rq->scopes, "offline_access"));
	if (!scopes)
		return rq->status;
	bool offline = scope_has(scopes, "offline_access");
	/* The INSERT confirms the client live: it may come from the per-process cache. */
	struct oauth_issue what = {rq->client_id, rq->user_id, NULL, scopes, offline, false, !offline, true};
	struct oauth_issued t;
	enum db_status s;
	if (offline) { /* two rows: access and refresh token together or neither */
		s = db_begin(rq->arena);
		if (s == DB_OK)
			s = oauth_grant_issue(rq->arena, &what, &t);
		s = db_finish(rq->arena, s);
	} else { /* one row, one statement: its own transaction */
		s = oauth_grant_issue(rq->arena, &what, &t);
	}
	if (s != DB_OK)
		return db_failure(rq, s);
	if (!t.access_token) { /* revoked or deleted since this process cached it */
		oauth_client_forget(rq->client_public_id);
		return auth_invalid_client(rq);
	}
	return reply_tokens(rq, &t);
}

bool token_confirms_client(const struct request *rq)
{
	const char *grant = form_value(rq, "grant_type");
	return grant && !strcmp(grant, "client_credentials");
}

static int invalid_grant(struct request *rq)
{
	return reply_oauth_error(rq, 400, "invalid_grant", "The refresh token is invalid, expired or revoked");
}

/* A rotated token came back: someone holds a copy. End the whole grant. */
static enum db_status end_grant(struct request *rq, const struct oauth_refresh *r)
{
	enum db_status s = oauth_grant_revoke(rq->arena, r->grant_id);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "client_id", json_object_new_string(rq->client_public_id));
		s = audit_record(rq->arena, request_actor(rq, rq->user_id), "oauth.refresh_reuse_detected", NULL, d);
	}
	return s;
}

/* Exchanges the live token r for a new pair in its grant, with the scopes want. */
static enum db_status continue_grant(struct request *rq, const struct oauth_refresh *r, const char *want,
				     struct oauth_issued *t)
{
	/* offline_access stays: the new pair continues the grant. */
	if (!scope_has(want, "offline_access"))
		want = arena_printf(rq->arena, "%s offline_access", want);
	struct oauth_issue what = {rq->client_id, r->user_id, r->grant_id, want, true, r->delegated, false};
	enum db_status s = oauth_refresh_rotate(rq->arena, r->id);
	if (s == DB_OK)
		s = oauth_grant_issue(rq->arena, &what, t);
	return s;
}

/* Rotation under the row lock: of two concurrent uses of one token, the second waits,
 * then sees it rotated and is treated as reuse. Another client's token is refused
 * without touching it. A refresh may narrow the scope, never widen it (RFC 6749 §6). */
static int grant_refresh_token(struct request *rq)
{
	const char *token = form_value(rq, "refresh_token");
	if (!token || !*token)
		return reply_oauth_error(rq, 400, "invalid_request", "refresh_token is required");
	if (!apikey_well_formed(token, REFRESH_TOKEN_PREFIX))
		return invalid_grant(rq);
	struct oauth_refresh *r = NULL;
	struct oauth_issued t = {0};
	const char *want = NULL;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = oauth_refresh_lock(rq->arena, token, &r);
	if (s == DB_OK && r && strcmp(r->client_id, rq->client_id))
		r = NULL;
	bool live = s == DB_OK && r && !r->rotated && !r->dead;
	if (s == DB_OK && r && r->rotated)
		s = end_grant(rq, r);
	else if (live && (want = requested_scope(rq, r->scopes, r->scopes)))
		s = continue_grant(rq, r, want, &t);
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return db_failure(rq, s);
	if (t.access_token)
		return reply_tokens(rq, &t);
	if (live)
		return rq->status; /* requested_scope answered invalid_scope */
	return invalid_grant(rq);
}

static struct json_object *client_details(struct request *rq)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "client_id", json_object_new_string(rq->client_public_id));
	return d;
}

/* Why the code k (locked, the caller's client's) cannot be redeemed now, or NULL. */
static const char *code_refusal(struct request *rq, const struct oauth_authorization *k)
{
	const char *redirect = form_value(rq, "redirect_uri"), *verifier = form_value(rq, "code_verifier");
	if (k->expired)
		return "The authorization code is invalid, expired or used";
	/* §4.1.3: required and identical when the authorization request named it. */
	if ((k->redirect_uri_given || redirect) && (!redirect || strcmp(redirect, k->redirect_uri)))
		return "redirect_uri does not match the authorization request";
	if (k->code_challenge && (!verifier || !*verifier))
		return "code_verifier is required: the authorization request had a code_challenge";
	if (k->code_challenge && !oauth_pkce_s256_matches(rq->arena, verifier, k->code_challenge))
		return "code_verifier does not match the code_challenge";
	if (!k->code_challenge && verifier)
		return "code_verifier sent but the authorization request had no code_challenge";
	return NULL;
}

/* The code is locked while it is checked and redeemed, so of two concurrent redemptions
 * the second sees it used: a reuse, which ends the grant issued by the first. */
static int grant_authorization_code(struct request *rq)
{
	const char *code = form_value(rq, "code");
	if (!code || !*code)
		return reply_oauth_error(rq, 400, "invalid_request", "code is required");
	if (!apikey_well_formed(code, AUTH_CODE_PREFIX))
		return reply_oauth_error(rq, 400, "invalid_grant", "The authorization code is invalid, expired or used");
	struct oauth_authorization *k = NULL;
	struct oauth_issued t = {0};
	const char *why = "The authorization code is invalid, expired or used";
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = oauth_code_lock(rq->arena, code, &k);
	/* Another client's code: refused without touching it. */
	if (s == DB_OK && k && strcmp(k->client_id, rq->client_id))
		k = NULL;
	if (s == DB_OK && k && k->used) {
		if (k->grant_id)
			s = oauth_grant_revoke(rq->arena, k->grant_id);
		if (s == DB_OK)
			s = audit_record(rq->arena, request_actor(rq, k->user_id), "oauth.code_reuse_detected", NULL,
					 client_details(rq));
	} else if (s == DB_OK && k && !(why = code_refusal(rq, k))) {
		struct oauth_issue what = {rq->client_id, k->user_id, NULL, k->scopes,
					   scope_has(k->scopes, "offline_access"), true, false};
		s = oauth_grant_issue(rq->arena, &what, &t);
		if (s == DB_OK)
			s = oauth_code_redeem(rq->arena, k->id, t.grant_id);
	}
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return db_failure(rq, s);
	if (t.access_token)
		return reply_tokens(rq, &t);
	return reply_oauth_error(rq, 400, "invalid_grant", why);
}

/* 200 token | 400 invalid_request, invalid_grant, invalid_scope, unauthorized_client,
 * unsupported_grant_type | 401 invalid_client | 429 | 500 | 503 */
int handle_token(struct request *rq)
{
	const char *grant = form_value(rq, "grant_type");
	if (!grant || !*grant)
		return reply_oauth_error(rq, 400, "invalid_request", "grant_type is required");
	if (!strcmp(grant, "client_credentials"))
		return grant_client_credentials(rq);
	if (!strcmp(grant, "authorization_code"))
		return grant_authorization_code(rq);
	if (!strcmp(grant, "refresh_token"))
		return grant_refresh_token(rq);
	return reply_oauth_error(rq, 400, "unsupported_grant_type",
				 "Supported grant types: authorization_code, client_credentials, refresh_token");
}

/* RFC 7009. 200 (also for unknown tokens and other clients' tokens, which stay valid) |
 * 400 invalid_request | 401 invalid_client | 429 | 500 | 503. A refresh token takes its
 * whole grant with it: every access token issued from it. One statement, so no explicit
 * transaction: it is atomic on its own. */
int handle_revoke(struct request *rq)
{
	const char *token = form_value(rq, "token");
	if (!token || !*token)
		return reply_oauth_error(rq, 400, "invalid_request", "token is required");
	enum db_status s = oauth_token_revoke(rq->arena, rq->client_id, token);
	if (s != DB_OK)
		return db_failure(rq, s);
	return reply_raw(rq, 200, "application/json", "{}", 2);
}

const char *oauth2_issuer(struct request *rq)
{
	const char *configured = config_str("SB_PUBLIC_URL", NULL);
	if (configured)
		return configured;
	const char *host = request_header(rq, "host");
	return arena_printf(rq->arena, "%s://%s", rq->https ? "https" : "http", host ? host : "localhost");
}

/* RFC 7662. 200 {"active": ...} | 400 invalid_request | 401 invalid_client | 429 | 500 | 503.
 * A client learns only about its own tokens: anything else is {"active": false}. */
int handle_introspect(struct request *rq)
{
	/* Introspection is for resource servers: a client that can keep a secret. */
	if (rq->public_client) {
		reply_header(rq, "WWW-Authenticate", "Basic realm=\"switchboard\"");
		return reply_oauth_error(rq, 401, "invalid_client", "A public client cannot introspect tokens");
	}
	const char *token = form_value(rq, "token");
	if (!token || !*token)
		return reply_oauth_error(rq, 400, "invalid_request", "token is required");
	struct oauth_token_info *i;
	enum db_status s = oauth_token_introspect(rq->arena, rq->client_id, token, &i);
	if (s != DB_OK)
		return db_failure(rq, s);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "active", json_object_new_boolean(i != NULL));
	if (i) {
		json_object_object_add(o, "scope", json_object_new_string(i->scope));
		json_object_object_add(o, "client_id", json_object_new_string(rq->client_public_id));
		json_object_object_add(o, "token_type", json_object_new_string(i->token_type));
		json_object_object_add(o, "exp", json_object_new_int64(i->exp));
		json_object_object_add(o, "iat", json_object_new_int64(i->iat));
		json_object_object_add(o, "sub", json_object_new_string(i->sub));
		if (i->username)
			json_object_object_add(o, "username", json_object_new_string(i->username));
		json_object_object_add(o, "iss", json_object_new_string(oauth2_issuer(rq)));
	}
	return reply_json(rq, 200, o);
}

/* 200 {sub, email, name, updated_at} | 401 invalid_token | 403 | 429 | 500 | 503 */
int handle_userinfo(struct request *rq)
{
	struct user *u;
	enum db_status s = user_store_by_id(rq->arena, rq->user_id, &u);
	if (s != DB_OK)
		return db_failure(rq, s);
	if (!u)
		return reply_unauthorized_oauth(rq, "The account no longer exists", 1);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "sub", json_object_new_string(u->id));
	json_object_object_add(o, "email", jsonx_string_or_null(u->email));
	json_object_object_add(o, "name", json_object_new_string(u->name));
	json_object_object_add(o, "updated_at", json_object_new_int64(u->updated_epoch));
	return reply_json(rq, 200, o);
}

static struct json_object *string_array(const char *const *items)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; items[i]; i++)
		json_object_array_add(a, json_object_new_string(items[i]));
	return a;
}

/* RFC 8414 metadata. 200 */
int handle_metadata(struct request *rq)
{
	static const char *const grants[] = {"authorization_code", "client_credentials", "refresh_token", NULL};
	static const char *const auth_methods[] = {"client_secret_basic", "client_secret_post", NULL};
	/* "none": public clients, by client_id alone (with PKCE). */
	static const char *const token_auth_methods[] = {"client_secret_basic", "client_secret_post", "none", NULL};
	static const char *const code[] = {"code", NULL};
	static const char *const s256[] = {"S256", NULL};
	const char *iss = oauth2_issuer(rq);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "issuer", json_object_new_string(iss));
	json_object_object_add(o, "authorization_endpoint",
			       json_object_new_string(arena_printf(rq->arena, "%s/api/v1/oauth/authorize", iss)));
	json_object_object_add(o, "token_endpoint",
			       json_object_new_string(arena_printf(rq->arena, "%s/api/v1/oauth/token", iss)));
	json_object_object_add(o, "revocation_endpoint",
			       json_object_new_string(arena_printf(rq->arena, "%s/api/v1/oauth/revoke", iss)));
	json_object_object_add(o, "introspection_endpoint",
			       json_object_new_string(arena_printf(rq->arena, "%s/api/v1/oauth/introspect", iss)));
	json_object_object_add(o, "userinfo_endpoint",
			       json_object_new_string(arena_printf(rq->arena, "%s/api/v1/oauth/userinfo", iss)));
	json_object_object_add(o, "service_documentation",
			       json_object_new_string(arena_printf(rq->arena, "%s/api/docs/", iss)));
	json_object_object_add(o, "grant_types_supported", string_array(grants));
	json_object_object_add(o, "response_types_supported", string_array(code));
	json_object_object_add(o, "response_modes_supported", string_array((const char *const[]){"query", NULL}));
	json_object_object_add(o, "code_challenge_methods_supported", string_array(s256));
	/* RFC 9207: every authorization response names us, against mix-up attacks. */
	json_object_object_add(o, "authorization_response_iss_parameter_supported", json_object_new_boolean(1));
	json_object_object_add(o, "token_endpoint_auth_methods_supported", string_array(token_auth_methods));
	json_object_object_add(o, "revocation_endpoint_auth_methods_supported", string_array(token_auth_methods));
	json_object_object_add(o, "introspection_endpoint_auth_methods_supported", string_array(auth_methods));
	json_object_object_add(o, "scopes_supported", string_array(scope_names));
	return reply_json(rq, 200, o);
}
