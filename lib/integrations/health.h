/* Health of a user's integration, checked now: a real connection for MQTT, every device's token for Blynk, the token
 * (refreshed when due) and a profile call for OAuth providers. Each check is recorded
 * (status, last_error, last_checked_at, a history row) and a change of status is
 * published as integration.health_changed. Used by GET .../{provider}/health and by
 * the worker's periodic checks. */
#ifndef SB_HEALTH_H
#define SB_HEALTH_H

#include <stdbool.h>

struct json_object;
struct request;

enum health_result {
	HEALTH_CHECKED,	       /* *out holds the result, whatever the integration's state */
	HEALTH_NOT_CONFIGURED, /* no row for (user, provider), or an unknown provider */
	HEALTH_SECRET,	       /* a stored secret could not be opened */
	HEALTH_DB,	       /* database trouble (rq->status is not set) */
	HEALTH_RESULT__MAX
};

/* Checks rq->user_id's integration with provider. *out (owned by the caller) is
 * {provider, status, healthy, error, latency_ms, checked_at}. */
enum health_result health_check(struct request *rq, const char *provider, struct json_object **out);

/* The health word of a stored status: active, inactive, error, pending, expired. */
const char *health_status(const char *stored_status, bool enabled);

/* Publishes integration.health_changed {provider, user_id, status, previous_status} (health
 * words) in the caller's transaction when the two stored statuses differ as health
 * words; nothing otherwise. The one place that event is made. */
#include "db/db.h"
struct arena;
enum db_status health_publish_change(struct arena *a, const char *user_id, const char *provider,
				     const char *previous_stored, const char *new_stored);

#endif
