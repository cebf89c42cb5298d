/* Periodic health checks: every enabled integration is checked once per
 * SB_HEALTH_CHECK_INTERVAL_SECONDS (an hour), through the same check as
 * GET /users/me/integrations/{provider}/health, so its status, history and
 * integration.health_changed events stay current without anyone asking. */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "health.h"
#include "jsonx.h"
#include "log.h"
#include "request.h"
#include "worker.h"

void health_scan_run(void)
{
	struct arena *a = arena_new();
	if (!a)
		return;
	char interval[24], limit[24];
	snprintf(interval, sizeof(interval), "%ld", config_int("SB_HEALTH_CHECK_INTERVAL_SECONDS", 3600, 10, 7 * 86400));
	snprintf(limit, sizeof(limit), "%ld", config_int("SB_WORKER_HEALTH_BATCH", 20, 1, 1000));
	const char *p[] = {interval, limit};
	PGresult *due;
	/* Rows changed recently were just saved or checked: their turn comes later. */
	if (db_exec(a, &due,
		    "SELECT user_id, provider FROM user_integrations WHERE enabled "
		    "AND coalesce(last_checked_at, updated_at) < now() - make_interval(secs => $1::int) "
		    "ORDER BY coalesce(last_checked_at, updated_at) LIMIT $2::int",
		    2, p) != DB_OK) {
		arena_free(a);
		return;
	}
	int checked = 0, unhealthy = 0;
	struct arena *one = arena_new();
	for (int i = 0; one && i < PQntuples(due); i++) {
		struct request rq;
		memset(&rq, 0, sizeof(rq));
		rq.arena = one;
		rq.user_id = PQgetvalue(due, i, 0);
		struct json_object *out;
		enum health_result r = health_check(&rq, PQgetvalue(due, i, 1), &out);
		if (r == HEALTH_CHECKED) {
			checked++;
			unhealthy += !jsonx_get_bool(out, "healthy", 0);
			json_object_put(out);
		} else if (r != HEALTH_DB) {
			/* Recorded as checked, so rows that cannot be checked (a secret that no key
			 * opens, a provider gone from the providers file) never hold the queue. */
			const char *fp[] = {rq.user_id, PQgetvalue(due, i, 1),
					    r == HEALTH_SECRET ? "a stored secret could not be decrypted: reconnect"
							       : "the provider is no longer configured on this server"};
			db_exec(one, NULL,
				"UPDATE user_integrations SET last_checked_at = now(), status = 'error', last_error = $3 "
				"WHERE user_id = $1 AND provider = $2",
				3, fp);
			unhealthy++;
		}
		arena_reset(one);
	}
	if (checked)
		log_msg(LOG_INFO, "health checks: %d checked, %d not healthy", checked, unhealthy);
	arena_free(one);
	arena_free(a);
}
