/* The delivery log, test sends and redelivery. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"

#include "core/jsonx.h"
#include "handlers.h"
#include "http/authenticate.h"
#include "http/reply.h"
#include "http/request.h"
#include "webhooks/delivery_store.h"
#include "webhooks/webhook_store.h"
#include "webhooks/webhook_test_send.h"

/* 200 {items, page, limit, total} with every attempt | 401 | 404 | 422 | 503 */
int handle_deliveries(struct request *rq)
{
	const char *id = path_uuid(rq, "id");
	if (!id)
		return rq->status;
	enum webhook_state state;
	enum db_status s = webhook_store_state(rq->arena, rq->user_id, id, &state);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (state == WEBHOOK_MISSING)
		return reply_error(rq, 404, "not_found", "No such webhook");
	long page, limit;
	if (reply_page_params(rq, &page, &limit))
		return rq->status;
	const char *status = request_query(rq, "status"), *type = request_query(rq, "event_type");
	const char *bad = delivery_status_filter_check(status);
	if (bad)
		return reply_invalid_field(rq, "status", bad);
	struct json_object *items;
	long long total;
	s = delivery_store_list(rq->arena, id, status, type, page, limit, &items, &total);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, reply_page(items, page, limit, total), NULL);
}

/* 200 {delivery_id, message_id, status, success, attempt} | 401 | 404 | 500 (secret,
 * preparation) | 503. See webhook_test_send.h; a test that was not delivered is a 200 too. */
int handle_webhook_test(struct request *rq)
{
	const char *id = path_uuid(rq, "id");
	if (!id)
		return rq->status;
	struct webhook_test_result t;
	enum db_status s = webhook_test_send(rq->arena, rq->user_id, id, &t);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!t.found)
		return reply_error(rq, 404, "not_found", "No such webhook");
	if (t.not_sent)
		return reply_error(rq, 500, "internal_error", t.not_sent);
	struct json_object *d = json_object_new_object(), *a = json_object_new_object();
	json_object_object_add(d, "delivery_id", json_object_new_string(t.delivery_id));
	json_object_object_add(d, "message_id", json_object_new_string(t.message_id));
	json_object_object_add(d, "status", json_object_new_string(webhook_outcome_status[t.outcome]));
	json_object_object_add(d, "success", json_object_new_boolean(t.outcome == WEBHOOK_DELIVERED));
	json_object_object_add(a, "attempt_number", json_object_new_int(t.attempt));
	json_object_object_add(a, "response_status", t.at.status ? json_object_new_int((int)t.at.status) : NULL);
	json_object_object_add(a, "response_time_ms", jsonx_ms(t.at.ms));
	json_object_object_add(a, "response_body", jsonx_string_or_null(t.at.body));
	json_object_object_add(a, "error", jsonx_string_or_null(t.at.error));
	json_object_object_add(d, "attempt", a);
	return reply_ok(rq, 200, d,
			t.outcome == WEBHOOK_DELIVERED ? "Test event delivered" : "Test event not delivered");
}

/* 202 {delivery_id, message_id, status} | 401 | 404 | 409 (webhook disabled) | 503
 * A new delivery of the same event (same message id, so receivers can deduplicate). */
int handle_redeliver(struct request *rq)
{
	const char *id = path_uuid(rq, "id");
	if (!id)
		return rq->status;
	const char *did = request_param(rq, "deliveryId");
	if (!auth_is_uuid(did))
		return reply_error(rq, 404, "not_found", "No such delivery");
	struct delivery_redelivered r;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = delivery_store_redeliver(rq->arena, rq->user_id, id, did, &r);
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (r.outcome == DELIVERY_WEBHOOK_INACTIVE)
		return reply_error(rq, 409, "webhook_disabled", "The webhook is disabled; enable it to redeliver");
	if (r.outcome != DELIVERY_REDELIVERED)
		return reply_error(rq, 404, "not_found", "No such delivery for this webhook");
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "delivery_id", json_object_new_string(r.delivery_id));
	json_object_object_add(d, "message_id", json_object_new_string(r.message_id));
	json_object_object_add(d, "status", json_object_new_string("pending"));
	return reply_ok(rq, 202, d, "Redelivery scheduled");
}

/* RFC 3339 date-time with a zone: 2026-01-15T10:30:00Z, fractions and offsets allowed. */
static const char *check_since(struct json_object *v)
{
	const char *t = json_object_get_string(v);
	int y, mo, d, h, mi, sec, n = 0;
	if (sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19 || y < 1970 ||
	    mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return "must be an RFC 3339 date-time like 2026-01-15T10:30:00Z";
	const char *z = t + 19;
	if (*z == '.') {
		z++;
		size_t digits = strspn(z, "0123456789");
		if (digits == 0 || digits > 9)
			return "must be an RFC 3339 date-time like 2026-01-15T10:30:00Z";
		z += digits;
	}
	if (!strcmp(z, "Z") || !strcmp(z, "z"))
		return NULL;
	int oh, om, m = 0;
	if ((*z == '+' || *z == '-') && sscanf(z + 1, "%2d:%2d%n", &oh, &om, &m) == 2 && m == 5 && !z[6] &&
	    oh <= 23 && om <= 59)
		return NULL;
	return "must be an RFC 3339 date-time like 2026-01-15T10:30:00Z";
}

const struct field recover_fields[] = {
	{"since", FIELD_STRING, true, 20, 40, check_since},
	{NULL, 0, false, 0, 0, NULL},
};

/* 202 {recovered, more, since} | 400 | 401 | 404 | 409 (webhook disabled) | 415 | 422 | 503
 * Re-sends every failed delivery since a time, each once (see delivery_store_recover),
 * at most SB_WEBHOOK_RECOVER_MAX (1000) per call: more says to call again. */
int handle_webhook_recover(struct request *rq)
{
	const char *id = path_uuid(rq, "id");
	if (!id)
		return rq->status;
	const char *since = jsonx_get_string(rq->json, "since");
	int max = (int)config_int("SB_WEBHOOK_RECOVER_MAX", 1000, 1, 100000);
	struct delivery_recovered r;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = delivery_store_recover(rq->arena, rq->user_id, id, since, max, &r);
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (r.outcome == DELIVERY_WEBHOOK_INACTIVE)
		return reply_error(rq, 409, "webhook_disabled", "The webhook is disabled; enable it to recover");
	if (r.outcome != DELIVERY_REDELIVERED)
		return reply_error(rq, 404, "not_found", "No such webhook");
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "recovered", json_object_new_int(r.count));
	json_object_object_add(d, "more", json_object_new_boolean(r.more));
	json_object_object_add(d, "since", json_object_new_string(since));
	return reply_ok(rq, 202, d, r.count ? "Failed deliveries scheduled again" : "No failed deliveries to recover");
}
