/* The OAuth 2.0 protocol endpoints: token (client_credentials, refresh_token), revoke,
 * introspect, userinfo and the server metadata. Requests are forms, answers RFC JSON.
 *
 * Refresh tokens: client_credentials issues none by default (RFC 6749 §4.4.3). A client
 * registered with the offline_access scope may ask for it (scope=... offline_access):
 * that grant then also gets a refresh token, so a long-running integration can renew
 * its access without presenting its secret each hour. Refresh tokens rotate on every
 * use; presenting a rotated one again revokes every token of its grant. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/apikey.h"
#include "auth/scope.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "db/db.h"
#include "events/audit.h"
#include "handlers.h"
#include "http/form.h"
#include "http/reply.h"
#include "http/request.h"

long oauth_access_ttl(void)
{
	return config_int("SB_OAUTH_ACCESS_TOKEN_TTL", 3600, 30, 86400);
}

long oauth_refresh_ttl(void)
{
	return config_int("SB_OAUTH_REFRESH_TOKEN_TTL", 30L * 86400, 60, 365L * 86400);
}

static int db_failure(struct request *rq, enum db_status s)
{
	db_rollback(rq->arena);
	if (s == DB_UNAVAILABLE) {
		reply_header(rq, "Retry-After", "5");
		return reply_oauth_error(rq, 503, "temporarily_unavailable",
					 "The database is unavailable; try again shortly");
	}
	return reply_oauth_error(rq, 500, "server_error", "Internal error");
}

static bool has_word(const char *set, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = set; (p = strstr(p, word)); p += n)
		if ((p == set || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

/* Issues an access token (and a refresh token when offline) for the client of rq in
 * grant_id (NULL: a new grant), inside the caller's transaction, commits, and answers
 * 200 with the RFC 6749 §5.1 body. */
static int issue(struct request *rq, const char *grant_id, const char *scopes, bool offline)
{
	char *access = apikey_generate(rq->arena, ACCESS_TOKEN_PREFIX);
	char *refresh = offline ? apikey_generate(rq->arena, REFRESH_TOKEN_PREFIX) : NULL;
	if (!access || (offline && !refresh)) {
		db_rollback(rq->arena);
		return reply_oauth_error(rq, 500, "server_error", "Internal error");
	}
	char attl[24], rttl[24];
	snprintf(attl, sizeof(attl), "%ld", oauth_access_ttl());
	snprintf(rttl, sizeof(rttl), "%ld", oauth_refresh_ttl());
	const char *p[] = {crypto_sha256_hex(rq->arena, access, strlen(access)),
			   rq->client_id,
			   rq->user_id,
			   grant_id,
			   scopes,
			   attl};
	PGresult *res;
	enum db_status s = db_exec(
		rq->arena, &res,
		"INSERT INTO oauth_access_tokens (token_hash, client_id, user_id, grant_id, scopes, expires_at) "
		"VALUES ($1, $2, $3, coalesce($4::uuid, gen_random_uuid()), string_to_array($5, ' '), "
		"now() + make_interval(secs => $6::int)) RETURNING id, grant_id",
		6, p);
	if (s == DB_OK && offline) {
		const char *rp[] = {crypto_sha256_hex(rq->arena, refresh, strlen(refresh)),
				    rq->client_id,
				    rq->user_id,
				    PQgetvalue(res, 0, 1),
				    PQgetvalue(res, 0, 0),
				    scopes,
				    rttl};
		s = db_exec(
			rq->arena, NULL,
			"INSERT INTO oauth_refresh_tokens (token_hash, client_id, user_id, grant_id, access_token_id, "
			"scopes, expires_at) VALUES ($1, $2, $3, $4, $5, string_to_array($6, ' '), "
			"now() + make_interval(secs => $7::int))",
			7, rp);
	}
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return db_failure(rq, s);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "access_token", json_object_new_string(access));
	json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(o, "expires_in", json_object_new_int64(oauth_access_ttl()));
	json_object_object_add(o, "scope", json_object_new_string(scopes));
	if (refresh)
		json_object_object_add(o, "refresh_token", json_object_new_string(refresh));
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

/* The client's scopes without offline_access: the default grant asks for no refresh token. */
static char *default_scope(struct request *rq)
{
	char *out = arena_strdup(rq->arena, "");
	char *copy = arena_strdup(rq->arena, rq->scopes), *save = NULL;
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (strcmp(w, "offline_access"))
			out = arena_printf(rq->arena, "%s%s%s", out, *out ? " " : "", w);
	return out;
}

static int grant_client_credentials(struct request *rq)
{
	const char *scopes = requested_scope(rq, rq->scopes, default_scope(rq));
	if (!scopes)
		return rq->status;
	enum db_status s = db_begin(rq->arena);
	if (s != DB_OK)
		return db_failure(rq, s);
	return issue(rq, NULL, scopes, has_word(scopes, "offline_access"));
}

