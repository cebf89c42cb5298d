/* api_keys rows; see apikey_store.h. */
#include "auth/apikey_store.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "auth/credential.h"
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
			   k->rate_limit_write_per_hour > 0 ? arena_printf(a, "%ld", k->rate_limit_write_per_hour) : NULL};
	/* The WHERE makes "already expired" an empty result rather than an error, so the
	 * caller can tell it from a date-time the database cannot read (DB_INVALID). */
	return rows_fetch_one(a, key,
			      "INSERT INTO api_keys (user_id, name, description, key_hash, key_prefix, scopes, "
			      "rate_limit_per_hour, expires_at, rate_limit_read_per_hour, rate_limit_write_per_hour) "
			      "SELECT $1, $2, $3, $4, $5, string_to_array($6, ' '), $7::int, $8::timestamptz, $9::int, "
			      "$10::int "
			      "WHERE $8::timestamptz IS NULL OR $8::timestamptz > now() RETURNING " KEY_JSON,
			      10, p);
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

/* The window of a usage report starts at the top of the hour, hours - 1 hours ago. */
#define USAGE_FROM "date_trunc('hour', now()) - make_interval(hours => $2::int - 1)"

static const struct row_field hour_fields[] = {
	{"hour", ROW_TEXT}, {"requests", ROW_INT}, {"errors", ROW_INT}, {NULL, ROW_TEXT}};
static const struct row_field status_fields[] = {{"status", ROW_INT}, {"requests", ROW_INT}, {NULL, ROW_TEXT}};

/* The per-hour and per-status counts of key id since USAGE_FROM, and their total. */
static enum db_status usage_counts(struct arena *a, const char *const *p, struct json_object *d)
{
	PGresult *by_hour, *by_status;
	enum db_status s = db_exec(
		a, &by_hour,
		"SELECT " SQL_RFC3339(
			"date_trunc('hour', created_at)") ", count(*), "
							  "count(*) FILTER (WHERE response_status >= 400) FROM "
							  "api_request_logs "
							  "WHERE api_key_id = $1 AND created_at >= " USAGE_FROM " "
							  "GROUP BY date_trunc('hour', created_at) ORDER BY 1",
		2, p);
	if (s == DB_OK)
		s = db_exec(a, &by_status,
			    "SELECT response_status, count(*) FROM api_request_logs "
			    "WHERE api_key_id = $1 AND created_at >= " USAGE_FROM
			    " GROUP BY response_status ORDER BY 1",
			    2, p);
	if (s != DB_OK)
		return s;
	long long total = 0;
	for (int i = 0; i < PQntuples(by_hour); i++)
		total += strtoll(PQgetvalue(by_hour, i, 1), NULL, 10);
	json_object_object_add(d, "total", json_object_new_int64(total));
	json_object_object_add(d, "by_hour", rows_objects(by_hour, 0, hour_fields));
	json_object_object_add(d, "by_status", rows_objects(by_status, 0, status_fields));
	return DB_OK;
}

enum db_status apikey_store_usage(struct arena *a, const char *user_id, const char *id, long hours,
				  struct json_object **usage)
{
	const char *p[] = {id, arena_printf(a, "%ld", hours), user_id};
	PGresult *range;
	*usage = NULL;
	/* One row when the key is the caller's: the bounds of the report. */
	enum db_status s = db_exec(
		a, &range,
		"SELECT " SQL_RFC3339("(" USAGE_FROM ")") ", " SQL_RFC3339("now()") " FROM api_keys "
										    "WHERE id = $1 AND user_id = $3",
		3, p);
	if (s != DB_OK || PQntuples(range) != 1)
		return s;
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "api_key_id", json_object_new_string(id));
	json_object_object_add(d, "hours", json_object_new_int64(hours));
	json_object_object_add(d, "from", json_object_new_string(PQgetvalue(range, 0, 0)));
	json_object_object_add(d, "to", json_object_new_string(PQgetvalue(range, 0, 1)));
	s = usage_counts(a, p, d);
	if (s != DB_OK) {
		json_object_put(d);
		return s;
	}
	*usage = d;
	return DB_OK;
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
