/* The integration.* webhook events: the one module that publishes them, with one payload
 * shape per type (documented in the event catalogue of docs/openapi.yaml). Each is
 * published in the caller's transaction (the outbox), so it exists if and only if the
 * change that caused it was saved. Every payload has provider and user_id. */
#ifndef SB_INTEGRATION_EVENTS_H
#define SB_INTEGRATION_EVENTS_H

#include <stdbool.h>

#include "db/db.h"

struct arena;
struct json_object;

/* integration.connected {provider, user_id, status, account, scopes}: a first save of a
 * config integration (account and scopes null) or an OAuth connection (the provider's
 * account name and the granted scopes, an array not taken). */
enum db_status integration_event_connected(struct arena *a, const char *user_id, const char *provider,
					   const char *status, const char *account, struct json_object *scopes);

/* integration.updated {provider, user_id, status, enabled, settings}: a save of an
 * existing integration; settings (not taken) are the PATCHed settings, or null for a
 * saved configuration. */
enum db_status integration_event_updated(struct arena *a, const char *user_id, const char *provider, const char *status,
					 bool enabled, struct json_object *settings);

/* integration.disconnected {provider, user_id, revoked}: revoked is whether the
 * provider revoked the token (null when the integration held no OAuth token). */
enum db_status integration_event_disconnected(struct arena *a, const char *user_id, const char *provider,
					      int revoked /* 1, 0, -1 for null */);

/* integration.token_refreshed {provider, user_id, status, expires_at}. */
enum db_status integration_event_token_refreshed(struct arena *a, const char *user_id, const char *provider,
						 const char *status, const char *expires_at);

/* integration.health_changed {provider, user_id, status, previous_status} in health
 * words, published only when the two stored statuses differ as health words. */
enum db_status integration_event_health_changed(struct arena *a, const char *user_id, const char *provider,
						const char *previous_stored, const char *new_stored);

#endif
