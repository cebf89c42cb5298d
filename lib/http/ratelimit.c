/* Sliding-window rate limits in PostgreSQL; see ratelimit.h. */
#include "http/ratelimit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/monotime.h"
#include "db/db.h"
#include "http/reply.h"
#include "http/request.h"

long ratelimit_window(void)
{
	return config_int("SB_RATE_LIMIT_WINDOW_SECONDS", 3600, 1, 86400);
}

static double weighted_prev(long window, long prev, double elapsed)
{
	if (elapsed < 0)
		elapsed = 0;
	if (elapsed > (double)window)
		elapsed = (double)window;
	return (double)prev * ((double)window - elapsed) / (double)window;
}

bool ratelimit_fits(long limit, long window, long prev, long cur, double elapsed)
{
	return (double)cur + 1.0 + weighted_prev(window, prev, elapsed) <= (double)limit;
}

/* Seconds from now until one more request fits, at least 1. */
static long seconds_until_fits(long limit, long window, long prev, long cur, double elapsed)
{
	double w = (double)window, wait;
	if (cur + 1 <= limit) {
		/* Only the previous window's weight is in the way: it decays linearly. */
		double t = prev > 0 ? w - w * (double)(limit - cur - 1) / (double)prev : elapsed;
		wait = t - elapsed;
	} else {
		/* The current window is full: it becomes "previous" at the boundary and must
		 * decay until one request fits beside it. */
		double s = cur > 0 ? w - w * (double)(limit - 1) / (double)cur : 0;
		wait = (w - elapsed) + s;
	}
	long secs = (long)ceil(wait - 1e-9);
	return secs < 1 ? 1 : secs;
}

void ratelimit_compute(long limit, long window, long prev, long cur, double elapsed, bool allowed,
		       struct ratelimit_result *out)
{
	out->allowed = allowed;
	out->limit = limit;
	double used = (double)cur + weighted_prev(window, prev, elapsed);
	long remaining = (long)floor((double)limit - used + 1e-9);
	out->remaining = remaining < 0 ? 0 : remaining;
	if (allowed) {
		long reset = (long)ceil((double)window - elapsed - 1e-9);
		out->reset = reset < 1 ? 1 : reset;
		out->retry_after = 0;
	} else {
		out->remaining = 0;
		out->retry_after = seconds_until_fits(limit, window, prev, cur, elapsed);
		out->reset = out->retry_after;
	}
}

/* One statement: read both windows, then insert or increment the current one by $4
 * slots only when they all fit. ON CONFLICT DO UPDATE re-checks its WHERE against the
 * newest row version under the row lock, so concurrent requests from many processes
 * cannot both take the last slots. Returns the new count (NULL when refused), prev, cur,
 * elapsed. */
static const char upsert_sql[] =
	"WITH t AS (SELECT now() AS now, to_timestamp(floor(extract(epoch FROM now()) / $2::int) * $2::int) AS ws), "
	"w AS (SELECT "
	"  coalesce((SELECT r.request_count FROM rate_limit_counters r WHERE r.identifier = $1 "
	"            AND r.window_start = t.ws - make_interval(secs => $2::int)), 0) AS prev, "
	"  coalesce((SELECT r.request_count FROM rate_limit_counters r WHERE r.identifier = $1 "
	"            AND r.window_start = t.ws), 0) AS cur, "
	"  extract(epoch FROM t.now - t.ws)::float8 AS elapsed FROM t), "
	"up AS (INSERT INTO rate_limit_counters AS c (identifier, window_start, request_count) "
	"  SELECT $1, t.ws, $4::int FROM t, w WHERE $4::int + w.prev * ($2::int - w.elapsed) / $2::int <= $3::int "
	"  ON CONFLICT (identifier, window_start) DO UPDATE SET request_count = c.request_count + $4::int "
	"  WHERE c.request_count + $4::int + (SELECT w.prev * ($2::int - w.elapsed) / $2::int FROM w) <= $3::int "
	"  RETURNING c.request_count) "
	"SELECT (SELECT request_count FROM up), w.prev, w.cur, w.elapsed FROM w";

/* Reserves slots for id in the database. Returns DB_OK with *granted the slots taken
 * (0: refused; then c holds the counts that refused it). */
