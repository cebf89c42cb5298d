/* The event-type catalog and publishing events. */
#include <json-c/json.h>
#include <string.h>

#include "core/jsonx.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"
#include "webhooks/event_store.h"
#include "integrations/providers/github_jobs.h"

#define MAX_EVENT_DATA 65536

static const char *check_type(struct json_object *v)
{
	return event_store_type_check(json_object_get_string(v));
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

/* 200 {event_types: [{name, description, source[, first_seen]}], wildcards} | 401 | 503 */
int handle_event_types(struct request *rq)
{
	struct json_object *d;
	enum db_status s = event_store_catalog(rq->arena, rq->user_id, &d);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, d, NULL);
}

/* 202 {event_id, message_id, type, deliveries, duplicate, github_sync_jobs} | 400 | 401 | 415 | 422 | 503
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
	int synced = 0;
	/* The publication is one statement, durable on its own; a transaction only when a
	 * GitHub auto-sync may be queued with it (the jobs and the event together or neither). */
	bool sync = github_auto_sync_applies(type, data);
	enum db_status s = sync ? db_begin(rq->arena) : DB_OK;
	if (s == DB_OK)
		s = event_store_publish(rq->arena, rq->user_id, type, data, key, &out);
	if (sync && s == DB_OK && !out.duplicate)
		s = github_auto_sync(rq->arena, rq->user_id, type, data, &synced);
	if (sync)
		s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "event_id", json_object_new_string(out.event_id));
	json_object_object_add(d, "message_id", json_object_new_string(out.message_id));
	json_object_object_add(d, "type", json_object_new_string(out.type));
	json_object_object_add(d, "deliveries", json_object_new_int(out.deliveries));
	json_object_object_add(d, "duplicate", json_object_new_boolean(out.duplicate));
	json_object_object_add(d, "github_sync_jobs", json_object_new_int(synced));
	return reply_ok(rq, 202, d, out.duplicate ? "Already published with this idempotency key" : "Event published");
}
