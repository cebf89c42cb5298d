/* The request log of the API platform: one api_request_logs row per request that a key
 * or an OAuth client authenticated, written after the response has been sent, and the
 * pruning of old rows. Of the request it keeps the query parameters and the body with
 * secrets redacted and the body capped (core/redact.h), and no header value but
 * User-Agent. */
#ifndef SB_APILOG_H
#define SB_APILOG_H

struct arena;
struct request;

#include <stdbool.h>

/* Records rq (its final status) and ms, the time to answer it; also touches the key's
 * last_used_at. Does nothing for requests without a key or client. Failures are logged,
 * never reported: the client has its answer already. The row is batched (see below). */
void api_request_log_write(struct request *rq, double ms);

/* The batch (apilog_batch.c): rows wait in the process until SB_REQUEST_LOG_BATCH (32)
 * are held or the process has been idle 100 ms, then go in one statement. The columns
 * of a row, as text: api_key_id, client_id, user_id, method, path, status, ms, address,
 * user agent, route, query JSON, body, truncated, created_at. */
#define APILOG_COLS	    14
#define APILOG_IDLE_FLUSH_MS 100
void api_request_log_add(const char *const row[APILOG_COLS]);
/* True when rows wait: the serve loop then waits at most APILOG_IDLE_FLUSH_MS. */
bool api_request_log_pending(void);
/* Writes what waits (failures are logged). Before waiting idle and before exit. */
void api_request_log_flush(void);

/* Deletes api_request_logs rows older than retention_days (at least 1), and the
 * rate-limit counter windows too old to count (older than two windows). Returns the
 * number of log rows deleted, or -1 on database trouble. For the worker daemon. */
int api_request_logs_prune(struct arena *a, long retention_days);

#endif
