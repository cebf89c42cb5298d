/* POST /users/me/integrations/mqtt/test: a real connection to the broker. */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/validate.h"
#include "db/db.h"
#include "events/audit.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"
#include "integrations/health.h"
#include "integrations/integration.h"
#include "integrations/providers/provider.h"
#include "net/mqtt_probe.h"

static const struct field timeout_field[] = {
	{"timeout_seconds", FIELD_INT, false, 1, 15, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

/* 200 result | 401 | 404 (empty body, nothing saved) | 415 | 422 | 500 | 503
 * With a body, tests that config (a missing password falls back to the stored one)
 * and stores nothing. With no body, tests the saved config and records the outcome.
 * No transaction is open while the broker is being reached. */
int handle_mqtt_test(struct request *rq)
{
	const struct provider *p = provider_find("mqtt");
	bool saved_test = rq->json == NULL;
	struct integration row;
	bool found;
	enum db_status s = integration_load(rq->arena, rq->user_id, "mqtt", false, &row, &found);
	if (s != DB_OK)
		return reply_db_failure(rq, s);

	struct json_object *cfg;
	if (saved_test) {
		if (!found)
			return reply_error(rq, 404, "not_found", "No saved MQTT configuration to test");
		cfg = row.config;
	} else {
		struct json_object *errors = NULL;
		validate_object(rq->json, p->config_fields, &errors);
		struct json_object *more = NULL;
		validate_object(rq->json, timeout_field, &more);
		if (!errors)
			errors = json_object_new_object();
		if (more) {
			json_object_object_foreach(more, k, v)
			{
				json_object_object_add(errors, k, json_object_get(v));
			}
			json_object_put(more);
		}
		struct json_object *body = json_object_get(rq->json);
		json_object_object_add(body, "enabled", json_object_new_boolean(1)); /* a test needs the fields */
		p->validate(body, errors);
		json_object_put(body);
		if (json_object_object_length(errors) > 0)
			return reply_invalid(rq, errors);
		json_object_put(errors);
		cfg = rq->json;
	}

	struct mqtt_probe_options o = {
		.broker_url = jsonx_get_string(cfg, "broker_url"),
		.device_id = jsonx_get_string(cfg, "device_id"),
		.topic_prefix = jsonx_get_string(cfg, "topic_prefix"),
		.ca_file = config_str("SB_MQTT_CA_FILE", NULL),
		.timeout_ms = (int)config_int("SB_MQTT_TEST_TIMEOUT_MS", 5000, 500, 15000),
	};
	if (!o.broker_url) {
		struct json_object *errors = json_object_new_object();
		json_object_object_add(errors, "broker_url",
				       json_object_new_string("is not configured: save a broker_url first"));
		return reply_invalid(rq, errors);
	}
	struct json_object *t;
	if (!saved_test && json_object_object_get_ex(rq->json, "timeout_seconds", &t))
		o.timeout_ms = json_object_get_int(t) * 1000;
	if (jsonx_get_bool(cfg, "use_authentication", 0)) {
		o.username = jsonx_get_string(cfg, "username");
		const char *given = saved_test ? NULL : jsonx_get_string(cfg, "password");
		/* The stored password only ever goes to the broker and user it was saved for:
		 * a body naming another broker or username must bring its own. */
		const char *saved_url = found ? jsonx_get_string(row.config, "broker_url") : NULL;
		const char *saved_user = found ? jsonx_get_string(row.config, "username") : NULL;
		bool same_target = saved_test || (saved_url && o.broker_url && !strcmp(saved_url, o.broker_url) &&
						  saved_user && o.username && !strcmp(saved_user, o.username));
		if (given) {
			o.password = given;
		} else if (found && same_target) {
			char *stored = NULL;
			if (integration_open(rq->arena, row.config, rq->user_id, "mqtt", "password", &stored) < 0) {
				log_msg(LOG_ERROR, "stored MQTT password of user %s could not be opened", rq->user_id);
				return reply_error(
					rq, 500, "secret_unavailable",
					"The stored password could not be decrypted; save the configuration again");
			}
			o.password = stored;
		}
	}

	struct json_object *result = mqtt_probe(rq->arena, &o);
	if (saved_test) {
		bool ok = jsonx_get_bool(result, "connected", 0);
		const char *error = jsonx_get_string(result, "error");
		s = db_begin(rq->arena);
		const char *status = ok ? "connected" : "error";
		if (s == DB_OK)
			s = integration_record_check(rq->arena, rq->user_id, "mqtt", status, error, ok);
		if (s == DB_OK)
			s = health_publish_change(rq->arena, rq->user_id, "mqtt", row.status, status);
		if (s == DB_OK) {
			struct json_object *d = json_object_new_object();
			json_object_object_add(d, "connected", json_object_new_boolean(ok));
			json_object_object_add(d, "error_code",
					       jsonx_string_or_null(jsonx_get_string(result, "error_code")));
			s = audit_record(rq->arena, request_actor(rq, rq->user_id), "integration.tested", "mqtt", d);
		}
		if (s == DB_OK)
			s = db_commit(rq->arena);
		if (s != DB_OK) {
			json_object_put(result);
			return reply_db_failure(rq, s);
		}
	}
	return reply_ok(rq, 200, result, "MQTT connection test completed");
}
