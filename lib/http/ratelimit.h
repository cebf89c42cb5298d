/* Per key / per client rate limits: a sliding window over two fixed windows kept in
 * PostgreSQL, so every responder process on every host counts against one budget.
 *
 * The estimate at `elapsed` seconds into the current window of length W is
 *     cur + prev * (W - elapsed) / W
 * (the previous window's count, weighted by how much of it the sliding window still
 * covers). A request is admitted when the estimate with it stays within the limit; an
 * admitted request increments cur, a refused one does not. Reads (GET, HEAD) and writes
 * (everything else) have separate budgets: rate_limit_read_per_hour and
 * rate_limit_write_per_hour, each rate_limit_per_hour when unset. W is one hour,
 * or SB_RATE_LIMIT_WINDOW_SECONDS (tests use a few seconds). */
#ifndef SB_RATELIMIT_H
#define SB_RATELIMIT_H

#include <stdbool.h>

struct request;
struct arena;

struct ratelimit_result {
	bool allowed;
	long limit;
	long remaining;	  /* RateLimit-Remaining */
	long reset;	  /* RateLimit-Reset: seconds until the current window ends (refused: retry_after) */
	long retry_after; /* Retry-After when refused, else 0 */
};

/* The window length in seconds (SB_RATE_LIMIT_WINDOW_SECONDS, default 3600). */
long ratelimit_window(void);

/* True when one more request fits: cur + 1 + prev * (window - elapsed) / window <= limit.
 * cur does not include the request being decided. (The database applies the same rule
 * inside its upsert; this is its arithmetic, for tests and for reasoning.) */
bool ratelimit_fits(long limit, long window, long prev, long cur, double elapsed);

/* Fills out from a decision already taken: allowed, and the counts afterwards (cur
 * includes the request when it was admitted). Pure arithmetic, no clock. */
void ratelimit_compute(long limit, long window, long prev, long cur, double elapsed, bool allowed,
		       struct ratelimit_result *out);

/* Counts rq against its key's or client's budget (one atomic upsert) and adds the
 * RateLimit-* headers. Returns 0 when admitted, or the status it answered: 429
 * rate_limited with Retry-After, or 503/500 on database trouble. A request without a key
 * or client (rq->auth_kind) is not limited here and returns 0 at once. */
int ratelimit_apply(struct request *rq);

/* Leases (ratelimit_lease.c): a process reserves several slots in one upsert and spends
 * them without a round trip. SB_RATE_LIMIT_LEASE_MAX (default 32, 1 = off) caps a lease;
 * a budget under 512 per window is always counted one request at a time. */
struct ratelimit_counts {
	long prev, cur; /* cur includes the request just admitted */
	double elapsed;
};
/* The slots to reserve for a budget of limit: limit/256, within 1..max. */
long ratelimit_lease_size(long limit, long max);
/* Spends one slot of a live lease of id (same limit and window, still in its window at
 * now_ms, local monotonic) and says what the counters are from this process's view. */
bool ratelimit_lease_take(const char *id, long limit, long window, double now_ms, struct ratelimit_counts *out);
/* Keeps the granted slots but the one spent now (granted <= 1: nothing to keep). */
void ratelimit_lease_store(const char *id, long limit, long window, double now_ms, long granted,
			   const struct ratelimit_counts *after);
/* Forgets every lease (tests; a process after fork starts with none). */
void ratelimit_lease_clear(void);

#endif