static int invalid_grant(struct request *rq)
{
	return reply_oauth_error(rq, 400, "invalid_grant", "The refresh token is invalid, expired or revoked");
}

/* Rotation under the row lock: of two concurrent uses of one token, the second waits,
 * then sees it rotated and is treated as reuse. */
static int grant_refresh_token(struct request *rq)
{
	const char *token = form_value(rq, "refresh_token");
	if (!token || !*token)
		return reply_oauth_error(rq, 400, "invalid_request", "refresh_token is required");
	if (!apikey_well_formed(token, REFRESH_TOKEN_PREFIX))
		return invalid_grant(rq);
	const char *p[] = {crypto_sha256_hex(rq->arena, token, strlen(token))};
	PGresult *res;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(rq->arena, &res,
			    "SELECT id, client_id, grant_id, array_to_string(scopes, ' '), rotated_at IS NOT NULL, "
			    "revoked_at IS NOT NULL OR expires_at <= now() FROM oauth_refresh_tokens "
			    "WHERE token_hash = $1 FOR UPDATE",
			    1, p);
	if (s != DB_OK)
		return db_failure(rq, s);
	/* Another client's token is refused without touching it. */
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 1), rq->client_id)) {
		db_rollback(rq->arena);
		return invalid_grant(rq);
	}
	const char *id = PQgetvalue(res, 0, 0), *grant = PQgetvalue(res, 0, 2), *scopes = PQgetvalue(res, 0, 3);
	if (PQgetvalue(res, 0, 4)[0] == 't') {
		/* A rotated token came back: someone holds a copy. End the whole grant. */
		const char *gp[] = {grant};
		s = db_exec(
			rq->arena, NULL,
			"UPDATE oauth_refresh_tokens SET revoked_at = now() WHERE grant_id = $1 AND revoked_at IS NULL",
			1, gp);
		if (s == DB_OK)
			s = db_exec(rq->arena, NULL,
				    "UPDATE oauth_access_tokens SET revoked_at = now() WHERE grant_id = $1 AND "
				    "revoked_at IS NULL",
				    1, gp);
		if (s == DB_OK) {
			struct json_object *d = json_object_new_object();
			json_object_object_add(d, "client_id", json_object_new_string(rq->client_public_id));
			s = audit_record(rq->arena, request_actor(rq, rq->user_id), "oauth.refresh_reuse_detected",
					 NULL, d);
		}
		if (s == DB_OK)
			s = db_commit(rq->arena);
		if (s != DB_OK)
			return db_failure(rq, s);
		return invalid_grant(rq);
	}
	if (PQgetvalue(res, 0, 5)[0] == 't') {
		db_rollback(rq->arena);
		return invalid_grant(rq);
	}
	/* A refresh may narrow the scope, never widen it (RFC 6749 §6). offline_access stays:
	 * the new pair continues the grant. */
	const char *want = requested_scope(rq, scopes, scopes);
	if (!want) {
		db_rollback(rq->arena);
		return rq->status;
	}
	if (!has_word(want, "offline_access"))
		want = arena_printf(rq->arena, "%s offline_access", want);
	const char *ip[] = {id};
	s = db_exec(rq->arena, NULL, "UPDATE oauth_refresh_tokens SET rotated_at = now() WHERE id = $1", 1, ip);
	if (s != DB_OK)
		return db_failure(rq, s);
	return issue(rq, grant, want, true);
}

/* 200 token | 400 invalid_request, invalid_grant, invalid_scope, unsupported_grant_type |
 * 401 invalid_client | 429 | 500 | 503 */
int handle_token(struct request *rq)
{
	const char *grant = form_value(rq, "grant_type");
	if (!grant || !*grant)
		return reply_oauth_error(rq, 400, "invalid_request", "grant_type is required");
	if (!strcmp(grant, "client_credentials"))
		return grant_client_credentials(rq);
	if (!strcmp(grant, "refresh_token"))
		return grant_refresh_token(rq);
	return reply_oauth_error(rq, 400, "unsupported_grant_type",
				 "Supported grant types: client_credentials, refresh_token");
}

/* RFC 7009. 200 (also for unknown tokens and other clients' tokens, which stay valid) |
 * 400 invalid_request | 401 invalid_client | 429 | 500 | 503. A refresh token takes its
 * whole grant with it: every access token issued from it. */
int handle_revoke(struct request *rq)
{
	const char *token = form_value(rq, "token");
	if (!token || !*token)
		return reply_oauth_error(rq, 400, "invalid_request", "token is required");
	const char *p[] = {crypto_sha256_hex(rq->arena, token, strlen(token)), rq->client_id};
	enum db_status s = db_exec(
		rq->arena, NULL,
		"WITH rt AS (SELECT grant_id FROM oauth_refresh_tokens WHERE token_hash = $1 AND client_id = $2), "
		"r AS (UPDATE oauth_refresh_tokens SET revoked_at = now() "
		"      WHERE grant_id IN (SELECT grant_id FROM rt) AND client_id = $2 AND revoked_at IS NULL RETURNING "
		"1), "
		"a AS (UPDATE oauth_access_tokens SET revoked_at = now() WHERE client_id = $2 AND revoked_at IS NULL "
		"      AND (token_hash = $1 OR grant_id IN (SELECT grant_id FROM rt)) RETURNING 1) "
		"SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM a)",
		2, p);
	if (s != DB_OK)
		return db_failure(rq, s);
	return reply_raw(rq, 200, "application/json", "{}", 2);
}

