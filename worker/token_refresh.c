/* Background token refresh: OAuth tokens that expire within the margin are refreshed
 * before anyone needs them, through the same function every use goes through (row
 * lock, re-read on refusal, audit and integration.token_refreshed event). */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "oauth_token.h"
#include "request.h"
#include "worker.h"

void token_refresh_run(void)
{
	struct arena *a = arena_new();
	if (!a)
		return;
	char margin[24], limit[24];
	snprintf(margin, sizeof(margin), "%ld", oauth_token_margin());
	snprintf(limit, sizeof(limit), "%ld", config_int("SB_WORKER_REFRESH_BATCH", 50, 1, 1000));
	const char *p[] = {margin, limit};
	PGresult *due;
	if (db_exec(a, &due,
		    "SELECT user_id, provider FROM user_integrations WHERE refresh_token IS NOT NULL AND enabled "
		    "AND status NOT IN ('expired', 'error') "
		    "AND token_expires_at < now() + make_interval(secs => $1::int) "
		    "ORDER BY token_expires_at LIMIT $2::int",
		    2, p) != DB_OK) {
		arena_free(a);
		return;
	}
	int refreshed = 0, failed = 0;
	struct arena *one = arena_new();
	for (int i = 0; one && i < PQntuples(due); i++) {
		/* A request of the worker's own: no address, no user agent in the audit trail. */
		struct request rq;
		memset(&rq, 0, sizeof(rq));
		rq.arena = one;
		rq.user_id = PQgetvalue(due, i, 0);
		struct oauth_token_use use;
		enum oauth_token_status st = oauth_token_get(&rq, rq.user_id, PQgetvalue(due, i, 1), false, &use);
		if (st == OAUTH_TOKEN_OK && use.refreshed)
			refreshed++;
		else if (st != OAUTH_TOKEN_OK)
			failed++;
		arena_reset(one);
	}
	if (refreshed || failed)
		log_msg(LOG_INFO, "token refresh: %d refreshed, %d not refreshed", refreshed, failed);
	arena_free(one);
	arena_free(a);
}