static enum db_status reserve(struct arena *a, const char *id, long limit, long window, long slots, long *granted,
			      struct ratelimit_counts *c)
{
	char wbuf[24], lbuf[24], sbuf[24];
	snprintf(wbuf, sizeof(wbuf), "%ld", window);
	snprintf(lbuf, sizeof(lbuf), "%ld", limit);
	snprintf(sbuf, sizeof(sbuf), "%ld", slots);
	const char *p[] = {id, wbuf, lbuf, sbuf};
	PGresult *res;
	enum db_status s = db_exec(a, &res, upsert_sql, 4, p);
	if (s != DB_OK)
		return s;
	*granted = PQgetisnull(res, 0, 0) ? 0 : slots;
	c->prev = atol(PQgetvalue(res, 0, 1));
	c->cur = *granted ? atol(PQgetvalue(res, 0, 0)) : atol(PQgetvalue(res, 0, 2));
	c->elapsed = atof(PQgetvalue(res, 0, 3));
	return DB_OK;
}

/* Admits or refuses one request of id: from this process's lease when it has one, else
 * by reserving a lease (falling back to a single slot near the limit). *counts are from
 * this process's view: its unspent slots are not counted as used. */
static enum db_status admit(struct arena *a, const char *id, long limit, long window, bool *allowed,
			    struct ratelimit_counts *counts)
{
	double now = monotime_ms();
	*allowed = true;
	if (ratelimit_lease_take(id, limit, window, now, counts))
		return DB_OK;
	long slots = ratelimit_lease_size(limit, config_int("SB_RATE_LIMIT_LEASE_MAX", 32, 1, 1024)), granted = 0;
	enum db_status s = reserve(a, id, limit, window, slots, &granted, counts);
	if (s == DB_OK && !granted && slots > 1)
		s = reserve(a, id, limit, window, 1, &granted, counts);
	if (s != DB_OK)
		return s;
	*allowed = granted > 0;
	if (granted > 1) {
		ratelimit_lease_store(id, limit, window, now, granted, counts);
		counts->cur -= granted - 1;
	}
	return DB_OK;
}

int ratelimit_apply(struct request *rq)
{
	const char *kind;
	const char *id;
	switch (rq->auth_kind) {
	case AUTH_API_KEY:
		kind = "key";
		id = rq->api_key_id;
		break;
	case AUTH_OAUTH_TOKEN:
	case AUTH_OAUTH_CLIENT:
		kind = "client";
		id = rq->client_id;
		break;
	default:
		return 0;
	}
	bool read = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
	long budget = read ? rq->rate_limit_read : rq->rate_limit_write;
	if (budget <= 0)
		budget = rq->rate_limit;
	long window = ratelimit_window(), limit = budget > 0 ? budget : 1;
	bool allowed;
	struct ratelimit_counts c;
	enum db_status s =
		admit(rq->arena, arena_printf(rq->arena, "%s:%s:%s", kind, id, read ? "read" : "write"), limit, window,
		      &allowed, &c);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	struct ratelimit_result r;
	ratelimit_compute(limit, window, c.prev, c.cur, c.elapsed, allowed, &r);
	char buf[24];
	snprintf(buf, sizeof(buf), "%ld", r.limit);
	reply_header(rq, "RateLimit-Limit", buf);
	snprintf(buf, sizeof(buf), "%ld", r.remaining);
	reply_header(rq, "RateLimit-Remaining", buf);
	snprintf(buf, sizeof(buf), "%ld", r.reset);
	reply_header(rq, "RateLimit-Reset", buf);
	/* Which budget applied (draft-ietf-httpapi-ratelimit-headers: a named policy with
	 * its quota and window). */
	reply_header(rq, "RateLimit-Policy",
		     arena_printf(rq->arena, "\"%s\";q=%ld;w=%ld", read ? "read" : "write", limit, window));
	if (allowed)
		return 0;
	snprintf(buf, sizeof(buf), "%ld", r.retry_after);
	reply_header(rq, "Retry-After", buf);
	return reply_error(rq, 429, "rate_limited",
			   read ? "The read rate limit of this key or client is exhausted; retry later"
				: "The write rate limit of this key or client is exhausted; retry later");
}
