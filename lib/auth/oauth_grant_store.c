/* Our OAuth2 provider's tokens; see oauth_grant_store.h. */
#include "auth/oauth_grant_store.h"

#include <stdlib.h>
#include <string.h>

#include "auth/apikey.h"
#include "auth/credential.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"

long oauth_access_ttl(void)
{
	return config_int("SB_OAUTH_ACCESS_TOKEN_TTL", 3600, 30, 86400);
}

long oauth_refresh_ttl(void)
{
	return config_int("SB_OAUTH_REFRESH_TOKEN_TTL", 30L * 86400, 60, 365L * 86400);
}

static const char *hash_of(struct arena *a, const char *token)
{
	return crypto_sha256_hex(a, token, strlen(token));
}

/* Stores the refresh token of the access token id in grant. */
static enum db_status insert_refresh(struct arena *a, const struct oauth_issue *what, const char *token,
				     const char *access_id, const char *grant)
{
	const char *p[] = {hash_of(a, token),
			   what->client_id,
			   what->user_id,
			   grant,
			   access_id,
			   what->scopes,
			   arena_printf(a, "%ld", oauth_refresh_ttl()),
			   what->delegated ? "t" : "f"};
	return db_exec(a, NULL,
		       "INSERT INTO oauth_refresh_tokens (token_hash, client_id, user_id, grant_id, access_token_id, "
		       "scopes, expires_at, delegated) VALUES ($1, $2, $3, $4, $5, string_to_array($6, ' '), "
		       "now() + make_interval(secs => $7::int), $8)",
		       8, p);
}

#define ACCESS_INSERT                                                                                 \
	"INSERT INTO oauth_access_tokens (token_hash, client_id, user_id, grant_id, scopes, expires_at, " \
	"delegated) "
#define ACCESS_VALUES                                                                                   \
	"$1, $2, $3, coalesce($4::uuid, gen_random_uuid()), string_to_array($5, ' '), now() + " \
	"make_interval(secs => $6::int), $7"
/* The client's row, live: no row, no token. */
#define ACCESS_LIVE_CLIENT " WHERE c.id = $2 AND c.revoked_at IS NULL"

/* The access token's row (p: its 7 parameters); *res has its id and grant_id. */
static enum db_status insert_access(struct arena *a, const struct oauth_issue *what, bool with_refresh,
				    const char *const *p, PGresult **res)
{
	/* A token its holder can have again at once commits asynchronously (db.h says why). */
	if (what->reobtainable && !with_refresh)
		return db_exec_async_commit(
			a, res,
			what->confirm_client
				? ACCESS_INSERT "SELECT " ACCESS_VALUES " FROM api_clients c, " DB_ASYNC_COMMIT_FROM
						ACCESS_LIVE_CLIENT " RETURNING id, grant_id"
				: ACCESS_INSERT "SELECT " ACCESS_VALUES " FROM " DB_ASYNC_COMMIT_FROM " RETURNING id, grant_id",
			7, p);
	return db_exec(a, res,
		       what->confirm_client
			       ? ACCESS_INSERT "SELECT " ACCESS_VALUES " FROM api_clients c" ACCESS_LIVE_CLIENT
					       " RETURNING id, grant_id"
			       : ACCESS_INSERT "VALUES (" ACCESS_VALUES ") RETURNING id, grant_id",
		       7, p);
}

