/* The delivery log, redelivery and the housekeeping of deliveries; see delivery_store.h
 * (claims and attempts are in delivery_claim.c). */
#include "webhooks/delivery_store.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "db/rows.h"

const char *delivery_status_filter_check(const char *status)
{
	return !status || !strcmp(status, "pending") || !strcmp(status, "delivered") || !strcmp(status, "failed")
		       ? NULL
		       : "must be pending, delivered or failed";
}

/* The deliveries of webhook $1 the filters $2 (status) and $3 (event type) let through. */
#define LOG_FROM                                                                                 \
	" FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE d.webhook_id = $1 " \
	"AND ($2::text IS NULL OR d.status = $2) AND ($3::text IS NULL OR e.type = $3)"
#define LOG_PAGE " ORDER BY d.created_at DESC, d.id LIMIT $4 OFFSET $5"

static const char log_count_sql[] = "SELECT count(*)" LOG_FROM;
/* clang-format off: the macro arguments stay whole */
static const char log_rows_sql[] =
	"SELECT d.id, d.event_id, e.message_id, e.type, d.status, d.attempt_count, "
	SQL_RFC3339("d.next_attempt_at") ", d.last_status_code, d.last_error, "
	SQL_RFC3339("d.delivered_at") ", " SQL_RFC3339("d.created_at")
	LOG_FROM LOG_PAGE;
/* Every attempt of the deliveries $1 (a uuid[] of the page's), in order. */
static const char log_attempts_sql[] =
	"SELECT a.delivery_id, a.attempt_number, a.request_headers::text, a.response_status, a.response_body, "
	"a.response_time_ms, a.error, " SQL_RFC3339("a.created_at") " FROM webhook_attempts a "
	"WHERE a.delivery_id = ANY($1::uuid[]) ORDER BY a.delivery_id, a.attempt_number";
/* clang-format on */

static struct json_object *attempt_view(const PGresult *res, int r)
{
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "attempt_number", json_object_new_int(atoi(PQgetvalue(res, r, 1))));
	json_object_object_add(a, "request_headers", json_tokener_parse(PQgetvalue(res, r, 2)));
	const char *st = db_value(res, r, 3);
	json_object_object_add(a, "response_status", st ? json_object_new_int(atoi(st)) : NULL);
	json_object_object_add(a, "response_body", jsonx_string_or_null(db_value(res, r, 4)));
	const char *ms = db_value(res, r, 5);
	json_object_object_add(a, "response_time_ms", ms ? jsonx_ms(atof(ms)) : NULL);
	json_object_object_add(a, "error", jsonx_string_or_null(db_value(res, r, 6)));
	json_object_object_add(a, "created_at", json_object_new_string(PQgetvalue(res, r, 7)));
	return a;
}

/* Row r of a log page with its attempts (the rows of attempts naming it). */
static struct json_object *delivery_view(const PGresult *res, int r, const PGresult *attempts)
{
	struct json_object *d = json_object_new_object(), *list = json_object_new_array();
	const char *id = PQgetvalue(res, r, 0);
	json_object_object_add(d, "id", json_object_new_string(id));
	json_object_object_add(d, "event_id", json_object_new_string(PQgetvalue(res, r, 1)));
	json_object_object_add(d, "message_id", json_object_new_string(PQgetvalue(res, r, 2)));
	json_object_object_add(d, "event_type", json_object_new_string(PQgetvalue(res, r, 3)));
	json_object_object_add(d, "status", json_object_new_string(PQgetvalue(res, r, 4)));
	json_object_object_add(d, "attempt_count", json_object_new_int(atoi(PQgetvalue(res, r, 5))));
	/* Null once settled, and while a test send holds it (its time is 'infinity'). */
	json_object_object_add(d, "next_attempt_at",
			       PQgetvalue(res, r, 4)[0] == 'p' ? jsonx_string_or_null(db_value(res, r, 6)) : NULL);
	const char *code = db_value(res, r, 7);
	json_object_object_add(d, "last_status_code", code ? json_object_new_int(atoi(code)) : NULL);
	json_object_object_add(d, "last_error", jsonx_string_or_null(db_value(res, r, 8)));
	json_object_object_add(d, "delivered_at", jsonx_string_or_null(db_value(res, r, 9)));
	json_object_object_add(d, "created_at", json_object_new_string(PQgetvalue(res, r, 10)));
	for (int k = 0; k < PQntuples(attempts); k++)
		if (!strcmp(PQgetvalue(attempts, k, 0), id))
			json_object_array_add(list, attempt_view(attempts, k));
	json_object_object_add(d, "attempts", list);
	return d;
}

enum db_status delivery_store_list(struct arena *a, const char *webhook_id, const char *status, const char *event_type,
				   long page, long limit, struct json_object **items, long long *total)
{
	*items = NULL;
	const char *p[] = {webhook_id, status, event_type};
	PGresult *res, *attempts;
	enum db_status s =
		rows_fetch_page(a, (struct rows_page){page, limit}, log_count_sql, log_rows_sql, 3, p, &res, total);
	if (s != DB_OK)
		return s;
	/* The page's ids as uuid[] text: {a,b} (UUIDs need no quoting). */
	char *ids = "{";
	for (int i = 0; i < PQntuples(res); i++)
		ids = arena_printf(a, "%s%s%s", ids, i ? "," : "", PQgetvalue(res, i, 0));
	const char *ap[] = {arena_printf(a, "%s}", ids)};
	s = db_exec(a, &attempts, log_attempts_sql, 1, ap);
	if (s != DB_OK)
		return s;
	*items = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(*items, delivery_view(res, i, attempts));
	return DB_OK;
}

