/* Webhook registration: create, list, get, update, delete, rotate the secret. */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "events/events.h"
#include "handlers.h"
#include "http/authenticate.h"
#include "http/reply.h"
#include "http/request.h"
#include "webhooks/webhook.h"
#include "webhooks/webhook_options.h"
#include "webhooks/webhook_store.h"

/* Each subscription: an event type, a prefix wildcard ("integration.*") or "*". */
static const char *check_events(struct json_object *v)
{
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string))
			return "must be an array of event type strings";
		const char *s = json_object_get_string(e);
		size_t n = strlen(s);
		if (!strcmp(s, "*"))
			continue;
		if (n > 2 && !strcmp(s + n - 2, ".*")) {
			char prefix[128];
			if (n - 2 >= sizeof(prefix))
				return "has an event type that is too long";
			memcpy(prefix, s, n - 2);
			prefix[n - 2] = '\0';
			if (events_type_valid(prefix))
				continue;
		} else if (events_type_valid(s)) {
			continue;
		}
		return "must hold event types like \"integration.connected\", prefix wildcards like \"integration.*\", "
		       "or \"*\"";
	}
	return NULL;
}

static const char *check_url(struct json_object *v)
{
	struct arena *a = arena_new();
	const char *msg = webhook_url_check(a, json_object_get_string(v));
	arena_free(a);
	return msg; /* static strings */
}

static const char *check_format(struct json_object *v)
{
	const char *f = json_object_get_string(v);
	return !strcmp(f, "standard") || !strcmp(f, "envelope") ? NULL : "must be standard or envelope";
}

/* One table for both routes: create requires the first three, update requires none. */
#define WEBHOOK_FIELDS(required)                                                                                    \
	{"name", FIELD_STRING, required, 1, 100, check_not_blank},                                                  \
		{"url", FIELD_STRING, required, 1, 2048, check_url},                                                \
		{"events", FIELD_ARRAY, required, 1, 50, check_events},                                             \
		{"retry_count", FIELD_INT, false, 0, 10, NULL}, {"timeout_seconds", FIELD_INT, false, 1, 60, NULL}, \
		{"is_active", FIELD_BOOL, false, 0, 0, NULL},                                                       \
		{"payload_format", FIELD_STRING, false, 1, 20, check_format},                                       \
		{"include_fields", FIELD_ARRAY, false, 0, WEBHOOK_MAX_POINTERS, webhook_pointers_check},            \
		{"exclude_fields", FIELD_ARRAY, false, 0, WEBHOOK_MAX_POINTERS, webhook_pointers_check},            \
		{"headers", FIELD_OBJECT, false, 0, 0, webhook_headers_check},                                      \
		{"allowed_ips", FIELD_ARRAY, false, 0, WEBHOOK_MAX_ALLOWED_IPS, webhook_allowed_ips_check},         \
		{"disable_after_failures", FIELD_INT, false, 0, 10000, NULL},                                       \
		{"disable_after_days", FIELD_INT, false, 0, 365, NULL},

const struct field webhook_create_fields[] = {WEBHOOK_FIELDS(true){NULL, 0, false, 0, 0, NULL}};
const struct field webhook_update_fields[] = {WEBHOOK_FIELDS(false){NULL, 0, false, 0, 0, NULL}};

const char *path_uuid(struct request *rq, const char *name)
{
	const char *id = request_param(rq, name);
	if (!auth_is_uuid(id)) {
		reply_error(rq, 404, "not_found", "No such webhook");
		return NULL;
	}
	return id;
}

/* 201 webhook + secret (shown once) | 400 | 401 | 415 | 422 | 503 */
int handle_webhook_create(struct request *rq)
{
	struct webhook_settings set;
	struct json_object *w = NULL;
	webhook_settings_from_json(rq->arena, rq->json, &set);
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = webhook_store_create(rq->arena, request_actor(rq, rq->user_id), &set, &w);
	s = db_finish(rq->arena, s);
	if (s != DB_OK) {
		json_object_put(w);
		return reply_db_failure(rq, s);
	}
	return reply_ok(rq, 201, w, "Webhook created; store the secret now, it is not shown again");
}

/* 200 {items, page, limit, total} | 401 | 422 | 503 */
int handle_webhook_list(struct request *rq)
{
	long page, limit;
	if (reply_page_params(rq, &page, &limit))
		return rq->status;
	struct json_object *items;
	long long total;
	enum db_status s = webhook_store_list(rq->arena, rq->user_id, page, limit, &items, &total);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, reply_page(items, page, limit, total), NULL);
}

