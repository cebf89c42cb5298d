/* The webhooks table; see webhook_store.h. */
#include "webhooks/webhook_store.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "db/rows.h"
#include "events/audit.h"
#include "webhooks/webhook.h"

/* The columns webhook_view reads, in its order. */
#define WEBHOOK_COLUMNS                                                                                                \
	"id, name, url, array_to_json(events)::text, retry_count, timeout_seconds, is_active, "                        \
	"disabled_reason, " SQL_RFC3339("previous_secret_expires_at") ", " SQL_RFC3339("created_at") ", " SQL_RFC3339( \
		"updated_at") ", payload_format, include_fields::text, exclude_fields::text, custom_headers::text, "      \
			      "allowed_ips::text, disable_after_failures, disable_after_days, consecutive_failures"

/* The public view, member by member over WEBHOOK_COLUMNS. */
static const struct row_field webhook_fields[] = {
	{"id", ROW_TEXT},
	{"name", ROW_TEXT},
	{"url", ROW_TEXT},
	{"events", ROW_JSON},
	{"retry_count", ROW_INT},
	{"timeout_seconds", ROW_INT},
	{"is_active", ROW_BOOL},
	{"disabled_reason", ROW_TEXT},
	{"previous_secret_expires_at", ROW_TEXT},
	{"created_at", ROW_TEXT},
	{"updated_at", ROW_TEXT},
	{"payload_format", ROW_TEXT},
	{"include_fields", ROW_JSON},
	{"exclude_fields", ROW_JSON},
	{"headers", ROW_JSON_OBJECT},
	{"allowed_ips", ROW_JSON},
	{"disable_after_failures", ROW_INT},
	{"disable_after_days", ROW_INT},
	{"consecutive_failures", ROW_INT},
	{NULL, ROW_TEXT},
};

static struct json_object *webhook_view(const PGresult *res, int r)
{
	return rows_object(res, r, 0, webhook_fields);
}

/* The view of the one row of res, or NULL when it has none. */
static struct json_object *webhook_view_one(const PGresult *res)
{
	return PQntuples(res) == 1 ? webhook_view(res, 0) : NULL;
}

const char *webhook_events_array(struct arena *a, struct json_object *events)
{
	if (!events)
		return NULL;
	char *out = "{";
	for (size_t i = 0; i < json_object_array_length(events); i++)
		out = arena_printf(a, "%s%s\"%s\"", out, i ? "," : "",
				   json_object_get_string(json_object_array_get_idx(events, i)));
	return arena_printf(a, "%s}", out);
}

void webhook_settings_from_json(struct arena *a, struct json_object *body, struct webhook_settings *out)
{
	/* One table for create and update: the member, and how it becomes parameter text. */
	static const struct {
		const char *name;
		enum json_type type;
	} members[WEBHOOK_SETTING__MAX] = {
		[WEBHOOK_NAME] = {"name", json_type_string},
		[WEBHOOK_URL] = {"url", json_type_string},
		[WEBHOOK_EVENTS] = {"events", json_type_array},
		[WEBHOOK_RETRY_COUNT] = {"retry_count", json_type_int},
		[WEBHOOK_TIMEOUT_SECONDS] = {"timeout_seconds", json_type_int},
		[WEBHOOK_IS_ACTIVE] = {"is_active", json_type_boolean},
		[WEBHOOK_PAYLOAD_FORMAT] = {"payload_format", json_type_string},
		[WEBHOOK_INCLUDE_FIELDS] = {"include_fields", json_type_object},
		[WEBHOOK_EXCLUDE_FIELDS] = {"exclude_fields", json_type_object},
		[WEBHOOK_HEADERS] = {"headers", json_type_object},
		[WEBHOOK_ALLOWED_IPS] = {"allowed_ips", json_type_object},
		[WEBHOOK_DISABLE_AFTER_FAILURES] = {"disable_after_failures", json_type_int},
		[WEBHOOK_DISABLE_AFTER_DAYS] = {"disable_after_days", json_type_int},
	};
	for (int i = 0; i < WEBHOOK_SETTING__MAX; i++) {
		struct json_object *v = NULL;
		out->v[i] = NULL;
		if (!json_object_object_get_ex(body, members[i].name, &v) || !v)
			continue;
		switch (members[i].type) {
		case json_type_string:
			out->v[i] = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
			break;
		case json_type_array:
			out->v[i] = webhook_events_array(a, v);
			break;
		case json_type_int:
			out->v[i] = arena_printf(a, "%d", json_object_get_int(v));
			break;
		case json_type_object: /* stored as JSON: its text */
			out->v[i] = arena_strdup(a, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
			break;
		default:
			out->v[i] = json_object_get_boolean(v) ? "true" : "false";
			break;
		}
	}
}

/* Audits action on webhook id for who, in the current transaction. */
static enum db_status audit_webhook(struct arena *a, const struct actor *who, const char *action, const char *id)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "webhook_id", json_object_new_string(id));
	return audit_record(a, who, action, NULL, d);
}

