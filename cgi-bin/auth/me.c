/* The caller's own profile and audit log. */
#include <json-c/json.h>
#include <string.h>

#include "auth/user_store.h"
#include "core/validate.h"
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

/* A name filter: 1..100 printable characters. */
static bool bad_name(const char *s)
{
	return s && (!*s || strlen(s) > 100 || !text_printable(s, false));
}

/* Reads ?provider= ?action= ?from= ?to= into *f; answers 422 naming each bad one. */
static int audit_filter(struct request *rq, struct audit_log_filter *f)
{
	*f = (struct audit_log_filter){request_query(rq, "provider"), request_query(rq, "action"),
				       request_query(rq, "from"), request_query(rq, "to")};
	struct json_object *errors = json_object_new_object();
	if (bad_name(f->provider))
		json_object_object_add(errors, "provider", json_object_new_string("must be 1 to 100 printable characters"));
	if (bad_name(f->action))
		json_object_object_add(errors, "action", json_object_new_string("must be 1 to 100 printable characters"));
	if (f->from && validate_rfc3339(f->from))
		json_object_object_add(errors, "from", json_object_new_string(validate_rfc3339(f->from)));
	if (f->to && validate_rfc3339(f->to))
		json_object_object_add(errors, "to", json_object_new_string(validate_rfc3339(f->to)));
	if (json_object_object_length(errors))
		return reply_invalid(rq, errors);
	json_object_put(errors);
	return 0;
}

/* 200 {items, page, limit, total} | 401 | 422 (page, limit, provider, action, from, to) | 500 | 503 */
int handle_audit_log(struct request *rq)
{
	struct rows_page page;
	struct audit_log_filter f;
	if (reply_page_params(rq, &page.page, &page.limit) || audit_filter(rq, &f))
		return rq->status;
	struct json_object *d;
	enum db_status s = audit_log_page(rq->arena, rq->user_id, &f, page, &d);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, d, NULL);
}
