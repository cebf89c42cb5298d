/* POST /users/me/integrations/mqtt/test: a real connection to the broker. With a body,
 * tests that config (a missing password falls back to the stored one, for the same
 * broker and user only) and stores nothing; only broker_url is required (spec 000's
 * MQTTTestRequest). With no body, tests the saved config and
 * records the outcome. No transaction is open while the broker is being reached. */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/validate.h"
#include "events/audit.h"
#include "integrations/integration.h"
#include "integrations/integration_events.h"
#include "integrations/providers/mqtt.h"
#include "integrations/providers/provider.h"
#include "net/mqtt_probe.h"

const struct field mqtt_test_timeout_field[] = {
	{"timeout_seconds", FIELD_INT, false, 1, 15, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

/* {field: message} of a config to test, or NULL (owned by the caller). */
static struct json_object *body_errors(const struct provider *p, struct json_object *body)
{
	struct json_object *errors = NULL, *more = NULL;
	validate_object(body, p->config_fields, &errors);
	validate_object(body, mqtt_test_timeout_field, &more);
	if (!errors)
		errors = json_object_new_object();
	if (more) {
		json_object_object_foreach(more, k, v)
		{
			json_object_object_add(errors, k, json_object_get(v));
		}
		json_object_put(more);
	}
	/* Spec 000's MQTTTestRequest is {broker_url, username, password, use_authentication}:
	 * a settings form tests the broker before the device fields are filled, so only
	 * broker_url is required (device_id and topic_prefix are checked when present). The
	 * save rules run on a copy marked disabled, which skips their required fields. */
	struct json_object *copy = json_object_new_object(), *ignored;
	json_object_object_foreach(body, k, v)
	{
		json_object_object_add(copy, k, json_object_get(v));
	}
	json_object_object_add(copy, "enabled", json_object_new_boolean(0));
	p->validate(copy, errors);
	json_object_put(copy);
	struct json_object *url;
	if ((!json_object_object_get_ex(body, "broker_url", &url) || !url) &&
	    !json_object_object_get_ex(errors, "broker_url", &ignored))
		json_object_object_add(errors, "broker_url", json_object_new_string("is required"));
	if (json_object_object_length(errors) == 0) {
		json_object_put(errors);
		return NULL;
	}
	return errors;
}

/* The password for a tested body: its own, or the stored one when the body names the
 * saved broker and user. 0, or -1 when the stored one cannot be opened. */
static int body_password(struct arena *a, const struct integration *saved, struct mqtt_probe_options *o,
			 struct json_object *body)
{
	const char *given = jsonx_get_string(body, "password");
	if (given) {
		o->password = given;
		return 0;
	}
	const char *url = saved ? jsonx_get_string(saved->config, "broker_url") : NULL;
	const char *user = saved ? jsonx_get_string(saved->config, "username") : NULL;
	if (!url || !o->broker_url || strcmp(url, o->broker_url) || !user || !o->username || strcmp(user, o->username))
		return 0;
	char *stored = NULL;
	if (integration_open(a, saved->config, saved->user_id, "mqtt", "password", &stored) < 0)
		return -1;
	o->password = stored;
	return 0;
}

/* Records a test of the saved config: status, health event, audit. */
static enum db_status record(const struct provider_call *c, const struct integration *row, struct json_object *result)
{
	bool ok = jsonx_get_bool(result, "connected", 0);
	const char *status = ok ? "connected" : "error";
	enum db_status s = db_begin(c->a);
	if (s == DB_OK)
		s = integration_record_check(c->a, c->user_id, "mqtt", status, jsonx_get_string(result, "error"), ok);
	if (s == DB_OK)
		s = integration_event_health_changed(c->a, c->user_id, "mqtt", row->status, status);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "connected", json_object_new_boolean(ok));
		json_object_object_add(d, "error_code", jsonx_string_or_null(jsonx_get_string(result, "error_code")));
		s = audit_record(c->a, c->who, "integration.tested", "mqtt", d);
	}
	return db_finish(c->a, s);
}

static int secret_failed(const struct provider_call *c, struct provider_result *r)
{
	log_msg(LOG_ERROR, "stored MQTT password of user %s could not be opened", c->user_id);
	return provider_secret(r, "The stored password could not be decrypted; save the configuration again");
}

int mqtt_test(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct integration row;
	bool found;
	enum db_status s = integration_load(c->a, c->user_id, "mqtt", false, &row, &found);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	struct mqtt_probe_options o;
	if (!c->body) {
		if (!found)
			return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "No saved MQTT configuration to test");
		int rc = mqtt_saved_probe_options(c->a, &row, &o);
		if (rc < 0)
			return secret_failed(c, r);
		if (rc > 0)
			return provider_invalid_field(r, "broker_url", "is not configured: save a broker_url first");
	} else {
		struct json_object *errors = body_errors(p, c->body), *t;
		if (errors)
			return provider_invalid(r, errors);
		mqtt_probe_defaults(&o, c->body);
		if (!o.broker_url)
			return provider_invalid_field(r, "broker_url", "is not configured: save a broker_url first");
		if (json_object_object_get_ex(c->body, "timeout_seconds", &t))
			o.timeout_ms = json_object_get_int(t) * 1000;
		if (jsonx_get_bool(c->body, "use_authentication", 0)) {
			o.username = jsonx_get_string(c->body, "username");
			if (body_password(c->a, found ? &row : NULL, &o, c->body))
				return secret_failed(c, r);
		}
	}
	struct json_object *result = mqtt_probe(c->a, &o);
	if (!c->body && (s = record(c, &row, result)) != DB_OK) {
		json_object_put(result);
		return provider_db(c->a, r, s);
	}
	return provider_ok(r, result, "MQTT connection test completed");
}