/* A new secret for webhook id, sealed: 0, or -1 when none could be made. */
static int new_secret(struct arena *a, const char *id, char **secret, char **sealed)
{
	*secret = webhook_secret_new(a);
	return *secret && !crypto_seal(a, *secret, strlen(*secret), webhook_secret_aad(a, id), sealed) ? 0 : -1;
}

enum db_status webhook_store_create(struct arena *a, const struct actor *who, const struct webhook_settings *s,
				    struct json_object **webhook)
{
	*webhook = NULL;
	char *id = crypto_uuid(a), *secret, *sealed;
	if (!id || new_secret(a, id, &secret, &sealed))
		return DB_ERROR;
	const char *p[] = {id,
			   who->user_id,
			   s->v[WEBHOOK_NAME],
			   s->v[WEBHOOK_URL],
			   s->v[WEBHOOK_EVENTS],
			   s->v[WEBHOOK_RETRY_COUNT],
			   s->v[WEBHOOK_TIMEOUT_SECONDS],
			   s->v[WEBHOOK_IS_ACTIVE],
			   sealed,
			   s->v[WEBHOOK_PAYLOAD_FORMAT],
			   s->v[WEBHOOK_INCLUDE_FIELDS],
			   s->v[WEBHOOK_EXCLUDE_FIELDS],
			   s->v[WEBHOOK_HEADERS],
			   s->v[WEBHOOK_ALLOWED_IPS],
			   s->v[WEBHOOK_DISABLE_AFTER_FAILURES],
			   s->v[WEBHOOK_DISABLE_AFTER_DAYS]};
	PGresult *res;
	enum db_status st = db_exec(a, &res,
				    "INSERT INTO webhooks (id, user_id, name, url, events, retry_count, "
				    "timeout_seconds, is_active, secret, payload_format, include_fields, exclude_fields, "
				    "custom_headers, allowed_ips, disable_after_failures, disable_after_days) "
				    "VALUES ($1, $2, $3, $4, $5::text[], coalesce($6::int, 3), coalesce($7::int, 30), "
				    "coalesce($8::boolean, true), $9, coalesce($10, 'standard'), coalesce($11::jsonb, '[]'), "
				    "coalesce($12::jsonb, '[]'), coalesce($13::jsonb, '{}'), coalesce($14::jsonb, '[]'), "
				    "$15::int, $16::int) RETURNING " WEBHOOK_COLUMNS,
				    16, p);
	if (st == DB_OK)
		st = audit_webhook(a, who, "webhook.created", id);
	if (st != DB_OK)
		return st;
	*webhook = webhook_view(res, 0);
	json_object_object_add(*webhook, "secret", json_object_new_string(secret));
	return DB_OK;
}

enum db_status webhook_store_list(struct arena *a, const char *user_id, long page, long limit,
				  struct json_object **items, long long *total)
{
	*items = NULL;
	const char *p[] = {user_id};
	PGresult *res;
	enum db_status s =
		rows_fetch_page(a, (struct rows_page){page, limit}, "SELECT count(*) FROM webhooks WHERE user_id = $1",
				"SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE user_id = $1 "
				"ORDER BY created_at DESC, id LIMIT $2 OFFSET $3",
				1, p, &res, total);
	if (s != DB_OK)
		return s;
	*items = rows_objects(res, 0, webhook_fields);
	return DB_OK;
}

enum db_status webhook_store_get(struct arena *a, const char *user_id, const char *id, struct json_object **webhook)
{
	*webhook = NULL;
	const char *p[] = {id, user_id};
	PGresult *res;
	enum db_status s =
		db_exec(a, &res, "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE id = $1 AND user_id = $2", 2, p);
	if (s == DB_OK)
		*webhook = webhook_view_one(res);
	return s;
}