static const char *issuer(struct request *rq)
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
	const char *token = form_value(rq, "token");
	if (!token || !*token)
		return reply_oauth_error(rq, 400, "invalid_request", "token is required");
	const char *p[] = {crypto_sha256_hex(rq->arena, token, strlen(token)), rq->client_id};
	PGresult *res;
	enum db_status s = db_exec(
		rq->arena, &res,
		"SELECT 'Bearer', array_to_string(t.scopes, ' '), extract(epoch FROM t.expires_at)::bigint, "
		"  extract(epoch FROM t.created_at)::bigint, t.user_id, u.email "
		"FROM oauth_access_tokens t JOIN users u ON u.id = t.user_id JOIN api_clients c ON c.id = t.client_id "
		"WHERE t.token_hash = $1 AND t.client_id = $2 AND t.revoked_at IS NULL AND t.expires_at > now() "
		"  AND c.revoked_at IS NULL "
		"UNION ALL "
		"SELECT 'refresh_token', array_to_string(t.scopes, ' '), extract(epoch FROM t.expires_at)::bigint, "
		"  extract(epoch FROM t.created_at)::bigint, t.user_id, u.email "
		"FROM oauth_refresh_tokens t JOIN users u ON u.id = t.user_id JOIN api_clients c ON c.id = t.client_id "
		"WHERE t.token_hash = $1 AND t.client_id = $2 AND t.revoked_at IS NULL AND t.rotated_at IS NULL "
		"  AND t.expires_at > now() AND c.revoked_at IS NULL",
		2, p);
	if (s != DB_OK)
		return db_failure(rq, s);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "active", json_object_new_boolean(PQntuples(res) == 1));
	if (PQntuples(res) == 1) {
		json_object_object_add(o, "scope", json_object_new_string(PQgetvalue(res, 0, 1)));
		json_object_object_add(o, "client_id", json_object_new_string(rq->client_public_id));
		json_object_object_add(o, "token_type", json_object_new_string(PQgetvalue(res, 0, 0)));
		json_object_object_add(o, "exp", json_object_new_int64(atoll(PQgetvalue(res, 0, 2))));
		json_object_object_add(o, "iat", json_object_new_int64(atoll(PQgetvalue(res, 0, 3))));
		json_object_object_add(o, "sub", json_object_new_string(PQgetvalue(res, 0, 4)));
		if (!PQgetisnull(res, 0, 5))
			json_object_object_add(o, "username", json_object_new_string(PQgetvalue(res, 0, 5)));
		json_object_object_add(o, "iss", json_object_new_string(issuer(rq)));
	}
	return reply_json(rq, 200, o);
}

/* 200 {sub, email, name} | 401 invalid_token | 403 | 429 | 500 | 503 */
int handle_userinfo(struct request *rq)
{
	const char *p[] = {rq->user_id};
	PGresult *res;
	enum db_status s = db_exec(
		rq->arena, &res,
		"SELECT id, email, name, extract(epoch FROM updated_at)::bigint FROM users WHERE id = $1", 1, p);
	if (s != DB_OK)
		return db_failure(rq, s);
	if (PQntuples(res) != 1)
		return reply_unauthorized_oauth(rq, "The account no longer exists", 1);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "sub", json_object_new_string(PQgetvalue(res, 0, 0)));
	json_object_object_add(o, "email", jsonx_string_or_null(db_value(res, 0, 1)));
	json_object_object_add(o, "name", json_object_new_string(PQgetvalue(res, 0, 2)));
	json_object_object_add(o, "updated_at", json_object_new_int64(atoll(PQgetvalue(res, 0, 3))));
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
	static const char *const grants[] = {"client_credentials", "refresh_token", NULL};
	static const char *const auth_methods[] = {"client_secret_basic", "client_secret_post", NULL};
	static const char *const none[] = {NULL};
	const char *iss = issuer(rq);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "issuer", json_object_new_string(iss));
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
	/* No authorization endpoint: no response type is supported. */
	json_object_object_add(o, "response_types_supported", string_array(none));
	json_object_object_add(o, "token_endpoint_auth_methods_supported", string_array(auth_methods));
	json_object_object_add(o, "revocation_endpoint_auth_methods_supported", string_array(auth_methods));
	json_object_object_add(o, "introspection_endpoint_auth_methods_supported", string_array(auth_methods));
	json_object_object_add(o, "scopes_supported", string_array(scope_names));
	return reply_json(rq, 200, o);
}
