/* api_keys rows; see apikey_store.h. */
#include "auth/apikey_store.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "auth/credential.h"
#include "auth/request_log_store.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "db/rows.h"

/* The public view of a key row; never the key or its hash. */
#define KEY_JSON                                                                                             \
	"json_build_object('id', id, 'name', name, 'description', description, 'key_prefix', key_prefix, "   \
	"'scopes', to_json(scopes), 'rate_limit_per_hour', rate_limit_per_hour, "                            \
	"'rate_limit_read_per_hour', coalesce(rate_limit_read_per_hour, rate_limit_per_hour), "              \
	"'rate_limit_write_per_hour', coalesce(rate_limit_write_per_hour, rate_limit_per_hour), "            \
	"'last_used_at', " SQL_RFC3339("last_used_at") ", 'expires_at', " SQL_RFC3339(                       \
		"expires_at") ", "                                                                           \
			      "'expired', coalesce(expires_at <= now(), false), 'created_at', " SQL_RFC3339( \
				      "created_at") ")::text"

enum db_status apikey_store_create(struct arena *a, const struct apikey_new *k, struct json_object **key)
{
	const char *p[] = {k->user_id,
			   k->name,
			   k->description,
			   k->key_hash,
			   k->key_prefix,
			   k->scopes,
			   arena_printf(a, "%ld", k->rate_limit_per_hour),
			   k->expires_at,
			   k->rate_limit_read_per_hour > 0 ? arena_printf(a, "%ld", k->rate_limit_read_per_hour) : NULL,
			   k->rate_limit_write_per_hour > 0 ? arena_printf(a, "%ld", k->rate_limit_write_per_hour) : NULL,
			   k->expires_in_days > 0 ? arena_printf(a, "%ld", k->expires_in_days) : NULL};
	/* The WHERE makes "already expired" an empty result rather than an error, so the
	 * caller can tell it from a date-time the database cannot read (DB_INVALID). */
	return rows_fetch_one(a, key,
			      "INSERT INTO api_keys (user_id, name, description, key_hash, key_prefix, scopes, "
			      "rate_limit_per_hour, expires_at, rate_limit_read_per_hour, rate_limit_write_per_hour) "
			      "SELECT $1, $2, $3, $4, $5, string_to_array($6, ' '), $7::int, e.at, $9::int, $10::int "
			      "FROM (SELECT coalesce($8::timestamptz, now() + make_interval(days => $11::int)) AS at) e "
			      "WHERE e.at IS NULL OR (e.at > now() AND e.at <= now() + make_interval(days => "
			      "" APIKEY_MAX_DAYS_TEXT ")) RETURNING " KEY_JSON,
			      11, p);
}

enum db_status apikey_store_list(struct arena *a, const char *user_id, struct json_object **keys)
{
	const char *p[] = {user_id};
	return rows_fetch_list(a, keys,
			       "SELECT " KEY_JSON " FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL "
			       "ORDER BY created_at DESC, id",
			       1, p);
}

enum db_status apikey_store_revoke(struct arena *a, const char *user_id, const char *id, const char **prefix)
{
	const char *p[] = {id, user_id};
	PGresult *res;
	*prefix = NULL;
	enum db_status s =
		db_exec(a, &res,
			"UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL "
			"RETURNING key_prefix",
			2, p);
	if (s == DB_OK && PQntuples(res) == 1)
		*prefix = PQgetvalue(res, 0, 0);
	return s;
}

enum db_status apikey_store_usage(struct arena *a, const char *user_id, const char *id, long hours,
				  struct json_object **usage)
{
	return request_log_usage(a, REQUEST_LOG_API_KEY, user_id, id, hours, "api_key_id", usage);
}

enum db_status apikey_store_find(struct arena *a, const char *key, struct credential **out)
{
	const char *p[] = {crypto_sha256_hex(a, key, strlen(key))};
	PGresult *res;
	*out = NULL;
	enum db_status s = db_exec(a, &res,
				   "SELECT id, user_id, array_to_string(scopes, ' '), rate_limit_per_hour, "
				   "expires_at IS NOT NULL AND expires_at <= now(), "
				   "coalesce(rate_limit_read_per_hour, rate_limit_per_hour), "
				   "coalesce(rate_limit_write_per_hour, rate_limit_per_hour) "
				   "FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
				   1, p);
	if (s != DB_OK || PQntuples(res) != 1)
		return s;
	struct credential *c = arena_alloc(a, sizeof(*c));
	if (!c)
		return DB_ERROR;
	*c = (struct credential){.api_key_id = PQgetvalue(res, 0, 0),
				 .user_id = PQgetvalue(res, 0, 1),
				 .scopes = PQgetvalue(res, 0, 2),
				 .rate_limit = atol(PQgetvalue(res, 0, 3)),
				 .expired = PQgetvalue(res, 0, 4)[0] == 't',
				 .rate_limit_read = atol(PQgetvalue(res, 0, 5)),
				 .rate_limit_write = atol(PQgetvalue(res, 0, 6))};
	*out = c;
	return DB_OK;
}
