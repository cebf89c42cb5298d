/* api_request_logs: writing after the response, pruning; see apilog.h. */
#include "http/apilog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/log.h"
#include "db/db.h"
#include "http/ratelimit.h"
#include "http/request.h"
#include "http/router.h"

void api_request_log_write(struct request *rq, double ms)
{
	if (rq->auth_kind != AUTH_API_KEY && rq->auth_kind != AUTH_OAUTH_TOKEN && rq->auth_kind != AUTH_OAUTH_CLIENT)
		return;
	char status[16], msbuf[32];
	snprintf(status, sizeof(status), "%d", rq->status);
	snprintf(msbuf, sizeof(msbuf), "%.3f", ms);
	const char *ua = request_header(rq, "user-agent");
	/* An address that is not one (a unix-socket peer) is stored as NULL, not refused. */
	const char *p[] = {
		rq->auth_kind == AUTH_API_KEY ? rq->api_key_id : NULL,
		rq->auth_kind == AUTH_API_KEY ? NULL : rq->client_id,
		rq->user_id,
		rq->method,
		rq->path ? arena_strndup(rq->arena, rq->path, 2048) : "",
		status,
		msbuf,
		rq->remote_addr,
		ua ? arena_strndup(rq->arena, ua, 512) : NULL,
		rq->route ? rq->route->pattern : NULL,
	};
	/* synchronous_commit off for this transaction only: the client has its answer and a
	 * database crash may lose the last few log rows, so waiting for the WAL flush would
	 * only hold this process back from its next request. */
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(rq->arena, NULL, "SET LOCAL synchronous_commit = off", 0, NULL);
	if (s == DB_OK)
		s = db_exec(
			rq->arena, NULL,
			"WITH l AS (INSERT INTO api_request_logs (api_key_id, client_id, user_id, method, path, route, "
			"  response_status, response_time_ms, ip_address, user_agent) "
			"  VALUES ($1, $2, $3, $4, $5, $10, $6::int, $7::float8, "
			"  CASE WHEN $8::text ~ '^[0-9a-fA-F:.]+$' THEN $8::inet END, $9)) "
			"UPDATE api_keys SET last_used_at = now() WHERE id = $1::uuid "
			"  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 second')",
			10, p);
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		log_msg(LOG_WARN, "request log not written (%d)", (int)s);
}

int api_request_logs_prune(struct arena *a, long retention_days)
{
	if (retention_days < 1)
		retention_days = 1;
	char days[24], window[24];
	snprintf(days, sizeof(days), "%ld", retention_days);
	snprintf(window, sizeof(window), "%ld", ratelimit_window());
	const char *p[] = {days};
	PGresult *res;
	enum db_status s = db_exec(
		a, &res,
		"WITH d AS (DELETE FROM api_request_logs WHERE created_at < now() - make_interval(days => $1::int) "
		"RETURNING 1) SELECT count(*) FROM d",
		1, p);
	if (s != DB_OK)
		return -1;
	int deleted = atoi(PQgetvalue(res, 0, 0));
	const char *wp[] = {window};
	s = db_exec(a, NULL,
		    "DELETE FROM rate_limit_counters WHERE window_start < now() - make_interval(secs => 2 * $1::int)",
		    1, wp);
	return s == DB_OK ? deleted : -1;
}
