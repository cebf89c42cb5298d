/* The caller's own profile and audit log. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "db/db.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"

/* 200 user | 401 (account gone) | 500 | 503 */
int handle_me(struct request *rq)
{
	PGresult *res;
	const char *p[] = {rq->user_id};
	enum db_status s = db_exec(rq->arena, &res, "SELECT " USER_COLUMNS " FROM users WHERE id = $1", 1, p);
	if (s != DB_OK)
		return s == DB_UNAVAILABLE ? reply_db_unavailable(rq) : reply_internal(rq);
	if (PQntuples(res) != 1)
		return reply_unauthorized(rq, "The account no longer exists", 1);
	return reply_ok(rq, 200, user_json(res, 0, 0), NULL);
}

/* 200 {items, page, limit, total} | 401 | 422 (page, limit) | 500 | 503 */
int handle_audit_log(struct request *rq)
{
	long page, limit;
	if (reply_page_params(rq, &page, &limit))
		return rq->status;

	char lim[24], off[24];
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", (page - 1) * limit);
	const char *p[] = {rq->user_id, lim, off};
	PGresult *res, *count;
	enum db_status s = db_exec(rq->arena, &count, "SELECT count(*) FROM audit_events WHERE user_id = $1", 1, p);
	if (s == DB_OK)
		s = db_exec(rq->arena, &res,
			    "SELECT id, action, provider, host(ip), user_agent, details::text, " SQL_RFC3339(
				    "created_at") " FROM audit_events WHERE user_id = $1 ORDER BY created_at DESC, id "
						  "DESC LIMIT $2 OFFSET $3",
			    3, p);
	if (s != DB_OK)
		return s == DB_UNAVAILABLE ? reply_db_unavailable(rq) : reply_internal(rq);

	struct json_object *items = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "id", json_object_new_string(PQgetvalue(res, i, 0)));
		json_object_object_add(e, "action", json_object_new_string(PQgetvalue(res, i, 1)));
		json_object_object_add(e, "provider", jsonx_string_or_null(db_value(res, i, 2)));
		json_object_object_add(e, "ip", jsonx_string_or_null(db_value(res, i, 3)));
		json_object_object_add(e, "user_agent", jsonx_string_or_null(db_value(res, i, 4)));
		struct json_object *details = json_tokener_parse(PQgetvalue(res, i, 5));
		json_object_object_add(e, "details", details ? details : json_object_new_object());
		json_object_object_add(e, "created_at", json_object_new_string(PQgetvalue(res, i, 6)));
		json_object_array_add(items, e);
	}
	return reply_ok(rq, 200, reply_page(items, page, limit, atoll(PQgetvalue(count, 0, 0))), NULL);
}
