/* The event-type catalog and publishing events. */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "events/events.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"

#define MAX_EVENT_DATA 65536

static const struct {
	const char *name, *description;
} builtin[] = {
	{"integration.connected", "An integration was connected or first configured"},
	{"integration.updated", "An integration's configuration or settings changed"},
	{"integration.disconnected", "An integration was removed"},
	{"integration.token_refreshed", "An integration's access token was refreshed"},
	{"integration.health_changed", "An integration's health status changed"},
	{"webhook.test", "A test event sent with POST /webhooks/{id}/test"},
	{"export.completed", "An export job finished; its file can be downloaded"},
	{"export.failed", "An export job failed"},
	{"import.completed", "A CSV import finished (see its success and error counts)"},
	{"import.failed", "A CSV import wrote nothing because rows failed validation (all_or_nothing)"},
};

static const char *check_type(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	if (!events_type_valid(s))
		return "must be 1-100 characters of a-z, 0-9, '_', '-' in dot-separated words, like \"ticket.created\"";
	if (!strncmp(s, "integration.", 12) || !strncmp(s, "webhook.", 8))
		return "uses a reserved prefix (integration., webhook.)";
	return NULL;
}

static const char *check_data_size(struct json_object *v)
{
	return strlen(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)) > MAX_EVENT_DATA
		       ? "must be at most 64 KiB of JSON"
		       : NULL;
}

const struct field event_fields[] = {
	{"type", FIELD_STRING, true, 1, 100, check_type},
	{"data", FIELD_OBJECT, false, 0, 0, check_data_size},
	{"idempotency_key", FIELD_STRING, false, 1, 200, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

/* 200 [{name, description, source}] | 401 | 503 */
int handle_event_types(struct request *rq)
{
	struct json_object *list = json_object_new_array();
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		struct json_object *t = json_object_new_object();
		json_object_object_add(t, "name", json_object_new_string(builtin[i].name));
		json_object_object_add(t, "description", json_object_new_string(builtin[i].description));
		json_object_object_add(t, "source", json_object_new_string("builtin"));
		json_object_array_add(list, t);
	}
	const char *p[] = {rq->user_id};
	PGresult *res;
	enum db_status s = db_exec(
		rq->arena, &res,
		"SELECT name, " SQL_RFC3339("first_seen") " FROM event_types WHERE user_id = $1 ORDER BY name", 1, p);
	if (s != DB_OK) {
		json_object_put(list);
		return reply_db_failure(rq, s);
	}
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *t = json_object_new_object();
		json_object_object_add(t, "name", json_object_new_string(PQgetvalue(res, i, 0)));
		json_object_object_add(t, "description", NULL);
		json_object_object_add(t, "source", json_object_new_string("published"));
		json_object_object_add(t, "first_seen", json_object_new_string(PQgetvalue(res, i, 1)));
		json_object_array_add(list, t);
	}
	struct json_object *d = json_object_new_object(), *wild = json_object_new_array();
	json_object_array_add(wild, json_object_new_string("*"));
	json_object_array_add(wild, json_object_new_string("<prefix>.*"));
	json_object_object_add(d, "event_types", list);
	json_object_object_add(d, "wildcards", wild);
	return reply_ok(rq, 200, d, NULL);
}

/* 202 {event_id, message_id, type, deliveries, duplicate} | 400 | 401 | 415 | 422 | 503
 * The same idempotency key (body or Idempotency-Key header) within 24 hours publishes once. */
int handle_event_publish(struct request *rq)
{
	const char *type = jsonx_get_string(rq->json, "type");
	const char *key = jsonx_get_string(rq->json, "idempotency_key");
	if (!key)
		key = request_header(rq, "idempotency-key");
	/* The header is not checked by the field table: the same rules, here. */
	long chars = key ? utf8_length(key, strlen(key)) : 0;
	if (key && (chars < 1 || chars > 200))
		return reply_invalid_field(rq, "idempotency_key", "must be 1 to 200 characters of valid UTF-8 text");
	struct json_object *data = NULL;
	json_object_object_get_ex(rq->json, "data", &data);
	struct event_published out;
	const char *p[] = {rq->user_id, type};
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = events_publish(rq->arena, rq->user_id, type, data, key, &out);
	if (s == DB_OK && !out.duplicate)
		s = db_exec(rq->arena, NULL,
			    "INSERT INTO event_types (user_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING", 2, p);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "event_id", json_object_new_string(out.event_id));
	json_object_object_add(d, "message_id", json_object_new_string(out.message_id));
	json_object_object_add(d, "type", json_object_new_string(out.type));
	json_object_object_add(d, "deliveries", json_object_new_int(out.deliveries));
	json_object_object_add(d, "duplicate", json_object_new_boolean(out.duplicate));
	return reply_ok(rq, 202, d, out.duplicate ? "Already published with this idempotency key" : "Event published");
}
