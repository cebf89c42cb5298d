/* Slow-call slots: a bound on the slow outbound work (connection tests, pushes,
 * provider calls that may run up to their timeouts) a group runs at once, per group and
 * per user, across all of its processes and hosts. A slot is a PostgreSQL session-level
 * advisory lock on the process's own connection: it needs no table, and a process that
 * dies gives its slots back with its session. */
#ifndef SB_SLOT_H
#define SB_SLOT_H

struct arena;

enum slot_result {
	SLOT_OK,
	SLOT_GROUP_BUSY,  /* every slot of the group is taken: 503 + Retry-After */
	SLOT_USER_BUSY,	  /* this user holds all of theirs: 429 + Retry-After */
	SLOT_UNAVAILABLE, /* no database */
	SLOT_RESULT__MAX
};

/* Takes one of the user's slots (SB_SLOW_CALLS_PER_USER, default 2; one request more
 * per user may wait up to SB_SLOW_USER_WAIT_MS, default 2000, for one) and one of the
 * group's (SB_SLOW_CALLS_PER_GROUP, default half of SB_WORKERS, at least 1), both
 * released when the arena is reset (or by slot_release_all, whichever comes first).
 * user_id may be NULL (only the group's bound applies). */
enum slot_result slot_acquire(struct arena *a, const char *group, const char *user_id);

/* Gives back every slot this process holds (after the handler; idempotent). */
void slot_release_all(void);

/* Seconds a refused caller should wait: the outbound timeout, rounded up. */
long slot_retry_after(void);

#endif
