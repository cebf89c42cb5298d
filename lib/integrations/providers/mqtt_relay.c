/* POST /users/me/integrations/mqtt/ws-ticket: a single-use ticket (30 s) with which the
 * user's browser opens the relay's WebSocket (relay/, MQTT_RELAY_WS_PATH) to the saved
 * broker. Needs a saved, enabled configuration with a broker_url. */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "events/audit.h"
#include "integrations/integration.h"
#include "integrations/providers/mqtt.h"
#include "integrations/providers/provider.h"
#include "integrations/relay_store.h"

/* The WebSocket URL of the ticket: absolute under SB_PUBLIC_URL (https -> wss), else
 * the path, which a browser resolves against the page's origin. */
static const char *ticket_url(struct arena *a, const char *ticket)
{
	const char *base = config_str("SB_PUBLIC_URL", NULL), *scheme = NULL;
	if (base && !strncmp(base, "https://", 8))
		scheme = "wss://", base += 8;
	else if (base && !strncmp(base, "http://", 7))
		scheme = "ws://", base += 7;
	size_t n = base ? strlen(base) : 0;
	while (n && base[n - 1] == '/')
		n--;
	if (!scheme)
		return arena_printf(a, MQTT_RELAY_WS_PATH "?ticket=%s", ticket);
	return arena_printf(a, "%s%.*s" MQTT_RELAY_WS_PATH "?ticket=%s", scheme, (int)n, base, ticket);
}

int mqtt_ws_ticket(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)p;
	struct integration row;
	bool found;
	enum db_status s = integration_load(c->a, c->user_id, "mqtt", false, &row, &found);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (!found)
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "No saved MQTT configuration");
	if (!row.enabled)
		return provider_fail(r, PROVIDER_CONFLICT, "integration_disabled", "The MQTT integration is disabled");
	if (!jsonx_get_string(row.config, "broker_url"))
		return provider_invalid_field(r, "broker_url", "is not configured: save a broker_url first");
	const char *ticket = NULL;
	s = db_begin(c->a);
	if (s == DB_OK)
		s = relay_ticket_issue(c->a, c->user_id, &ticket);
	if (s == DB_OK)
		s = audit_record(c->a, c->who, "integration.relay_ticket", "mqtt", NULL);
	if ((s = db_finish(c->a, s)) != DB_OK)
		return provider_db(c->a, r, s);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "ticket", json_object_new_string(ticket));
	json_object_object_add(d, "expires_in", json_object_new_int(MQTT_RELAY_TICKET_TTL));
	json_object_object_add(d, "url", json_object_new_string(ticket_url(c->a, ticket)));
	json_object_object_add(d, "subprotocol", json_object_new_string("mqtt"));
	return provider_ok(r, d, "Open the WebSocket within 30 seconds; the ticket works once");
}
