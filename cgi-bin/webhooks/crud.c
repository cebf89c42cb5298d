/* Webhook registration: create, list, get, update, delete, rotate the secret. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "events/audit.h"
#include "events/events.h"
#include "handlers.h"
#include "http/authenticate.h"
#include "http/reply.h"
#include "http/request.h"
#include "webhooks/webhook.h"

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

const struct field webhook_create_fields[] = {
	{"name", FIELD_STRING, true, 1, 100, check_not_blank},
	{"url", FIELD_STRING, true, 1, 2048, check_url},
	{"events", FIELD_ARRAY, true, 1, 50, check_events},
	{"retry_count", FIELD_INT, false, 0, 10, NULL},
	{"timeout_seconds", FIELD_INT, false, 1, 60, NULL},
	{"is_active", FIELD_BOOL, false, 0, 0, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

const struct field webhook_update_fields[] = {
	{"name", FIELD_STRING, false, 1, 100, check_not_blank},
	{"url", FIELD_STRING, false, 1, 2048, check_url},
	{"events", FIELD_ARRAY, false, 1, 50, check_events},
	{"retry_count", FIELD_INT, false, 0, 10, NULL},
	{"timeout_seconds", FIELD_INT, false, 1, 60, NULL},
	{"is_active", FIELD_BOOL, false, 0, 0, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

const char *path_uuid(struct request *rq, const char *name)
{
	const char *id = request_param(rq, name);
	if (!auth_is_uuid(id)) {
		reply_error(rq, 404, "not_found", "No such webhook");
		return NULL;
	}
	return id;
}

/* Audits action on webhook id for the caller, in the current transaction. */
static enum db_status audit_webhook(struct request *rq, const char *action, const char *id)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "webhook_id", json_object_new_string(id));
	return audit_record(rq->arena, request_actor(rq, rq->user_id), action, NULL, d);
}

struct json_object *webhook_json(const PGresult *res, int r)
{
	struct json_object *w = json_object_new_object();
	json_object_object_add(w, "id", json_object_new_string(PQgetvalue(res, r, 0)));
	json_object_object_add(w, "name", json_object_new_string(PQgetvalue(res, r, 1)));
	json_object_object_add(w, "url", json_object_new_string(PQgetvalue(res, r, 2)));
	json_object_object_add(w, "events", json_tokener_parse(PQgetvalue(res, r, 3)));
	json_object_object_add(w, "retry_count", json_object_new_int(atoi(PQgetvalue(res, r, 4))));
	json_object_object_add(w, "timeout_seconds", json_object_new_int(atoi(PQgetvalue(res, r, 5))));
	json_object_object_add(w, "is_active", json_object_new_boolean(PQgetvalue(res, r, 6)[0] == 't'));
	json_object_object_add(w, "disabled_reason", jsonx_string_or_null(db_value(res, r, 7)));
	json_object_object_add(w, "previous_secret_expires_at", jsonx_string_or_null(db_value(res, r, 8)));
	json_object_object_add(w, "created_at", json_object_new_string(PQgetvalue(res, r, 9)));
	json_object_object_add(w, "updated_at", json_object_new_string(PQgetvalue(res, r, 10)));
	return w;
}

/* PostgreSQL array text of the events array: {"a","b"} with each element quoted. */
static const char *events_array(struct request *rq, struct json_object *events)
{
	if (!events)
		return NULL;
	char *out = "{";
	for (size_t i = 0; i < json_object_array_length(events); i++)
		out = arena_printf(rq->arena, "%s%s\"%s\"", out, i ? "," : "",
				   json_object_get_string(json_object_array_get_idx(events, i)));
	return arena_printf(rq->arena, "%s}", out); /* elements are [a-z0-9_.*-] only: nothing to escape */
}

static const char *int_param(struct request *rq, const char *name)
{
	struct json_object *v;
	if (!json_object_object_get_ex(rq->json, name, &v) || !v)
		return NULL;
	return arena_printf(rq->arena, "%d", json_object_get_int(v));
}

static const char *bool_param(struct request *rq, const char *name)
{
	struct json_object *v;
	if (!json_object_object_get_ex(rq->json, name, &v) || !v)
		return NULL;
	return json_object_get_boolean(v) ? "true" : "false";
}

/* 201 webhook + secret (shown once) | 400 | 401 | 415 | 422 | 503 */
int handle_webhook_create(struct request *rq)
{
	char *id = crypto_uuid(rq->arena), *secret = webhook_secret_new(rq->arena), *sealed;
	if (!id || !secret ||
	    crypto_seal(rq->arena, secret, strlen(secret), webhook_secret_aad(rq->arena, id), &sealed))
		return reply_internal(rq);
	struct json_object *events;
	json_object_object_get_ex(rq->json, "events", &events);
	const char *p[] = {id,
			   rq->user_id,
			   jsonx_get_string(rq->json, "name"),
			   jsonx_get_string(rq->json, "url"),
			   events_array(rq, events),
			   sealed,
			   int_param(rq, "retry_count"),
			   int_param(rq, "timeout_seconds"),
			   bool_param(rq, "is_active")};
	PGresult *res;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(rq->arena, &res,
			    "INSERT INTO webhooks (id, user_id, name, url, events, secret, retry_count, "
			    "timeout_seconds, is_active) "
			    "VALUES ($1, $2, $3, $4, $5::text[], $6, coalesce($7::int, 3), coalesce($8::int, 30), "
			    "coalesce($9::boolean, true)) RETURNING " WEBHOOK_COLUMNS,
			    9, p);
	if (s == DB_OK)
		s = audit_webhook(rq, "webhook.created", id);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	struct json_object *w = webhook_json(res, 0);
	json_object_object_add(w, "secret", json_object_new_string(secret));
	return reply_ok(rq, 201, w, "Webhook created; store the secret now, it is not shown again");
}

