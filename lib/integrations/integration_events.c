/* integration.* events; see integration_events.h. */
#include "integrations/integration_events.h"

#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "events/events.h"
#include "integrations/health.h"

/* The members every integration event has; the caller adds the rest. */
static struct json_object *base(struct arena *a, const char *user_id, const char *provider)
{
	struct json_object *d = arena_defer(a, jsonx_put, json_object_new_object());
	json_object_object_add(d, "provider", json_object_new_string(provider));
	json_object_object_add(d, "user_id", json_object_new_string(user_id));
	return d;
}

static enum db_status publish(struct arena *a, const char *user_id, const char *type, struct json_object *d)
{
	struct event_published out;
	return events_publish(a, user_id, type, d, NULL, &out);
}

enum db_status integration_event_connected(struct arena *a, const char *user_id, const char *provider,
					   const char *status, const char *account, struct json_object *scopes)
{
	struct json_object *d = base(a, user_id, provider);
	json_object_object_add(d, "status", jsonx_string_or_null(status));
	json_object_object_add(d, "account", jsonx_string_or_null(account));
	json_object_object_add(d, "scopes", scopes ? json_object_get(scopes) : NULL);
	return publish(a, user_id, "integration.connected", d);
}

enum db_status integration_event_updated(struct arena *a, const char *user_id, const char *provider, const char *status,
					 bool enabled, struct json_object *settings)
{
	struct json_object *d = base(a, user_id, provider);
	json_object_object_add(d, "status", jsonx_string_or_null(status));
	json_object_object_add(d, "enabled", json_object_new_boolean(enabled));
	json_object_object_add(d, "settings", settings ? json_object_get(settings) : NULL);
	return publish(a, user_id, "integration.updated", d);
}

enum db_status integration_event_disconnected(struct arena *a, const char *user_id, const char *provider, int revoked)
{
	struct json_object *d = base(a, user_id, provider);
	json_object_object_add(d, "revoked", revoked < 0 ? NULL : json_object_new_boolean(revoked));
	return publish(a, user_id, "integration.disconnected", d);
}

enum db_status integration_event_token_refreshed(struct arena *a, const char *user_id, const char *provider,
						 const char *status, const char *expires_at)
{
	struct json_object *d = base(a, user_id, provider);
	json_object_object_add(d, "status", jsonx_string_or_null(status));
	json_object_object_add(d, "expires_at", jsonx_string_or_null(expires_at));
	return publish(a, user_id, "integration.token_refreshed", d);
}

enum db_status integration_event_health_changed(struct arena *a, const char *user_id, const char *provider,
						const char *previous_stored, const char *new_stored)
{
	const char *was = health_status(previous_stored, true), *now = health_status(new_stored, true);
	if (!strcmp(was, now))
		return DB_OK;
	struct json_object *d = base(a, user_id, provider);
	json_object_object_add(d, "status", json_object_new_string(now));
	json_object_object_add(d, "previous_status", json_object_new_string(was));
	return publish(a, user_id, "integration.health_changed", d);
}
