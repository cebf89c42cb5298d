/* Periodic health checks: every enabled integration is checked once per
 * SB_HEALTH_CHECK_INTERVAL_SECONDS (an hour), through the same check as
 * GET /users/me/integrations/{provider}/health, so its status, history and
 * integration.health_changed events stay current without anyone asking. */
#include <json-c/json.h>
#include <stdio.h>

#include "core/config.h"
#include "core/jsonx.h"
#include "db/db.h"
#include "integrations/health.h"
#include "integrations/integration.h"
#include "worker.h"

/* 1 healthy, -1 not (or not checkable). */
static int check_one(struct arena *a, const struct actor *who, const char *provider)
{
	struct json_object *out;
	enum health_result r = health_check(a, who, provider, &out);
	if (r == HEALTH_CHECKED) {
		int healthy = jsonx_get_bool(out, "healthy", 0);
		json_object_put(out);
		return healthy ? 1 : -1;
	}
	if (r != HEALTH_DB) {
		/* Recorded as checked, so rows that cannot be checked (a secret that no key
		 * opens, a provider gone from the providers file) never hold the queue. */
		integration_record_check(a, who->user_id, provider, "error",
					 r == HEALTH_SECRET ? "a stored secret could not be decrypted: reconnect"
							    : "the provider is no longer configured on this server",
					 false);
	}
	return -1;
}

void health_scan_run(void)
{
	char interval[24], limit[24];
	snprintf(interval, sizeof(interval), "%ld",
		 config_int("SB_HEALTH_CHECK_INTERVAL_SECONDS", 3600, 10, 7 * 86400));
	snprintf(limit, sizeof(limit), "%ld", config_int("SB_WORKER_HEALTH_BATCH", 20, 1, 1000));
	const char *p[] = {interval, limit};
	/* Rows changed recently were just saved or checked: their turn comes later. */
	scan_integrations("health checks",
			  "SELECT user_id, provider FROM user_integrations WHERE enabled "
			  "AND coalesce(last_checked_at, updated_at) < now() - make_interval(secs => $1::int) "
			  "ORDER BY coalesce(last_checked_at, updated_at) LIMIT $2::int",
			  2, p, check_one);
}
