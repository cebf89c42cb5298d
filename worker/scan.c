/* The shape both periodic integration jobs share: select due (user, provider) rows,
 * then run one job per row acting as that user from the worker, each with a fresh arena. */
#include "core/actor.h"
#include "core/arena.h"
#include "core/log.h"
#include "db/db.h"
#include "worker.h"

void scan_integrations(const char *what, const char *sql, int n, const char *const *params, scan_job job)
{
	struct arena *a = arena_new(), *one = arena_new();
	PGresult *due;
	if (!a || !one || db_exec(a, &due, sql, n, params) != DB_OK) {
		arena_free(one);
		arena_free(a);
		return;
	}
	int done = 0, bad = 0;
	for (int i = 0; i < PQntuples(due); i++) {
		/* No address, no user agent: the audit trail shows the worker acted. */
		struct actor who = {.user_id = PQgetvalue(due, i, 0)};
		int r = job(one, &who, PQgetvalue(due, i, 1));
		done += r > 0;
		bad += r < 0;
		arena_reset(one);
	}
	if (done || bad)
		log_msg(LOG_INFO, "%s: %d done, %d not", what, done, bad);
	arena_free(one);
	arena_free(a);
}
