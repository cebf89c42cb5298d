/* The request log and the usage of one of the caller's OAuth clients (every request its
 * access tokens made, and its calls to the token endpoints). */
#include "auth/request_log_store.h"
#include "core/validate.h"
#include "handlers.h"
#include "http/authenticate.h"
#include "http/logfilter.h"
#include "http/reply.h"
#include "http/request.h"

static int no_such_client(struct request *rq)
{
	return reply_error(rq, 404, "not_found", "No such OAuth client");
}

/* 200 {items, page, limit, total} | 401 | 403 | 404 (unknown or another user's) | 422 | 500 | 503 */
int handle_client_logs(struct request *rq)
{
	const char *id = request_param(rq, "id");
	if (!auth_is_uuid(id))
		return no_such_client(rq);
	struct request_log_filter f;
	struct rows_page page;
	if (logfilter_parse(rq, &f, &page))
		return rq->status;
	struct json_object *d;
	enum db_status s = request_log_page(rq->arena, REQUEST_LOG_OAUTH_CLIENT, rq->user_id, id, &f, page, &d);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!d)
		return no_such_client(rq);
	return reply_ok(rq, 200, d, NULL);
}

/* 200 {oauth_client_id, hours, from, to, total, by_hour, by_status} | 401 | 403 | 404 | 422 (hours) | 500 | 503 */
int handle_client_usage(struct request *rq)
{
	const char *id = request_param(rq, "id");
	if (!auth_is_uuid(id))
		return no_such_client(rq);
	long hours;
	if (validate_query_int(request_query(rq, "hours"), 24, 1, 24 * 90, &hours))
		return reply_invalid_field(rq, "hours", "must be an integer between 1 and 2160");
	struct json_object *usage;
	enum db_status s =
		request_log_usage(rq->arena, REQUEST_LOG_OAUTH_CLIENT, rq->user_id, id, hours, "oauth_client_id", &usage);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!usage)
		return no_such_client(rq);
	return reply_ok(rq, 200, usage, NULL);
}
