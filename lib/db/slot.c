/* Slow-call slots as advisory locks; see slot.h. */
#include "db/slot.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "core/monotime.h"
#include "db/db.h"

#define MAX_HELD 3

static long long held[MAX_HELD];
static int nheld;

/* FNV-1a of the parts: the base of a slot's lock keys. Slots are base + 0..n-1. */
static long long slot_base(const char *kind, const char *group, const char *user)
{
	unsigned long long h = 1469598103934665603ULL;
	const char *parts[] = {kind, group, user ? user : ""};
	for (size_t i = 0; i < 3; i++) {
		for (const char *p = parts[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	return (long long)(h & 0x3fffffffffff0000ULL); /* room for the slot numbers below */
}

/* Tries the locks base..base+n-1 in order and keeps the first one free. Returns 1 when
 * one was taken, 0 when all are held by others, -1 when the database failed. */
static int take_one(struct arena *a, long long base, long n)
{
	char b[24], c[24];
	snprintf(b, sizeof(b), "%lld", base);
	snprintf(c, sizeof(c), "%ld", n);
	const char *params[] = {b, c};
	PGresult *res;
	/* The Limit stops the scan at the first lock taken: no slot is locked needlessly. */
	if (db_exec(a, &res,
		    "SELECT $1::bigint + i FROM generate_series(0, $2::int - 1) AS i "
		    "WHERE pg_try_advisory_lock($1::bigint + i) LIMIT 1",
		    2, params) != DB_OK)
		return -1;
	if (PQntuples(res) == 0)
		return 0;
	if (nheld < MAX_HELD)
		sscanf(PQgetvalue(res, 0, 0), "%lld", &held[nheld++]);
	return 1;
}

static void release_cb(void *unused)
{
	(void)unused;
	slot_release_all();
}

void slot_release_all(void)
{
	PGconn *c = nheld ? db_conn() : NULL;
	for (int i = 0; c && i < nheld; i++) {
		char key[24];
		snprintf(key, sizeof(key), "%lld", held[i]);
		const char *params[] = {key};
		PQclear(PQexecParams(c, "SELECT pg_advisory_unlock($1::bigint)", 1, NULL, params, NULL, NULL, 0));
	}
	nheld = 0;
}

/* Gives back the last lock taken (the waiting turn, once the wait is over). */
static void release_last(void)
{
	PGconn *c = nheld ? db_conn() : NULL;
	if (!c)
		return;
	char key[24];
	snprintf(key, sizeof(key), "%lld", held[--nheld]);
	const char *params[] = {key};
	PQclear(PQexecParams(c, "SELECT pg_advisory_unlock($1::bigint)", 1, NULL, params, NULL, NULL, 0));
}

/* A user whose slots are all taken may have one request wait a moment for one (a
 * frontend firing three calls at once is served, not refused): the waiting turn is one
 * more lock per user, so a user never holds more than per_user + 1 workers, and the wait
 * is bounded by SB_SLOW_USER_WAIT_MS. Returns like take_one. */
static int wait_for_user_slot(struct arena *a, const char *group, const char *user_id, long per_user)
{
	long wait_ms = config_int("SB_SLOW_USER_WAIT_MS", 2000, 0, 60000);
	if (wait_ms == 0)
		return 0;
	int r = take_one(a, slot_base("slow-wait", group, user_id), 1);
	if (r <= 0)
		return r;
	double deadline = monotime_ms() + (double)wait_ms;
	long long base = slot_base("slow-user", group, user_id);
	do {
		struct timespec pause = {0, 25 * 1000 * 1000};
		nanosleep(&pause, NULL);
		r = take_one(a, base, per_user);
	} while (r == 0 && monotime_ms() < deadline);
	if (r > 0) { /* the turn was taken before the slot: it sits under it in held[] */
		long long slot = held[--nheld];
		release_last();
		held[nheld++] = slot;
	} else {
		release_last();
	}
	return r;
}

long slot_retry_after(void)
{
	return (config_int("SB_OUTBOUND_TIMEOUT_MS", 10000, 100, 600000) + 999) / 1000;
}

enum slot_result slot_acquire(struct arena *a, const char *group, const char *user_id)
{
	static char token; /* a non-NULL pointer for arena_defer */
	long workers = config_int("SB_WORKERS", 4, 1, 64);
	long per_group = config_int("SB_SLOW_CALLS_PER_GROUP", workers > 1 ? workers / 2 : 1, 1, 1000);
	long per_user = config_int("SB_SLOW_CALLS_PER_USER", 2, 1, 1000);
	arena_defer(a, release_cb, &token);
	if (user_id) {
		int r = take_one(a, slot_base("slow-user", group, user_id), per_user);
		if (r == 0)
			r = wait_for_user_slot(a, group, user_id, per_user);
		if (r <= 0)
			return r < 0 ? SLOT_UNAVAILABLE : SLOT_USER_BUSY;
	}
	int r = take_one(a, slot_base("slow-group", group, NULL), per_group);
	if (r <= 0) {
		slot_release_all();
		return r < 0 ? SLOT_UNAVAILABLE : SLOT_GROUP_BUSY;
	}
	return SLOT_OK;
}