enum db_status delivery_store_redeliver(struct arena *a, const char *user_id, const char *webhook_id,
					const char *delivery_id, struct delivery_redelivered *out)
{
	memset(out, 0, sizeof(*out));
	out->outcome = DELIVERY_NOT_FOUND;
	const char *p[] = {delivery_id, webhook_id, user_id};
	PGresult *res;
	enum db_status s = db_exec(a, &res,
				   "INSERT INTO webhook_deliveries (webhook_id, event_id, user_id) "
				   "SELECT d.webhook_id, d.event_id, d.user_id FROM webhook_deliveries d "
				   "JOIN webhooks w ON w.id = d.webhook_id AND w.is_active "
				   "WHERE d.id = $1 AND d.webhook_id = $2 AND d.user_id = $3 "
				   "RETURNING id, (SELECT message_id FROM events WHERE id = event_id)",
				   3, p);
	if (s != DB_OK)
		return s;
	if (PQntuples(res) == 1) {
		out->outcome = DELIVERY_REDELIVERED;
		out->delivery_id = PQgetvalue(res, 0, 0);
		out->message_id = PQgetvalue(res, 0, 1);
		db_notify_after_commit(a, "sb_deliveries");
		return DB_OK;
	}
	/* Tell a disabled webhook apart from a delivery that is not there. */
	const char *wp[] = {webhook_id, user_id};
	s = db_exec(a, &res, "SELECT is_active FROM webhooks WHERE id = $1 AND user_id = $2", 2, wp);
	if (s == DB_OK && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 'f')
		out->outcome = DELIVERY_WEBHOOK_INACTIVE;
	return s;
}

enum db_status delivery_store_recover(struct arena *a, const char *user_id, const char *webhook_id, const char *since,
				      int max, struct delivery_recovered *out)
{
	memset(out, 0, sizeof(*out));
	out->outcome = DELIVERY_NOT_FOUND;
	const char *wp[] = {webhook_id, user_id};
	PGresult *res;
	enum db_status s =
		db_exec(a, &res, "SELECT is_active FROM webhooks WHERE id = $1 AND user_id = $2 FOR UPDATE", 2, wp);
	if (s != DB_OK || PQntuples(res) != 1)
		return s;
	if (PQgetvalue(res, 0, 0)[0] != 't') {
		out->outcome = DELIVERY_WEBHOOK_INACTIVE;
		return DB_OK;
	}
	char lim[16];
	snprintf(lim, sizeof(lim), "%d", max + 1);
	const char *p[] = {webhook_id, since, lim};
	/* The webhook row is locked: two recoveries at once run one after the other, and
	 * the second sees the first's deliveries. */
	s = db_exec(a, &res,
		    "WITH todo AS (SELECT d.id, d.event_id, d.user_id, d.created_at FROM webhook_deliveries d "
		    "  WHERE d.webhook_id = $1 AND d.status = 'failed' AND d.created_at >= $2::timestamptz "
		    "  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries n WHERE n.webhook_id = d.webhook_id "
		    "    AND n.event_id = d.event_id AND (n.created_at, n.id) > (d.created_at, d.id)) "
		    "  ORDER BY d.created_at, d.id LIMIT $3::int), "
		    "ins AS (INSERT INTO webhook_deliveries (webhook_id, event_id, user_id) "
		    "  SELECT $1, event_id, user_id FROM todo ORDER BY created_at, id LIMIT $3::int - 1 RETURNING id) "
		    "SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM todo)",
		    3, p);
	if (s != DB_OK)
		return s;
	out->outcome = DELIVERY_REDELIVERED;
	out->count = atoi(PQgetvalue(res, 0, 0));
	out->more = atoi(PQgetvalue(res, 0, 1)) > max;
	if (out->count > 0)
		db_notify_after_commit(a, "sb_deliveries");
	return s;
}

enum db_status delivery_store_fail(struct arena *a, const char *delivery_id, const char *why)
{
	const char *p[] = {delivery_id, why};
	return db_exec(a, NULL,
		       "UPDATE webhook_deliveries SET status = 'failed', last_error = $2, lease_owner = NULL, "
		       "lease_expires_at = NULL, updated_at = now() WHERE id = $1",
		       2, p);
}

enum db_status delivery_store_fail_inactive(struct arena *a)
{
	return db_exec(a, NULL,
		       "UPDATE webhook_deliveries SET status = 'failed', last_error = 'the webhook is disabled', "
		       "updated_at = now() "
		       "WHERE status = 'pending' AND webhook_id IN (SELECT id FROM webhooks WHERE NOT is_active) "
		       "AND (lease_expires_at IS NULL OR lease_expires_at < now())",
		       0, NULL);
}

enum db_status delivery_store_release_abandoned_tests(struct arena *a)
{
	return db_exec(a, NULL,
		       "UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'pending' "
		       "AND next_attempt_at = 'infinity' "
		       "AND coalesce(lease_expires_at, updated_at + interval '5 minutes') < now()",
		       0, NULL);
}
