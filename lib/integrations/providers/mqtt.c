/* MQTT: the user's own broker (spec 001 §1). Config: broker_url, optional
 * username/password, device_id, topic_prefix. The password is write-only. */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "integrations/integration.h"
#include "integrations/providers/mqtt.h"
#include "integrations/providers/provider.h"
#include "net/mqtt_probe.h"
#include "integrations/relay_store.h"
#include "net/mqtt_url.h"

static const char *check_topic_prefix(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	if (strpbrk(s, "+#"))
		return "must not contain the wildcards + or #";
	if (s[0] == '$')
		return "must not start with $ (reserved for broker topics)";
	return check_printable(v);
}

static const char *check_broker_url(struct json_object *v)
{
	struct arena *a = arena_new();
	struct mqtt_url u;
	const char *msg = mqtt_url_parse(a, json_object_get_string(v), &u);
	arena_free(a);
	return msg; /* messages are static strings */
}

static const struct field mqtt_fields[] = {
	{"enabled", FIELD_BOOL, false, 0, 0, NULL},
	{"broker_url", FIELD_STRING, false, 1, 2048, check_broker_url},
	{"username", FIELD_STRING, false, 0, 256, check_printable},
	{"password", FIELD_STRING, false, 0, 1024, NULL},
	{"use_authentication", FIELD_BOOL, false, 0, 0, NULL},
	{"device_id", FIELD_STRING, false, 1, 128, check_printable},
	{"topic_prefix", FIELD_STRING, false, 1, 200, check_topic_prefix},
	{NULL, 0, false, 0, 0, NULL},
};

static const char *const mqtt_secrets[] = {"password", NULL};

static bool present(struct json_object *body, const char *name)
{
	struct json_object *v;
	return json_object_object_get_ex(body, name, &v) && v;
}

/* Runs after the field table: what an enabled config needs. Fields that already failed
 * keep their first message. */
static void mqtt_validate(struct json_object *body, struct json_object *errors)
{
	struct json_object *ignored;
	bool enabled = jsonx_get_bool(body, "enabled", 1);
	if (enabled) {
		static const char *const required[] = {"broker_url", "device_id", "topic_prefix"};
		for (size_t i = 0; i < 3; i++)
			if (!present(body, required[i]) && !json_object_object_get_ex(errors, required[i], &ignored))
				json_object_object_add(
					errors, required[i],
					json_object_new_string("is required when the integration is enabled"));
	}
	const char *user = jsonx_get_string(body, "username");
	if (jsonx_get_bool(body, "use_authentication", 0) && (!user || !*user) &&
	    !json_object_object_get_ex(errors, "username", &ignored))
		json_object_object_add(errors, "username",
				       json_object_new_string("is required when use_authentication is true"));
}

static void copy_string(struct json_object *from, struct json_object *to, const char *name)
{
	const char *s = jsonx_get_string(from, name);
	if (s)
		json_object_object_add(to, name, json_object_new_string(s));
}

static int mqtt_config_build(struct arena *a, const char *user_id, struct json_object *body,
			     const struct integration *prev, struct json_object **out)
{
	struct json_object *c = json_object_new_object();
	copy_string(body, c, "broker_url");
	copy_string(body, c, "device_id");
	copy_string(body, c, "topic_prefix");
	bool auth = jsonx_get_bool(body, "use_authentication", 0);
	json_object_object_add(c, "use_authentication", json_object_new_boolean(auth));
	const char *user = jsonx_get_string(body, "username");
	if (user && *user)
		json_object_object_add(c, "username", json_object_new_string(user));
	const char *password = jsonx_get_string(body, "password");
	if (password && *password) {
		if (integration_seal(a, c, user_id, "mqtt", "password", password)) {
			json_object_put(c);
			return -1;
		}
	} else if (!password && prev) {
		/* No password in the body keeps the stored one; "" clears it. */
		const char *sealed = jsonx_get_string(prev->config, "password_encrypted");
		if (sealed)
			json_object_object_add(c, "password_encrypted", json_object_new_string(sealed));
	}
	*out = arena_defer(a, jsonx_put, c);
	return 0;
}

void mqtt_probe_defaults(struct mqtt_probe_options *o, struct json_object *c)
{
	memset(o, 0, sizeof(*o));
	o->broker_url = jsonx_get_string(c, "broker_url");
	o->device_id = jsonx_get_string(c, "device_id");
	o->topic_prefix = jsonx_get_string(c, "topic_prefix");
	o->ca_file = config_str("SB_MQTT_CA_FILE", NULL);
	o->timeout_ms = (int)config_int("SB_MQTT_TEST_TIMEOUT_MS", 5000, 500, 15000);
}

int mqtt_saved_probe_options(struct arena *a, const struct integration *row, struct mqtt_probe_options *o)
{
	struct json_object *c = row->config;
	mqtt_probe_defaults(o, c);
	if (!o->broker_url)
		return 1;
	if (jsonx_get_bool(c, "use_authentication", 0)) {
		o->username = jsonx_get_string(c, "username");
		char *stored = NULL;
		if (integration_open(a, c, row->user_id, "mqtt", "password", &stored) < 0)
			return -1;
		o->password = stored;
	}
	return 0;
}