/* 200 webhook | 401 | 404 (also another user's) | 503 */
int handle_webhook_get(struct request *rq)
{
	const char *id = path_uuid(rq, "id");
	if (!id)
		return rq->status;
	struct json_object *w;
	enum db_status s = webhook_store_get(rq->arena, rq->user_id, id, &w);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!w)
		return reply_error(rq, 404, "not_found", "No such webhook");
	return reply_ok(rq, 200, w, NULL);
}

/* 200 webhook | 400 | 401 | 404 | 415 | 422 | 503. Fields left out keep their values;
 * re-activating clears the reason it was disabled. */
int handle_webhook_update(struct request *rq)
{
	const char *id = path_uuid(rq, "id");
	if (!id)
		return rq->status;
	struct webhook_settings set;
	struct json_object *w = NULL;
	webhook_settings_from_json(rq->arena, rq->json, &set);
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = webhook_store_update(rq->arena, request_actor(rq, rq->user_id), id, &set, &w);
	s = db_finish(rq->arena, s);
	if (s != DB_OK) {
		json_object_put(w);
		return reply_db_failure(rq, s);
	}
	if (!w)
		return reply_error(rq, 404, "not_found", "No such webhook");
	return reply_ok(rq, 200, w, "Webhook updated");
}

/* 200 | 401 | 404 | 503 */
int handle_webhook_delete(struct request *rq)
{
	const char *id = path_uuid(rq, "id");
	if (!id)
		return rq->status;
	int deleted = 0;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = webhook_store_delete(rq->arena, request_actor(rq, rq->user_id), id, &deleted);
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!deleted)
		return reply_error(rq, 404, "not_found", "No such webhook");
	return reply_ok(rq, 200, NULL, "Webhook deleted");
}

/* 200 {secret, previous_secret_expires_at} | 401 | 404 | 503. The old secret keeps
 * signing beside the new one for SB_WEBHOOK_SECRET_OVERLAP_SECONDS (24 hours). */
int handle_webhook_rotate(struct request *rq)
{
	const char *id = path_uuid(rq, "id");
	if (!id)
		return rq->status;
	struct json_object *d = NULL;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = webhook_store_rotate_secret(rq->arena, request_actor(rq, rq->user_id), id, &d);
	s = db_finish(rq->arena, s);
	if (s != DB_OK) {
		json_object_put(d);
		return reply_db_failure(rq, s);
	}
	if (!d)
		return reply_error(rq, 404, "not_found", "No such webhook");
	return reply_ok(rq, 200, d, "Secret rotated; the previous one signs too until previous_secret_expires_at");
}

/* 200 webhook | 401 | 404 | 503. Switches the webhook on again: clears disabled_reason,
 * the failure count and the failing clock (as PUT with is_active: true). Deliveries that
 * failed meanwhile stay failed: POST /webhooks/{id}/recover sends them again. */
int handle_webhook_enable(struct request *rq)
{
	const char *id = path_uuid(rq, "id");
	if (!id)
		return rq->status;
	struct webhook_settings set = {{NULL}};
	set.v[WEBHOOK_IS_ACTIVE] = "true";
	struct json_object *w = NULL;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = webhook_store_update(rq->arena, request_actor(rq, rq->user_id), id, &set, &w);
	s = db_finish(rq->arena, s);
	if (s != DB_OK) {
		json_object_put(w);
		return reply_db_failure(rq, s);
	}
	if (!w)
		return reply_error(rq, 404, "not_found", "No such webhook");
	return reply_ok(rq, 200, w, "Webhook enabled");
}

/* 200 {source_ips, configured} | 401. The addresses deliveries come from, for receivers
 * that allow-list senders: SB_WEBHOOK_SOURCE_ADDRESS, the local address the operator
 * binds deliveries to. Empty (configured false) when deliveries leave from whatever
 * address the host's routing picks. */
int handle_webhook_source_ips(struct request *rq)
{
	const char *source = config_str("SB_WEBHOOK_SOURCE_ADDRESS", "");
	struct json_object *d = json_object_new_object(), *list = json_object_new_array();
	if (*source)
		json_object_array_add(list, json_object_new_string(source));
	json_object_object_add(d, "source_ips", list);
	json_object_object_add(d, "configured", json_object_new_boolean(*source != '\0'));
	return reply_ok(rq, 200, d,
			*source ? "Deliveries are sent from these addresses"
				: "No source address is configured; deliveries leave from the host's default route");
}