enum db_status oauth_grant_issue(struct arena *a, const struct oauth_issue *what, struct oauth_issued *out)
{
	memset(out, 0, sizeof(*out));
	char *access = apikey_generate(a, ACCESS_TOKEN_PREFIX);
	char *refresh = what->offline ? apikey_generate(a, REFRESH_TOKEN_PREFIX) : NULL;
	if (!access || (what->offline && !refresh))
		return DB_ERROR;
	long ttl = oauth_access_ttl();
	const char *p[] = {hash_of(a, access), what->client_id, what->user_id,
			   what->grant_id,     what->scopes,	arena_printf(a, "%ld", ttl),
			   what->delegated ? "t" : "f"};
	PGresult *res;
	enum db_status s = insert_access(a, what, refresh != NULL, p, &res);
	if (s == DB_OK && what->confirm_client && PQntuples(res) != 1)
		return DB_OK; /* the client is gone: nothing issued */
	if (s == DB_OK && refresh)
		s = insert_refresh(a, what, refresh, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	if (s != DB_OK)
		return s;
	out->access_token = access;
	out->refresh_token = refresh;
	out->scopes = what->scopes;
	out->grant_id = PQgetvalue(res, 0, 1);
	out->expires_in = ttl;
	return DB_OK;
}

enum db_status oauth_refresh_lock(struct arena *a, const char *token, struct oauth_refresh **out)
{
	const char *p[] = {hash_of(a, token)};
	PGresult *res;
	*out = NULL;
	enum db_status s =
		db_exec(a, &res,
			"SELECT id, client_id, grant_id, array_to_string(scopes, ' '), rotated_at IS NOT NULL, "
			"revoked_at IS NOT NULL OR expires_at <= now(), user_id, delegated FROM oauth_refresh_tokens "
			"WHERE token_hash = $1 FOR UPDATE",
			1, p);
	if (s != DB_OK || PQntuples(res) != 1)
		return s;
	struct oauth_refresh *r = arena_alloc(a, sizeof(*r));
	if (!r)
		return DB_ERROR;
	r->id = PQgetvalue(res, 0, 0);
	r->client_id = PQgetvalue(res, 0, 1);
	r->grant_id = PQgetvalue(res, 0, 2);
	r->scopes = PQgetvalue(res, 0, 3);
	r->rotated = PQgetvalue(res, 0, 4)[0] == 't';
	r->dead = PQgetvalue(res, 0, 5)[0] == 't';
	r->user_id = PQgetvalue(res, 0, 6);
	r->delegated = PQgetvalue(res, 0, 7)[0] == 't';
	*out = r;
	return DB_OK;
}

enum db_status oauth_refresh_rotate(struct arena *a, const char *id)
{
	const char *p[] = {id};
	return db_exec(a, NULL, "UPDATE oauth_refresh_tokens SET rotated_at = now() WHERE id = $1", 1, p);
}

enum db_status oauth_grant_revoke(struct arena *a, const char *grant_id)
{
	const char *p[] = {grant_id};
	enum db_status s = db_exec(
		a, NULL,
		"UPDATE oauth_refresh_tokens SET revoked_at = now() WHERE grant_id = $1 AND revoked_at IS NULL", 1, p);
	if (s == DB_OK)
		s = db_exec(
			a, NULL,
			"UPDATE oauth_access_tokens SET revoked_at = now() WHERE grant_id = $1 AND revoked_at IS NULL",
			1, p);
	return s;
}

enum db_status oauth_token_revoke(struct arena *a, const char *client_id, const char *token)
{
	const char *p[] = {hash_of(a, token), client_id};
	return db_exec(
		a, NULL,
		"WITH rt AS (SELECT grant_id FROM oauth_refresh_tokens WHERE token_hash = $1 AND client_id = $2), "
		"r AS (UPDATE oauth_refresh_tokens SET revoked_at = now() "
		"      WHERE grant_id IN (SELECT grant_id FROM rt) AND client_id = $2 AND revoked_at IS NULL "
		"      RETURNING 1), "
		"a AS (UPDATE oauth_access_tokens SET revoked_at = now() WHERE client_id = $2 AND revoked_at IS NULL "
		"      AND (token_hash = $1 OR grant_id IN (SELECT grant_id FROM rt)) RETURNING 1) "
		"SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM a)",
		2, p);
}

/* The columns of one live token of kind table, as the introspection answer reads them. */
#define TOKEN_INFO(kind, table, extra)                                                                  \
	"SELECT '" kind "', array_to_string(t.scopes, ' '), extract(epoch FROM t.expires_at)::bigint, " \
	"  extract(epoch FROM t.created_at)::bigint, t.user_id, u.email "                               \
	"FROM " table " t JOIN users u ON u.id = t.user_id JOIN api_clients c ON c.id = t.client_id "   \
	"WHERE t.token_hash = $1 AND t.client_id = $2 AND t.revoked_at IS NULL " extra                  \
	"  AND t.expires_at > now() AND c.revoked_at IS NULL"

enum db_status oauth_token_introspect(struct arena *a, const char *client_id, const char *token,
				      struct oauth_token_info **out)
{
	const char *p[] = {hash_of(a, token), client_id};
	PGresult *res;
	*out = NULL;
	enum db_status s = db_exec(a, &res,
				   TOKEN_INFO("Bearer", "oauth_access_tokens", "") " UNION ALL " TOKEN_INFO(
					   "refresh_token", "oauth_refresh_tokens", "AND t.rotated_at IS NULL"),
				   2, p);
	if (s != DB_OK || PQntuples(res) != 1)
		return s;
	struct oauth_token_info *i = arena_alloc(a, sizeof(*i));
	if (!i)
		return DB_ERROR;
	i->token_type = PQgetvalue(res, 0, 0);
	i->scope = PQgetvalue(res, 0, 1);
	i->exp = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	i->iat = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	i->sub = PQgetvalue(res, 0, 4);
	i->username = db_value(res, 0, 5);
	*out = i;
	return DB_OK;
}

enum db_status oauth_access_token_find(struct arena *a, const char *token, struct credential **out)
{
	const char *p[] = {hash_of(a, token)};
	PGresult *res;
	*out = NULL;
	enum db_status s = db_exec(a, &res,
				   "SELECT t.id, t.user_id, array_to_string(t.scopes, ' '), c.id, c.client_id, "
				   "c.rate_limit_per_hour, t.expires_at <= now(), "
				   "coalesce(c.rate_limit_read_per_hour, c.rate_limit_per_hour), "
				   "coalesce(c.rate_limit_write_per_hour, c.rate_limit_per_hour) "
				   "FROM oauth_access_tokens t JOIN api_clients c ON c.id = t.client_id "
				   "WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND c.revoked_at IS NULL",
				   1, p);
	if (s != DB_OK || PQntuples(res) != 1)
		return s;
	struct credential *c = arena_alloc(a, sizeof(*c));
	if (!c)
		return DB_ERROR;
	*c = (struct credential){.token_id = PQgetvalue(res, 0, 0),
				 .user_id = PQgetvalue(res, 0, 1),
				 .scopes = PQgetvalue(res, 0, 2),
				 .client_id = PQgetvalue(res, 0, 3),
				 .client_public_id = PQgetvalue(res, 0, 4),
				 .rate_limit = atol(PQgetvalue(res, 0, 5)),
				 .expired = PQgetvalue(res, 0, 6)[0] == 't',
				 .rate_limit_read = atol(PQgetvalue(res, 0, 7)),
				 .rate_limit_write = atol(PQgetvalue(res, 0, 8))};
	*out = c;
	return DB_OK;
}
