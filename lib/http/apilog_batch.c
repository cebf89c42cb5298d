/* Batched api_request_logs rows; see apilog.h.
 *
 * A row per request was a round trip per request after the response: with a key's
 * lookup and the handler's own query that made three, where a JWT request has one. Rows
 * now wait in the process, at most SB_REQUEST_LOG_BATCH (32) of them and at most
 * 100 ms once the process is idle (the serve loop asks api_request_log_pending() and
 * flushes when its wait times out), and go as one INSERT over unnest() of text arrays: a
 * fixed statement whatever the row count. created_at is the request's own time, taken
 * when it was answered. A retiring process flushes before it exits; a killed one loses
 * what it held, like a database crash loses the last asynchronously committed rows. */
#include "http/apilog.h"

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "core/validate.h"
#include "db/db.h"

#define BATCH_MAX 256

static struct arena *batch_arena;
static const char *rows[BATCH_MAX][APILOG_COLS];
static size_t nrows;

static const char flush_sql[] =
	"WITH r AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::int[], "
	"  $7::float8[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bool[], "
	"  $14::timestamptz[]) AS t(key_id, client_id, user_id, method, path, status, ms, addr, ua, route, query, "
	"  body, truncated, at)), "
	"l AS (INSERT INTO api_request_logs (api_key_id, client_id, user_id, method, path, route, "
	"  response_status, response_time_ms, ip_address, user_agent, query_params, request_body, "
	"  request_body_truncated, created_at) "
	"  SELECT key_id, client_id, user_id, method, path, route, status, ms, "
	"  CASE WHEN addr ~ '^[0-9a-fA-F:.]+$' THEN addr::inet END, ua, query::jsonb, body, truncated, at "
	"  FROM r, " DB_ASYNC_COMMIT_FROM ") "
	"UPDATE api_keys SET last_used_at = now() WHERE id IN (SELECT key_id FROM r WHERE key_id IS NOT NULL) "
	"  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 second')";

static size_t batch_limit(void)
{
	return (size_t)config_int("SB_REQUEST_LOG_BATCH", 32, 1, BATCH_MAX);
}

/* Appends s as one element of a PostgreSQL array literal: NULL, or double-quoted
 * with '"' and '\' escaped. out has room (the caller sized it). */
static char *put_element(char *out, const char *s)
{
	if (!s)
		return memcpy(out, "NULL", 4), out + 4;
	*out++ = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			*out++ = '\\';
		*out++ = *s;
	}
	*out++ = '"';
	return out;
}

/* The array literal of column c over the batch, in the batch arena. */
static const char *column_literal(size_t c)
{
	size_t need = 3;
	for (size_t i = 0; i < nrows; i++)
		need += (rows[i][c] ? 2 * strlen(rows[i][c]) + 3 : 5);
	char *lit = arena_alloc(batch_arena, need), *o = lit;
	if (!lit)
		return NULL;
	*o++ = '{';
	for (size_t i = 0; i < nrows; i++) {
		if (i)
			*o++ = ',';
		o = put_element(o, rows[i][c]);
	}
	*o++ = '}';
	*o = '\0';
	return lit;
}

void api_request_log_flush(void)
{
	if (!nrows)
		return;
	const char *p[APILOG_COLS];
	bool ok = true;
	for (size_t c = 0; c < APILOG_COLS; c++)
		ok = (p[c] = column_literal(c)) != NULL && ok;
	enum db_status s = ok ? db_exec_async_commit(batch_arena, NULL, flush_sql, APILOG_COLS, p) : DB_ERROR;
	if (s != DB_OK)
		log_msg(LOG_WARN, "request log: %zu rows not written (%d)", nrows, (int)s);
	nrows = 0;
	arena_reset(batch_arena);
}

bool api_request_log_pending(void)
{
	return nrows > 0;
}

void api_request_log_add(const char *const row[APILOG_COLS])
{
	if (!batch_arena && !(batch_arena = arena_new()))
		return;
	/* One row the database refuses would lose the whole batch: text columns go in as
	 * valid UTF-8 whatever the request carried. */
	for (size_t c = 0; c < APILOG_COLS; c++)
		rows[nrows][c] = row[c] ? utf8_sanitize(batch_arena, row[c], strlen(row[c])) : NULL;
	if (++nrows >= batch_limit())
		api_request_log_flush();
}
