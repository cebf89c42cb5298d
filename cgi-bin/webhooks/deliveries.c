/* The delivery log, test sends and redelivery. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "events/audit.h"
#include "handlers.h"
#include "http/authenticate.h"
#include "http/reply.h"
#include "http/request.h"
#include "webhooks/webhook_send.h"
#include "webhooks/webhook_store.h"

/* True when webhook id belongs to the caller; answers 404/503 otherwise. */
static int owned_webhook(struct request *rq, const char *id)
{
	const char *p[] = {id, rq->user_id};
	PGresult *res;
	enum db_status s = db_exec(rq->arena, &res, "SELECT 1 FROM webhooks WHERE id = $1 AND user_id = $2", 2, p);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (PQntuples(res) != 1)
		return reply_error(rq, 404, "not_found", "No such webhook");
	return 0;
}

static struct json_object *attempt_json(const PGresult *res, int r)
{
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "attempt_number", json_object_new_int(atoi(PQgetvalue(res, r, 1))));
	json_object_object_add(a, "request_headers", json_tokener_parse(PQgetvalue(res, r, 2)));
	const char *st = db_value(res, r, 3);
	json_object_object_add(a, "response_status", st ? json_object_new_int(atoi(st)) : NULL);
	json_object_object_add(a, "response_body", jsonx_string_or_null(db_value(res, r, 4)));
	const char *ms = db_value(res, r, 5);
	json_object_object_add(a, "response_time_ms", ms ? jsonx_ms(atof(ms)) : NULL);
	json_object_object_add(a, "error", jsonx_string_or_null(db_value(res, r, 6)));
	json_object_object_add(a, "created_at", json_object_new_string(PQgetvalue(res, r, 7)));
	return a;
}

static const char *check_status_filter(const char *s)
{
	return !s || !strcmp(s, "pending") || !strcmp(s, "delivered") || !strcmp(s, "failed")
		       ? NULL
		       : "must be pending, delivered or failed";
}

