/* Bearer authentication; see auth.h. */
#include "http/authenticate.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/apikey.h"
#include "auth/scope.h"
#include "auth/token.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "db/db.h"
#include "http/form.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/router.h"

int auth_is_uuid(const char *s)
{
	static const int dash[] = {8, 13, 18, 23};
	if (!s || strlen(s) != 36)
		return 0;
	for (int i = 0, d = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return 0;
			d++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/* A host-platform identity maps to one user row, created on first sight. The email is
 * kept only when no other account uses it: a host token never takes over an account. */
static int host_user(struct request *rq, const struct token_claims *c, const char **user_id)
{
	static const char sql[] = "WITH found AS (SELECT id FROM users WHERE external_subject = $1), "
				  "ins AS (INSERT INTO users (external_subject, email, name) "
				  "  SELECT $1, CASE WHEN $2::text IS NULL OR EXISTS (SELECT 1 FROM users WHERE "
				  "lower(email) = lower($2)) "
				  "  THEN NULL ELSE $2 END, coalesce(left($3, 100), '') "
				  "  WHERE NOT EXISTS (SELECT 1 FROM found) ON CONFLICT DO NOTHING RETURNING id) "
				  "SELECT id FROM found UNION ALL SELECT id FROM ins";
	const char *p[] = {c->sub, c->email, c->name};
	for (int attempt = 0; attempt < 2; attempt++) {
		PGresult *r;
		enum db_status s = db_exec(rq->arena, &r, sql, 3, p);
		if (s == DB_UNAVAILABLE)
			return reply_db_unavailable(rq);
		if (s != DB_OK)
			return reply_internal(rq);
		if (PQntuples(r) > 0) {
			*user_id = PQgetvalue(r, 0, 0);
			return 0;
		}
		/* Lost a race with a concurrent first request: the row exists now. */
	}
	return reply_internal(rq);
}

/* 401 in the route's format. */
static int unauthorized(struct request *rq, const char *message, int token_was_sent)
{
	if (rq->route && rq->route->errors == ERRORS_OAUTH)
		return reply_unauthorized_oauth(rq, message, token_was_sent);
	return reply_unauthorized(rq, message, token_was_sent);
}

static int db_trouble(struct request *rq, enum db_status s)
{
	return s == DB_UNAVAILABLE ? reply_db_unavailable(rq) : reply_internal(rq);
}

/* An API key: its owner, its scopes, its limit. Revoked and unknown keys are one answer. */
static int auth_api_key(struct request *rq, const char *key)
{
	if (!apikey_well_formed(key, APIKEY_PREFIX))
		return unauthorized(rq, "The API key is invalid", 1);
	const char *p[] = {crypto_sha256_hex(rq->arena, key, strlen(key))};
	PGresult *res;
	enum db_status s = db_exec(rq->arena, &res,
				   "SELECT id, user_id, array_to_string(scopes, ' '), rate_limit_per_hour, "
				   "expires_at IS NOT NULL AND expires_at <= now() "
				   "FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
				   1, p);
	if (s != DB_OK)
		return db_trouble(rq, s);
	if (PQntuples(res) != 1)
		return unauthorized(rq, "The API key is invalid or revoked", 1);
	if (PQgetvalue(res, 0, 4)[0] == 't')
		return unauthorized(rq, "The API key has expired", 1);
	rq->auth_kind = AUTH_API_KEY;
	rq->api_key_id = PQgetvalue(res, 0, 0);
	rq->user_id = PQgetvalue(res, 0, 1);
	rq->scopes = PQgetvalue(res, 0, 2);
	rq->rate_limit = atol(PQgetvalue(res, 0, 3));
	return 0;
}

/* An opaque OAuth access token of an active client. */
static int auth_access_token(struct request *rq, const char *token)
{
	if (!apikey_well_formed(token, ACCESS_TOKEN_PREFIX))
		return unauthorized(rq, "The access token is invalid", 1);
	const char *p[] = {crypto_sha256_hex(rq->arena, token, strlen(token))};
	PGresult *res;
	enum db_status s = db_exec(rq->arena, &res,
				   "SELECT t.id, t.user_id, array_to_string(t.scopes, ' '), c.id, c.client_id, "
				   "c.rate_limit_per_hour, t.expires_at <= now() "
				   "FROM oauth_access_tokens t JOIN api_clients c ON c.id = t.client_id "
				   "WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND c.revoked_at IS NULL",
				   1, p);
	if (s != DB_OK)
		return db_trouble(rq, s);
	if (PQntuples(res) != 1)
		return unauthorized(rq, "The access token is invalid or revoked", 1);
	if (PQgetvalue(res, 0, 6)[0] == 't')
		return unauthorized(rq, "The access token has expired", 1);
	rq->auth_kind = AUTH_OAUTH_TOKEN;
	rq->token_id = PQgetvalue(res, 0, 0);
	rq->user_id = PQgetvalue(res, 0, 1);
	rq->scopes = PQgetvalue(res, 0, 2);
	rq->client_id = PQgetvalue(res, 0, 3);
	rq->client_public_id = PQgetvalue(res, 0, 4);
	rq->rate_limit = atol(PQgetvalue(res, 0, 5));
	return 0;
}

int auth_require_user(struct request *rq)
{
	const char *h = request_header(rq, "authorization");
	const char *key = request_header(rq, "x-api-key");
	if (key && h && *h)
		return unauthorized(rq, "Send either X-API-Key or Authorization, not both", 1);
	if (key)
		return auth_api_key(rq, key);
	if (!h || !*h)
		return unauthorized(rq, "Authentication required", 0);
	if (strncasecmp(h, "Bearer ", 7) || !h[7])
		return unauthorized(rq, "Use an Authorization: Bearer token", 1);
	const char *t = h + 7;
	if (!strncmp(t, APIKEY_PREFIX, strlen(APIKEY_PREFIX)))
		return auth_api_key(rq, t);
	if (!strncmp(t, ACCESS_TOKEN_PREFIX, strlen(ACCESS_TOKEN_PREFIX)))
		return auth_access_token(rq, t);
	struct token_claims c;
	enum token_error e = token_verify(rq->arena, t, time(NULL), &c);
	if (e != TOKEN_OK)
		return unauthorized(rq, token_error_message(e), 1);
	if (c.issuer == TOKEN_HOST) {
		int st = host_user(rq, &c, &rq->user_id);
		if (!st)
			rq->auth_kind = AUTH_JWT;
		return st;
	}
	if (!auth_is_uuid(c.sub))
		return unauthorized(rq, token_error_message(TOKEN_BAD_CLAIMS), 1);
	rq->user_id = c.sub;
	rq->auth_kind = AUTH_JWT;
	rq->scopes = NULL;
	return 0;
}

int auth_require_scope(struct request *rq, const char *scope)
{
	if (scope_allows(rq->scopes, scope))
		return 0;
	return reply_insufficient_scope(rq, scope, rq->route && rq->route->errors == ERRORS_OAUTH);
}

static int invalid_client(struct request *rq, const char *message)
{
	reply_header(rq, "WWW-Authenticate", "Basic realm=\"switchboard\"");
	return reply_oauth_error(rq, 401, "invalid_client", message);
}

int auth_require_client(struct request *rq)
{
	const char *user = NULL, *pass = NULL;
	int basic = basic_auth_parse(rq->arena, request_header(rq, "authorization"), &user, &pass);
	if (basic < 0)
		return invalid_client(rq, "Malformed Basic credentials");
	const char *fid = form_value(rq, "client_id"), *fsecret = form_value(rq, "client_secret");
	if (basic > 0 && fsecret)
		return reply_oauth_error(rq, 400, "invalid_request", "Use one client authentication method, not two");
	if (basic > 0) {
		/* client_id may repeat in the form (public clients send it); it must agree. */
		if (fid && strcmp(fid, user))
			return reply_oauth_error(rq, 400, "invalid_request",
						 "client_id does not match the credentials");
	} else {
		if (!fid || !fsecret)
			return invalid_client(
				rq, "Client authentication required (HTTP Basic or client_id and client_secret)");
		user = fid;
		pass = fsecret;
	}
	const char *p[] = {user};
	PGresult *res;
	enum db_status s =
		db_exec(rq->arena, &res,
			"SELECT id, user_id, client_secret_hash, array_to_string(scopes, ' '), rate_limit_per_hour "
			"FROM api_clients WHERE client_id = $1 AND revoked_at IS NULL",
			1, p);
	if (s != DB_OK)
		return db_trouble(rq, s);
	/* Hash and compare even for an unknown client, so timing does not tell which ids exist. */
	const char *stored = PQntuples(res) == 1 ? PQgetvalue(res, 0, 2)
						 : "0000000000000000000000000000000000000000000000000000000000000000";
	const char *given = crypto_sha256_hex(rq->arena, pass, strlen(pass));
	bool ok = crypto_str_equal(given, stored) && PQntuples(res) == 1;
	if (!ok)
		return invalid_client(rq, "Unknown client or wrong secret");
	rq->auth_kind = AUTH_OAUTH_CLIENT;
	rq->client_id = PQgetvalue(res, 0, 0);
	rq->client_public_id = arena_strdup(rq->arena, user);
	rq->user_id = PQgetvalue(res, 0, 1);
	rq->scopes = PQgetvalue(res, 0, 3);
	rq->rate_limit = atol(PQgetvalue(res, 0, 4));
	return 0;
}
