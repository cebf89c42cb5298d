/* Health of the caller's integrations: the recorded state of all of them, and a check
 * of one now. */
#include <json-c/json.h>

#include "db/db.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"
#include "integrations/health.h"
#include "integrations/providers/provider.h"

/* 200 [{provider, status, healthy, enabled, last_error, last_checked_at, history}] | 401 | 403 | 503
 * What the last checks found; nothing is contacted. */
int handle_health_list(struct request *rq)
{
	struct json_object *list;
	enum db_status s = health_list(rq->arena, rq->user_id, &list);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, list, "Integration health");
}

/* 200 {provider, status, healthy, error, latency_ms, checked_at, history} | 401 | 403 |
 * 404 (unknown provider, not configured) | 500 (stored secret unreadable) | 503
 * Checks now; an outside service that fails is the result (status error), not an HTTP error. */
int handle_health_check(struct request *rq)
{
	/* The stored name: "arduino-cloud" in the URL is "arduino_cloud" in the rows. */
	const struct provider *p = provider_find(request_param(rq, "provider"));
	return reply_health_check(rq, p ? p->name : request_param(rq, "provider"), NULL);
}

int reply_health_check(struct request *rq, const char *provider, const char *integration_id)
{
	struct json_object *out, *history;
	switch (health_check(rq->arena, request_actor(rq, rq->user_id), provider, &out)) {
	case HEALTH_NOT_CONFIGURED:
		return reply_error(rq, 404, "not_found", "This integration is not configured");
	case HEALTH_SECRET:
		return reply_error(rq, 500, "secret_unavailable",
				   "A stored secret could not be decrypted; connect or save the integration again");
	case HEALTH_DB:
		return reply_db_failure(rq, DB_UNAVAILABLE);
	default:
		break;
	}
	enum db_status s = health_history(rq->arena, rq->user_id, provider, &history);
	if (s != DB_OK) {
		json_object_put(out);
		return reply_db_failure(rq, s);
	}
	json_object_object_add(out, "history", history);
	if (integration_id)
		json_object_object_add(out, "integration_id", json_object_new_string(integration_id));
	return reply_ok(rq, 200, out, "Integration health checked");
}
