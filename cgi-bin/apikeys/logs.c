/* The request log of one of the caller's API keys. */
#include "auth/request_log_store.h"
#include "handlers.h"
#include "http/authenticate.h"
#include "http/logfilter.h"
#include "http/reply.h"
#include "http/request.h"

/* 200 {items, page, limit, total} | 401 | 403 | 404 (unknown or another user's) | 422 | 500 | 503 */
int handle_apikey_logs(struct request *rq)
{
	const char *id = request_param(rq, "id");
	if (!auth_is_uuid(id))
		return reply_error(rq, 404, "not_found", "No such API key");
	struct request_log_filter f;
	struct rows_page page;
	if (logfilter_parse(rq, &f, &page))
		return rq->status;
	struct json_object *d;
	enum db_status s = request_log_page(rq->arena, REQUEST_LOG_API_KEY, rq->user_id, id, &f, page, &d);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!d)
		return reply_error(rq, 404, "not_found", "No such API key");
	return reply_ok(rq, 200, d, NULL);
}