/* 200 {items, page, limit, total} with every attempt | 401 | 404 | 422 | 503 */
int handle_deliveries(struct request *rq)
{
	const char *id = path_uuid(rq, "id");
	if (!id || owned_webhook(rq, id))
		return rq->status;
	long page, limit;
	if (reply_page_params(rq, &page, &limit))
		return rq->status;
	const char *status = request_query(rq, "status"), *type = request_query(rq, "event_type");
	if (check_status_filter(status)) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "status", json_object_new_string(check_status_filter(status)));
		return reply_invalid(rq, e);
	}
	char lim[24], off[24];
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", (page - 1) * limit);
	const char *p[] = {id, status, type, lim, off};
	PGresult *res, *count, *attempts;
	enum db_status s = db_exec(
		rq->arena, &count,
		"SELECT count(*) FROM webhook_deliveries d JOIN events e ON e.id = d.event_id "
		"WHERE d.webhook_id = $1 AND ($2::text IS NULL OR d.status = $2) AND ($3::text IS NULL OR e.type = $3)",
		3, p);
	if (s == DB_OK)
		s =
			db_exec(rq->arena, &res,
				"SELECT d.id, d.event_id, e.message_id, e.type, d.status, "
				"d.attempt_count, " SQL_RFC3339("d.next_attempt_at") ", d.last_status_code, "
										     "d.last_error, " SQL_RFC3339("d."
														  "deli"
														  "vere"
														  "d_"
														  "at") ", " SQL_RFC3339(
											     "d.created_at") " FROM "
													     "webhook_"
													     "deliverie"
													     "s d JOIN "
													     "events e "
													     "ON e.id "
													     "= "
													     "d.event_"
													     "id "
													     "WHERE "
													     "d."
													     "webhook_"
													     "id = $1 "
													     "AND "
													     "($2::"
													     "text IS "
													     "NULL OR "
													     "d.status "
													     "= $2) "
													     "AND "
													     "($3::"
													     "text IS "
													     "NULL OR "
													     "e.type = "
													     "$3) "
													     "ORDER BY "
													     "d."
													     "created_"
													     "at DESC, "
													     "d.id "
													     "LIMIT $4 "
													     "OFFSET "
													     "$5",
				5, p);
	if (s == DB_OK)
		s = db_exec(rq->arena, &attempts,
			    "SELECT a.delivery_id, a.attempt_number, a.request_headers::text, a.response_status, "
			    "a.response_body, "
			    "a.response_time_ms, a.error, " SQL_RFC3339(
				    "a.created_at") " FROM webhook_attempts a "
						    "JOIN webhook_deliveries d ON d.id = a.delivery_id "
						    "WHERE d.webhook_id = $1 AND ($2::text IS NULL OR d.status = $2) "
						    "AND d.id IN ("
						    "  SELECT d2.id FROM webhook_deliveries d2 JOIN events e ON e.id = "
						    "d2.event_id "
						    "  WHERE d2.webhook_id = $1 AND ($2::text IS NULL OR d2.status = "
						    "$2) AND ($3::text IS NULL OR e.type = $3) "
						    "  ORDER BY d2.created_at DESC, d2.id LIMIT $4 OFFSET $5) "
						    "ORDER BY a.delivery_id, a.attempt_number",
			    5, p);
	if (s != DB_OK)
		return reply_db_failure(rq, s);

	struct json_object *items = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *d = json_object_new_object(), *list = json_object_new_array();
		const char *did = PQgetvalue(res, i, 0);
		json_object_object_add(d, "id", json_object_new_string(did));
		json_object_object_add(d, "event_id", json_object_new_string(PQgetvalue(res, i, 1)));
		json_object_object_add(d, "message_id", json_object_new_string(PQgetvalue(res, i, 2)));
		json_object_object_add(d, "event_type", json_object_new_string(PQgetvalue(res, i, 3)));
		json_object_object_add(d, "status", json_object_new_string(PQgetvalue(res, i, 4)));
		json_object_object_add(d, "attempt_count", json_object_new_int(atoi(PQgetvalue(res, i, 5))));
		/* Null once settled, and while a test send holds it (its time is 'infinity'). */
		json_object_object_add(d, "next_attempt_at",
				       PQgetvalue(res, i, 4)[0] == 'p' ? jsonx_string_or_null(db_value(res, i, 6))
								       : NULL);
		const char *code = db_value(res, i, 7);
		json_object_object_add(d, "last_status_code", code ? json_object_new_int(atoi(code)) : NULL);
		json_object_object_add(d, "last_error", jsonx_string_or_null(db_value(res, i, 8)));
		json_object_object_add(d, "delivered_at", jsonx_string_or_null(db_value(res, i, 9)));
		json_object_object_add(d, "created_at", json_object_new_string(PQgetvalue(res, i, 10)));
		for (int k = 0; k < PQntuples(attempts); k++)
			if (!strcmp(PQgetvalue(attempts, k, 0), did))
				json_object_array_add(list, attempt_json(attempts, k));
		json_object_object_add(d, "attempts", list);
		json_object_array_add(items, d);
	}
	return reply_ok(rq, 200, reply_page(items, page, limit, atoll(PQgetvalue(count, 0, 0))), NULL);
}

/* 200 {delivery_id, message_id, status, attempt} | 401 | 404 | 500 (secret, preparation) | 503
 * A webhook.test event for this webhook alone, sent now from this process and settled
 * like any delivery (a failed test is retried on the schedule). The delivery is created
 * already leased to this process, out of the worker's reach (next attempt at infinity). */
