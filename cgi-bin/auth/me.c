/* The caller's own profile and audit log. */
#include "auth/user_store.h"
#include "db/db.h"
#include "db/rows.h"
#include "events/audit_log.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"

/* 200 user | 401 (account gone) | 500 | 503 */
int handle_me(struct request *rq)
{
	struct user *u;
	enum db_status s = user_store_by_id(rq->arena, rq->user_id, &u);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!u)
		return reply_unauthorized(rq, "The account no longer exists", 1);
	return reply_ok(rq, 200, user_to_json(u), NULL);
}

/* 200 {items, page, limit, total} | 401 | 422 (page, limit) | 500 | 503 */
int handle_audit_log(struct request *rq)
{
	struct rows_page page;
	if (reply_page_params(rq, &page.page, &page.limit))
		return rq->status;
	struct json_object *d;
	enum db_status s = audit_log_page(rq->arena, rq->user_id, page, &d);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, d, NULL);
}
