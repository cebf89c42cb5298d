/* Per-process leases on the shared rate-limit counters; see ratelimit.h.
 *
 * One hot key or client served by many processes made every request an upsert of the
 * same counter row, and the row lock serialised them (measured: about 5,000 upserts/s
 * on that row whatever the number of processes). A process now reserves a few slots
 * with one upsert and spends them locally. The database still checks every reservation
 * against the limit under the row lock, so the sum over all processes and hosts never
 * passes it; what a process reserved and did not spend before its window ends counts as
 * used, so the error is only ever on the safe side, and bounded by processes x lease. */
#include "http/ratelimit.h"

#include <string.h>

#define LEASES 16

struct lease {
	char id[160];
	long limit, window;
	long left;	   /* reserved slots not yet spent */
	long cur;	   /* the window's count right after the reservation */
	long prev;	   /* the previous window's count then */
	double elapsed;	   /* seconds into the window then (the database's clock) */
	double granted_ms; /* local monotonic time then */
};

static struct lease leases[LEASES];
static unsigned next_victim;

long ratelimit_lease_size(long limit, long max)
{
	/* Small budgets are counted exactly: the 256th of the limit rounds down to 1. */
	long n = limit / 256;
	if (n > max)
		n = max;
	return n < 1 ? 1 : n;
}

static struct lease *find(const char *id, long limit, long window)
{
	for (size_t i = 0; i < LEASES; i++)
		if (leases[i].left > 0 && leases[i].limit == limit && leases[i].window == window &&
		    !strcmp(leases[i].id, id))
			return &leases[i];
	return NULL;
}

bool ratelimit_lease_take(const char *id, long limit, long window, double now_ms, struct ratelimit_counts *out)
{
	struct lease *l = find(id, limit, window);
	if (!l)
		return false;
	double elapsed = l->elapsed + (now_ms - l->granted_ms) / 1000.0;
	if (elapsed >= (double)window || now_ms < l->granted_ms) {
		l->left = 0; /* its window is over: the slots die with it */
		return false;
	}
	l->left--;
	*out = (struct ratelimit_counts){.prev = l->prev, .cur = l->cur - l->left, .elapsed = elapsed};
	return true;
}

void ratelimit_lease_store(const char *id, long limit, long window, double now_ms, long granted,
			   const struct ratelimit_counts *after)
{
	if (granted <= 1 || strlen(id) >= sizeof(leases[0].id))
		return; /* nothing left over to keep */
	struct lease *l = find(id, limit, window);
	if (!l) {
		for (size_t i = 0; i < LEASES && !l; i++)
			if (leases[i].left <= 0)
				l = &leases[i];
		if (!l)
			l = &leases[next_victim++ % LEASES];
	}
	*l = (struct lease){.limit = limit,
			    .window = window,
			    .left = granted - 1,
			    .cur = after->cur,
			    .prev = after->prev,
			    .elapsed = after->elapsed,
			    .granted_ms = now_ms};
	memcpy(l->id, id, strlen(id) + 1);
}

void ratelimit_lease_clear(void)
{
	memset(leases, 0, sizeof(leases));
	next_victim = 0;
}