/* 200 {items, page, limit, total} | 401 | 422 | 503 */
int handle_webhook_list(struct request *rq)
{
	long page, limit;
	if (reply_page_params(rq, &page, &limit))
		return rq->status;
	char lim[24], off[24];
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", (page - 1) * limit);
	const char *p[] = {rq->user_id, lim, off};
	PGresult *res, *count;
	enum db_status s = db_exec(rq->arena, &count, "SELECT count(*) FROM webhooks WHERE user_id = $1", 1, p);
	if (s == DB_OK)
		s = db_exec(rq->arena, &res,
			    "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE user_id = $1 ORDER BY created_at DESC, id "
			    "LIMIT $2 OFFSET $3",
			    3, p);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	struct json_object *items = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(items, webhook_json(res, i));
	return reply_ok(rq, 200, reply_page(items, page, limit, atoll(PQgetvalue(count, 0, 0))), NULL);
}

/* 200 webhook | 401 | 404 (also another user's) | 503 */
int handle_webhook_get(struct request *rq)
{
	const char *id = path_uuid(rq, "id");
	if (!id)
		return rq->status;
	const char *p[] = {id, rq->user_id};
	PGresult *res;
	enum db_status s = db_exec(rq->arena, &res,
				   "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE id = $1 AND user_id = $2", 2, p);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (PQntuples(res) != 1)
		return reply_error(rq, 404, "not_found", "No such webhook");
	return reply_ok(rq, 200, webhook_json(res, 0), NULL);
}

/* 200 webhook | 400 | 401 | 404 | 415 | 422 | 503. Fields left out keep their values;
 * re-activating clears the reason it was disabled. */
int handle_webhook_update(struct request *rq)
{
	const char *id = path_uuid(rq, "id");
	if (!id)
		return rq->status;
	struct json_object *events = NULL;
	json_object_object_get_ex(rq->json, "events", &events);
	const char *p[] = {id,
			   rq->user_id,
			   jsonx_get_string(rq->json, "name"),
			   jsonx_get_string(rq->json, "url"),
			   events_array(rq, events),
			   int_param(rq, "retry_count"),
			   int_param(rq, "timeout_seconds"),
			   bool_param(rq, "is_active")};
	PGresult *res;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(
			rq->arena, &res,
			"UPDATE webhooks SET name = coalesce($3, name), url = coalesce($4, url), "
			"events = coalesce($5::text[], events), retry_count = coalesce($6::int, retry_count), "
			"timeout_seconds = coalesce($7::int, timeout_seconds), is_active = coalesce($8::boolean, "
			"is_active), "
			"disabled_reason = CASE WHEN $8::boolean AND NOT is_active THEN NULL ELSE disabled_reason END, "
			"failing_since = CASE WHEN $8::boolean AND NOT is_active THEN NULL ELSE failing_since END, "
			"updated_at = now() "
			"WHERE id = $1 AND user_id = $2 RETURNING " WEBHOOK_COLUMNS,
			8, p);
	if (s == DB_OK && PQntuples(res) == 1)
		s = audit_webhook(rq, "webhook.updated", id);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (PQntuples(res) != 1)
		return reply_error(rq, 404, "not_found", "No such webhook");
	return reply_ok(rq, 200, webhook_json(res, 0), "Webhook updated");
}

/* 200 | 401 | 404 | 503 */
int handle_webhook_delete(struct request *rq)
{
	const char *id = path_uuid(rq, "id");
	if (!id)
		return rq->status;
	const char *p[] = {id, rq->user_id};
	PGresult *res;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(rq->arena, &res, "DELETE FROM webhooks WHERE id = $1 AND user_id = $2 RETURNING id", 2, p);
	if (s == DB_OK && PQntuples(res) == 1)
		s = audit_webhook(rq, "webhook.deleted", id);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (PQntuples(res) != 1)
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
	char *secret = webhook_secret_new(rq->arena), *sealed;
	if (!secret || crypto_seal(rq->arena, secret, strlen(secret), webhook_secret_aad(rq->arena, id), &sealed))
		return reply_internal(rq);
	char overlap[24];
	snprintf(overlap, sizeof(overlap), "%ld",
		 config_int("SB_WEBHOOK_SECRET_OVERLAP_SECONDS", 86400, 0, 30L * 86400));
	const char *p[] = {id, rq->user_id, sealed, overlap};
	PGresult *res;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(rq->arena, &res,
			    "UPDATE webhooks SET previous_secret = secret, secret = $3, "
			    "previous_secret_expires_at = now() + make_interval(secs => $4::int), updated_at = now() "
			    "WHERE id = $1 AND user_id = $2 RETURNING " SQL_RFC3339("previous_secret_expires_at"),
			    4, p);
	if (s == DB_OK && PQntuples(res) == 1)
		s = audit_webhook(rq, "webhook.secret_rotated", id);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (PQntuples(res) != 1)
		return reply_error(rq, 404, "not_found", "No such webhook");
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "secret", json_object_new_string(secret));
	json_object_object_add(d, "previous_secret_expires_at", json_object_new_string(PQgetvalue(res, 0, 0)));
	return reply_ok(rq, 200, d, "Secret rotated; the previous one signs too until previous_secret_expires_at");
}