/* A real connection to the saved broker. */
static void mqtt_health(struct arena *a, const struct actor *who, const struct provider *p,
			const struct integration *row, struct provider_health *o)
{
	(void)who;
	(void)p;
	struct mqtt_probe_options opt;
	int rc = mqtt_saved_probe_options(a, row, &opt);
	if (rc < 0) {
		o->secret_failed = true;
		return;
	}
	if (rc > 0) {
		o->status = "error";
		o->error = "no broker_url is saved";
		return;
	}
	struct json_object *r = mqtt_probe(a, &opt);
	bool ok = jsonx_get_bool(r, "connected", 0);
	o->status = ok ? "connected" : "error";
	o->error = ok ? NULL : arena_strdup(a, jsonx_get_string(r, "error"));
	json_object_put(r);
}

/* The view of row with relay, the view of its relay sessions (NULL: unknown). */
static struct json_object *view_with(const struct integration *row, struct json_object *relay)
{
	struct json_object *v = json_object_new_object(), *c = row->config;
	struct json_object *tmp;
	json_object_object_add(v, "enabled", json_object_new_boolean(row->enabled));
	json_object_object_add(v, "broker_url", jsonx_string_or_null(jsonx_get_string(c, "broker_url")));
	json_object_object_add(v, "username", jsonx_string_or_null(jsonx_get_string(c, "username")));
	json_object_object_add(v, "use_authentication",
			       json_object_new_boolean(jsonx_get_bool(c, "use_authentication", 0)));
	json_object_object_add(v, "has_password",
			       json_object_new_boolean(json_object_object_get_ex(c, "password_encrypted", &tmp)));
	json_object_object_add(v, "device_id", jsonx_string_or_null(jsonx_get_string(c, "device_id")));
	json_object_object_add(v, "topic_prefix", jsonx_string_or_null(jsonx_get_string(c, "topic_prefix")));
	json_object_object_add(v, "last_connected_at", jsonx_string_or_null(row->last_used_at));
	json_object_object_add(v, "status", jsonx_string_or_null(row->status));
	json_object_object_add(v, "last_error", jsonx_string_or_null(row->last_error));
	json_object_object_add(v, "last_checked_at", jsonx_string_or_null(row->last_checked_at));
	json_object_object_add(v, "updated_at", jsonx_string_or_null(row->updated_at));
	json_object_object_add(v, "relay", relay ? relay : json_object_new_null());
	return v;
}

static struct json_object *mqtt_view(struct arena *a, const struct integration *row)
{
	return view_with(row, relay_sessions_view(a, row->user_id));
}

/* The GET: the row and its relay sessions in one round trip. */
static int mqtt_get(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)p;
	struct integration row;
	struct json_object *relay;
	bool found;
	enum db_status s = integration_load_mqtt(c->a, c->user_id, &row, &relay, &found);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (!found)
		return provider_not_configured(r);
	return provider_ok(r, view_with(&row, relay), NULL);
}

static void mqtt_catalog(struct json_object *entry)
{
	json_object_object_add(entry, "default_broker_url",
			       jsonx_string_or_null(config_str("DEFAULT_MQTT_BROKER_URL", NULL)));
	struct json_object *schemes = json_object_new_array();
	static const char *const names[] = {"mqtt", "mqtts", "tcp", "ssl", "ws", "wss"};
	for (size_t i = 0; i < 6; i++)
		json_object_array_add(schemes, json_object_new_string(names[i]));
	json_object_object_add(entry, "url_schemes", schemes);
	struct json_object *req = json_object_new_array();
	static const char *const required[] = {"broker_url", "device_id", "topic_prefix"};
	for (size_t i = 0; i < 3; i++)
		json_object_array_add(req, json_object_new_string(required[i]));
	json_object_object_add(entry, "required_when_enabled", req);
}

/* A test body is a config (none of it required) and a timeout. */
static const struct field *const mqtt_test_accepts[] = {mqtt_fields, mqtt_test_timeout_field, NULL};

static const struct provider_action mqtt_actions[] = {
	{"test", false, NULL, mqtt_test, NULL, mqtt_test_accepts},
	{"ws-ticket", false, NULL, mqtt_ws_ticket, NULL, NULL},
	{NULL, false, NULL, NULL},
};

const struct provider provider_mqtt = {
	.saved_status = "disconnected",
	.name = "mqtt",
	.display_name = "MQTT Broker",
	.description = "Your own MQTT broker for device communication (Remote Lab)",
	.auth = PROVIDER_AUTH_CONFIG,
	.config_fields = mqtt_fields,
	.validate = mqtt_validate,
	.secret_fields = mqtt_secrets,
	.config_build = mqtt_config_build,
	.view = mqtt_view,
	.get = mqtt_get,
	.catalog = mqtt_catalog,
	.health = mqtt_health,
	.actions = mqtt_actions,
};