int handle_webhook_test(struct request *rq)
{
	const char *id = path_uuid(rq, "id");
	if (!id)
		return rq->status;
	char *msg = arena_printf(rq->arena, "msg_%s", crypto_token(rq->arena, 18));
	char *owner = arena_printf(rq->arena, "test:%d:%s", (int)getpid(), crypto_token(rq->arena, 6));
	struct json_object *data = json_object_new_object();
	json_object_object_add(data, "webhook_id", json_object_new_string(id));
	json_object_object_add(data, "message", json_object_new_string("This is a test event from Switchboard"));
	PGresult *res;
	enum db_status s = webhook_test_delivery(rq->arena, owner, rq->user_id, id, msg,
						 json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN), &res);
	json_object_put(data);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (PQntuples(res) != 1)
		return reply_error(rq, 404, "not_found", "No such webhook");
	const char *delivery = PQgetvalue(res, 0, 0);
	struct webhook_job job;
	struct webhook_send send;
	struct webhook_attempt at;
	enum webhook_outcome outcome;
	const char *why = webhook_job_from_row(rq->arena, res, 0, &job)
				  ? "the webhook's signing secret cannot be opened"
			  : webhook_send_init(&send, rq->arena, &job, time(NULL)) ? "the request could not be prepared"
										  : NULL;
	if (why) {
		/* Settle it as failed: a test delivery must not sit pending. */
		const char *fp[] = {delivery, why};
		db_exec(rq->arena, NULL,
			"UPDATE webhook_deliveries SET status = 'failed', last_error = $2, lease_owner = NULL, "
			"lease_expires_at = NULL, updated_at = now() WHERE id = $1",
			2, fp);
		return reply_error(rq, 500, "internal_error", why);
	}
	/* A receiver may take the webhook's whole timeout: stay inside nginx's 60 s. */
	if (job.timeout_seconds > 50)
		curl_easy_setopt(send.easy, CURLOPT_TIMEOUT, 50L);
	CURLcode rc = curl_easy_perform(send.easy);
	webhook_send_result(&send, rq->arena, rc, &at);
	webhook_send_free(&send);
	s = webhook_attempt_finish(rq->arena, &job, &at, owner, &outcome);
	if (s != DB_OK)
		return reply_db_failure(rq, s);

	static const char *const names[WEBHOOK_OUTCOME__MAX] = {"delivered", "pending", "failed", "failed"};
	struct json_object *d = json_object_new_object(), *a = json_object_new_object();
	json_object_object_add(d, "delivery_id", json_object_new_string(delivery));
	json_object_object_add(d, "message_id", json_object_new_string(msg));
	json_object_object_add(d, "status", json_object_new_string(names[outcome]));
	json_object_object_add(d, "success", json_object_new_boolean(outcome == WEBHOOK_DELIVERED));
	json_object_object_add(a, "attempt_number", json_object_new_int(job.attempt));
	json_object_object_add(a, "response_status", at.status ? json_object_new_int((int)at.status) : NULL);
	json_object_object_add(a, "response_time_ms", jsonx_ms(at.ms));
	json_object_object_add(a, "response_body", jsonx_string_or_null(at.body));
	json_object_object_add(a, "error", jsonx_string_or_null(at.error));
	json_object_object_add(d, "attempt", a);
	return reply_ok(rq, 200, d, outcome == WEBHOOK_DELIVERED ? "Test event delivered" : "Test event not delivered");
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
	const char *p[] = {did, id, rq->user_id};
	PGresult *res;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(rq->arena, &res,
			    "INSERT INTO webhook_deliveries (webhook_id, event_id, user_id) "
			    "SELECT d.webhook_id, d.event_id, d.user_id FROM webhook_deliveries d "
			    "JOIN webhooks w ON w.id = d.webhook_id AND w.is_active "
			    "WHERE d.id = $1 AND d.webhook_id = $2 AND d.user_id = $3 "
			    "RETURNING id, (SELECT message_id FROM events WHERE id = event_id)",
			    3, p);
	if (s == DB_OK && PQntuples(res) == 1)
		s = db_exec(rq->arena, NULL, "SELECT pg_notify('sb_deliveries', '')", 0, NULL);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (PQntuples(res) != 1) {
		/* Tell a disabled webhook apart from a delivery that is not there. */
		const char *wp[] = {id, rq->user_id};
		PGresult *w;
		if (db_exec(rq->arena, &w, "SELECT is_active FROM webhooks WHERE id = $1 AND user_id = $2", 2, wp) ==
			    DB_OK &&
		    PQntuples(w) == 1 && PQgetvalue(w, 0, 0)[0] == 'f')
			return reply_error(rq, 409, "webhook_disabled",
					   "The webhook is disabled; enable it to redeliver");
		return reply_error(rq, 404, "not_found", "No such delivery for this webhook");
	}
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "delivery_id", json_object_new_string(PQgetvalue(res, 0, 0)));
	json_object_object_add(d, "message_id", json_object_new_string(PQgetvalue(res, 0, 1)));
	json_object_object_add(d, "status", json_object_new_string("pending"));
	return reply_ok(rq, 202, d, "Redelivery scheduled");
}