enum db_status webhook_store_update(struct arena *a, const struct actor *who, const char *id,
				    const struct webhook_settings *s, struct json_object **webhook)
{
	*webhook = NULL;
	const char *p[] = {id,
			   who->user_id,
			   s->v[WEBHOOK_NAME],
			   s->v[WEBHOOK_URL],
			   s->v[WEBHOOK_EVENTS],
			   s->v[WEBHOOK_RETRY_COUNT],
			   s->v[WEBHOOK_TIMEOUT_SECONDS],
			   s->v[WEBHOOK_IS_ACTIVE],
			   s->v[WEBHOOK_PAYLOAD_FORMAT],
			   s->v[WEBHOOK_INCLUDE_FIELDS],
			   s->v[WEBHOOK_EXCLUDE_FIELDS],
			   s->v[WEBHOOK_HEADERS],
			   s->v[WEBHOOK_ALLOWED_IPS],
			   s->v[WEBHOOK_DISABLE_AFTER_FAILURES],
			   s->v[WEBHOOK_DISABLE_AFTER_DAYS]};
	PGresult *res;
	enum db_status st = db_exec(
		a, &res,
		"UPDATE webhooks SET name = coalesce($3, name), url = coalesce($4, url), "
		"events = coalesce($5::text[], events), retry_count = coalesce($6::int, retry_count), "
		"timeout_seconds = coalesce($7::int, timeout_seconds), is_active = coalesce($8::boolean, is_active), "
		"payload_format = coalesce($9, payload_format), include_fields = coalesce($10::jsonb, include_fields), "
		"exclude_fields = coalesce($11::jsonb, exclude_fields), custom_headers = coalesce($12::jsonb, "
		"custom_headers), allowed_ips = coalesce($13::jsonb, allowed_ips), "
		"disable_after_failures = coalesce($14::int, disable_after_failures), "
		"disable_after_days = coalesce($15::int, disable_after_days), "
		"consecutive_failures = CASE WHEN $8::boolean AND NOT is_active THEN 0 ELSE consecutive_failures END, "
		"disabled_reason = CASE WHEN $8::boolean AND NOT is_active THEN NULL ELSE disabled_reason END, "
		"failing_since = CASE WHEN $8::boolean AND NOT is_active THEN NULL ELSE failing_since END, "
		"updated_at = now() "
		"WHERE id = $1 AND user_id = $2 RETURNING " WEBHOOK_COLUMNS,
		15, p);
	if (st == DB_OK && PQntuples(res) == 1)
		st = audit_webhook(a, who, "webhook.updated", id);
	if (st == DB_OK)
		*webhook = webhook_view_one(res);
	return st;
}

enum db_status webhook_store_delete(struct arena *a, const struct actor *who, const char *id, int *deleted)
{
	*deleted = 0;
	const char *p[] = {id, who->user_id};
	PGresult *res;
	enum db_status s = db_exec(a, &res, "DELETE FROM webhooks WHERE id = $1 AND user_id = $2 RETURNING id", 2, p);
	if (s == DB_OK && PQntuples(res) == 1)
		s = audit_webhook(a, who, "webhook.deleted", id);
	if (s == DB_OK)
		*deleted = PQntuples(res) == 1;
	return s;
}

enum db_status webhook_store_rotate_secret(struct arena *a, const struct actor *who, const char *id,
					   struct json_object **rotated)
{
	*rotated = NULL;
	char *secret, *sealed;
	if (new_secret(a, id, &secret, &sealed))
		return DB_ERROR;
	char overlap[24];
	snprintf(overlap, sizeof(overlap), "%ld",
		 config_int("SB_WEBHOOK_SECRET_OVERLAP_SECONDS", 86400, 0, 30L * 86400));
	const char *p[] = {id, who->user_id, sealed, overlap};
	PGresult *res;
	enum db_status s =
		db_exec(a, &res,
			"UPDATE webhooks SET previous_secret = secret, secret = $3, "
			"previous_secret_expires_at = now() + make_interval(secs => $4::int), updated_at = now() "
			"WHERE id = $1 AND user_id = $2 RETURNING " SQL_RFC3339("previous_secret_expires_at"),
			4, p);
	if (s == DB_OK && PQntuples(res) == 1)
		s = audit_webhook(a, who, "webhook.secret_rotated", id);
	if (s != DB_OK || PQntuples(res) != 1)
		return s;
	*rotated = json_object_new_object();
	json_object_object_add(*rotated, "secret", json_object_new_string(secret));
	json_object_object_add(*rotated, "previous_secret_expires_at", json_object_new_string(PQgetvalue(res, 0, 0)));
	return DB_OK;
}

enum db_status webhook_store_state(struct arena *a, const char *user_id, const char *id, enum webhook_state *state)
{
	*state = WEBHOOK_MISSING;
	const char *p[] = {id, user_id};
	PGresult *res;
	enum db_status s = db_exec(a, &res, "SELECT is_active FROM webhooks WHERE id = $1 AND user_id = $2", 2, p);
	if (s == DB_OK && PQntuples(res) == 1)
		*state = PQgetvalue(res, 0, 0)[0] == 't' ? WEBHOOK_ACTIVE : WEBHOOK_INACTIVE;
	return s;
}
