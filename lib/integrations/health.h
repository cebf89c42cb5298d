/* Health of a user's integration, checked now through the provider's health op (a real
 * connection for MQTT, every device's token for Blynk, the token (refreshed when due)
 * and a profile call for OAuth providers). Each check is recorded (status, last_error,
 * last_checked_at, a history row) and a change of status is published as
 * integration.health_changed. Used by GET .../{provider}/health and by the worker's
 * periodic checks, which call the same function with the worker as actor. */
#ifndef SB_HEALTH_H
#define SB_HEALTH_H

#include <stdbool.h>

#include "core/actor.h"
#include "db/db.h"

struct arena;
struct json_object;

enum health_result {
	HEALTH_CHECKED,	       /* *out holds the result, whatever the integration's state */
	HEALTH_NOT_CONFIGURED, /* no row for (user, provider), or an unknown provider */
	HEALTH_SECRET,	       /* a stored secret could not be opened */
	HEALTH_DB,	       /* database trouble */
	HEALTH_RESULT__MAX
};

/* Checks who->user_id's integration with provider (its name or URL segment). *out
 * (owned by the caller) is {provider, status, healthy, error, latency_ms, checked_at}. */
enum health_result health_check(struct arena *a, const struct actor *who, const char *provider,
				struct json_object **out);

/* The health word of a stored status: active, inactive, error, pending, expired. */
const char *health_status(const char *stored_status, bool enabled);

/* The recorded health of every integration of the user (nothing is contacted):
 * [{provider, status, healthy, enabled, last_error, last_checked_at, history}], a new
 * array owned by the caller. */
enum db_status health_list(struct arena *a, const char *user_id, struct json_object **out);

/* The last checks of the user's integration with provider, newest first: a new array
 * of {status, error, latency_ms, checked_at} owned by the caller. */
enum db_status health_history(struct arena *a, const char *user_id, const char *provider, struct json_object **out);

#endif
