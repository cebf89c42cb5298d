/* api_request_logs read back; see request_log_store.h. */
#include "auth/request_log_store.h"

#include <json-c/json.h>
#include <stdlib.h>

#include "core/arena.h"

/* The owner table and the log column of each kind of owner (fixed text, never input). */
static const char *const owner_table[] = {"api_keys", "api_clients"};
static const char *const owner_column[] = {"api_key_id", "client_id"};

/* True in *owned when id is a row of user_id's in the owner's table. */
static enum db_status owned_by(struct arena *a, enum request_log_owner owner, const char *user_id, const char *id,
			       bool *owned)
{
	const char *p[] = {id, user_id};
	PGresult *res;
	*owned = false;
	enum db_status s = db_exec(
		a, &res, arena_printf(a, "SELECT 1 FROM %s WHERE id = $1 AND user_id = $2", owner_table[owner]), 2, p);
	if (s == DB_OK)
		*owned = PQntuples(res) == 1;
	return s;
}

static const struct row_field log_fields[] = {
	{"id", ROW_INT},
	{"method", ROW_TEXT},
	{"path", ROW_TEXT},
	{"route", ROW_TEXT},
	{"query_params", ROW_JSON_OBJECT},
	{"request_body", ROW_TEXT},
	{"request_body_truncated", ROW_BOOL},
	{"response_status", ROW_INT},
	{"response_time_ms", ROW_JSON},
	{"ip_address", ROW_TEXT},
	{"user_agent", ROW_TEXT},
	{"created_at", ROW_TEXT},
	{NULL, ROW_TEXT},
};

/* $1 the owner's id, $2..$7 the filters (NULL: any). */
#define LOG_WHERE                                                                                           \
	" FROM api_request_logs WHERE %s = $1 "                                                             \
	"AND ($2::int IS NULL OR response_status = $2::int) "                                               \
	"AND ($3::int IS NULL OR response_status / 100 = $3::int) "                                         \
	"AND ($4::text IS NULL OR method = $4) "                                                            \
	"AND ($5::text IS NULL OR left(path, length($5)) = $5) "                                            \
	"AND ($6::timestamptz IS NULL OR created_at >= $6::timestamptz) "                                   \
	"AND ($7::timestamptz IS NULL OR created_at <= $7::timestamptz)"

enum db_status request_log_page(struct arena *a, enum request_log_owner owner, const char *user_id, const char *id,
				const struct request_log_filter *f, struct rows_page page, struct json_object **out)
{
	bool owned;
	*out = NULL;
	enum db_status s = owned_by(a, owner, user_id, id, &owned);
	if (s != DB_OK || !owned)
		return s;
	const char *p[] = {
		id,
		f->status >= 100 ? arena_printf(a, "%ld", f->status) : NULL,
		f->status >= 1 && f->status <= 5 ? arena_printf(a, "%ld", f->status) : NULL,
		f->method,
		f->path,
		f->from,
		f->to,
	};
	const char *col = owner_column[owner];
	PGresult *res;
	long long total;
	s = rows_fetch_page(
		a, page, arena_printf(a, "SELECT count(*)" LOG_WHERE, col),
		arena_printf(a,
			     "SELECT id, method, path, route, query_params::text, request_body, request_body_truncated, "
			     "response_status, round(response_time_ms::numeric, 2)::text, host(ip_address), user_agent, "
			     "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')" LOG_WHERE
			     " ORDER BY created_at DESC, id DESC LIMIT $8 OFFSET $9",
			     col),
		7, p, &res, &total);
	if (s == DB_OK)
		*out = rows_page_json(rows_objects(res, 0, log_fields), page, total);
	return s;
}

/* The window of a usage report starts at the top of the hour, hours - 1 hours ago. */
#define USAGE_FROM "date_trunc('hour', now()) - make_interval(hours => $2::int - 1)"

static const struct row_field hour_fields[] = {
	{"hour", ROW_TEXT}, {"requests", ROW_INT}, {"errors", ROW_INT}, {NULL, ROW_TEXT}};
static const struct row_field status_fields[] = {{"status", ROW_INT}, {"requests", ROW_INT}, {NULL, ROW_TEXT}};

/* The per-hour and per-status counts of the owner's id since USAGE_FROM, and their total. */
static enum db_status usage_counts(struct arena *a, const char *col, const char *const *p, struct json_object *d)
{
	PGresult *by_hour, *by_status;
	enum db_status s = db_exec(
		a, &by_hour,
		arena_printf(a,
			     "SELECT " SQL_RFC3339("date_trunc('hour', created_at)") ", count(*), "
			     "count(*) FILTER (WHERE response_status >= 400) FROM api_request_logs "
			     "WHERE %s = $1 AND created_at >= " USAGE_FROM " GROUP BY date_trunc('hour', created_at) "
			     "ORDER BY 1",
			     col),
		2, p);
	if (s == DB_OK)
		s = db_exec(a, &by_status,
			    arena_printf(a,
					 "SELECT response_status, count(*) FROM api_request_logs "
					 "WHERE %s = $1 AND created_at >= " USAGE_FROM " GROUP BY response_status ORDER BY 1",
					 col),
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

enum db_status request_log_usage(struct arena *a, enum request_log_owner owner, const char *user_id, const char *id,
				 long hours, const char *id_member, struct json_object **usage)
{
	const char *p[] = {id, arena_printf(a, "%ld", hours), user_id};
	PGresult *range;
	*usage = NULL;
	/* One row when the key or client is the caller's: the bounds of the report. */
	enum db_status s = db_exec(a, &range,
				   arena_printf(a,
						"SELECT " SQL_RFC3339("(" USAGE_FROM ")") ", " SQL_RFC3339(
							"now()") " FROM %s WHERE id = $1 AND user_id = $3",
						owner_table[owner]),
				   3, p);
	if (s != DB_OK || PQntuples(range) != 1)
		return s;
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, id_member, json_object_new_string(id));
	json_object_object_add(d, "hours", json_object_new_int64(hours));
	json_object_object_add(d, "from", json_object_new_string(PQgetvalue(range, 0, 0)));
	json_object_object_add(d, "to", json_object_new_string(PQgetvalue(range, 0, 1)));
	s = usage_counts(a, owner_column[owner], p, d);
	if (s != DB_OK) {
		json_object_put(d);
		return s;
	}
	*usage = d;
	return DB_OK;
}
