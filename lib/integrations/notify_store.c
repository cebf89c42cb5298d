/* Notification settings and queue; see notify_store.h. */
#include "integrations/notify_store.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "db/rows.h"
#include "events/audit.h"

const char *const notify_kinds[] = {"integration.health_error", "integration.health_expired", "webhook.disabled",
				    "export.completed", NULL};

static struct json_object *kinds_array(void)
{
	struct json_object *a = json_object_new_array();
	for (const char *const *k = notify_kinds; *k; k++)
		json_object_array_add(a, json_object_new_string(*k));
	return a;
}

#define SETTINGS_VIEW                                                                                         \
	"SELECT json_build_object('enabled', enabled, 'channel', channel, 'email_to', email_to, 'sms_to', sms_to, "\
	"'events', "    \
	"to_json(events), 'updated_at', " SQL_RFC3339("updated_at") ")::text FROM notification_settings "     \
	"WHERE user_id = $1"

static struct json_object *with_kinds(struct json_object *v)
{
	json_object_object_add(v, "available_events", kinds_array());
	return v;
}

enum db_status notify_settings_get(struct arena *a, const char *user_id, struct json_object **out)
{
	PGresult *res;
	const char *p[] = {user_id};
	enum db_status s = db_exec(a, &res, SETTINGS_VIEW, 1, p);
	if (s != DB_OK)
		return s;
	struct json_object *v = PQntuples(res) ? json_tokener_parse(PQgetvalue(res, 0, 0)) : NULL;
	if (!v) {
		v = json_object_new_object();
		json_object_object_add(v, "enabled", json_object_new_boolean(0));
		json_object_object_add(v, "channel", json_object_new_string("email"));
		json_object_object_add(v, "email_to", NULL);
		json_object_object_add(v, "sms_to", NULL);
		json_object_object_add(v, "events", json_object_new_array());
		json_object_object_add(v, "updated_at", NULL);
	}
	*out = with_kinds(v);
	return DB_OK;
}

enum db_status notify_settings_put(struct arena *a, const struct actor *who, struct json_object *body,
				   struct json_object **out)
{
	struct json_object *events = NULL;
	json_object_object_get_ex(body, "events", &events);
	const char *p[] = {who->user_id, jsonx_get_bool(body, "enabled", 1) ? "true" : "false",
			   jsonx_get_string(body, "channel") ? jsonx_get_string(body, "channel") : "email",
			   jsonx_get_string(body, "email_to"),
			   events ? json_object_to_json_string_ext(events, JSON_C_TO_STRING_PLAIN) : "[]",
			   jsonx_get_string(body, "sms_to")};
	enum db_status s = db_begin(a);
	if (s == DB_OK)
		s = db_exec(a, NULL,
			    "INSERT INTO notification_settings (user_id, enabled, channel, email_to, events, sms_to) "
			    "VALUES ($1, $2::boolean, $3, $4, ARRAY(SELECT DISTINCT jsonb_array_elements_text($5::jsonb)), "
			    "$6) "
			    "ON CONFLICT (user_id) DO UPDATE SET enabled = EXCLUDED.enabled, channel = EXCLUDED.channel, "
			    "email_to = EXCLUDED.email_to, events = EXCLUDED.events, sms_to = EXCLUDED.sms_to, "
			    "updated_at = now()",
			    6, p);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "enabled", json_object_new_boolean(p[1][0] == 't'));
		json_object_object_add(d, "events", events ? json_object_get(events) : json_object_new_array());
		s = audit_record(a, who, "notifications.updated", NULL, d);
	}
	s = db_finish(a, s);
	return s == DB_OK ? notify_settings_get(a, who->user_id, out) : s;
}

enum db_status notify_enqueue(struct arena *a, int *added)
{
	PGresult *res;
	*added = 0;
	enum db_status s = db_exec(
		a, &res,
		"INSERT INTO notifications (user_id, event_id, kind) "
		"SELECT e.user_id, e.id, k.kind FROM notification_settings ns "
		"JOIN events e ON e.user_id = ns.user_id AND e.created_at >= ns.created_at "
		" AND e.created_at > now() - interval '1 day' "
		" AND e.type IN ('integration.health_changed', 'webhook.disabled', 'export.completed') "
		"CROSS JOIN LATERAL (SELECT CASE WHEN e.type = 'integration.health_changed' "
		" THEN 'integration.health_' || (e.data->>'status') ELSE e.type END AS kind) k "
		"WHERE ns.enabled AND k.kind = ANY (ns.events) "
		"ON CONFLICT (user_id, event_id) DO NOTHING",
		0, NULL);
	if (s == DB_OK)
		*added = atoi(PQcmdTuples(res));
	return s;
}

enum db_status notify_claim(struct arena *a, long lease_s, struct notification *out, bool *found)
{
	char lease[24];
	snprintf(lease, sizeof(lease), "%ld", lease_s);
	const char *p[] = {lease};
	PGresult *res;
	*found = false;
	enum db_status s = db_exec(
		a, &res,
		"WITH due AS (SELECT id FROM notifications WHERE (status = 'pending' AND next_attempt_at <= now()) "
		" OR (status = 'sending' AND lease_until < now()) ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
		"UPDATE notifications n SET status = 'sending', attempts = n.attempts + 1, "
		" lease_until = now() + make_interval(secs => $1::int) FROM due WHERE n.id = due.id "
		"RETURNING n.id, n.user_id, n.kind, n.attempts, "
		" (SELECT data::text FROM events WHERE id = n.event_id), "
		" (SELECT CASE WHEN ns.channel = 'sms' THEN ns.sms_to ELSE coalesce(ns.email_to, u.email) END "
		"  FROM users u LEFT JOIN notification_settings ns ON ns.user_id = u.id WHERE u.id = n.user_id), "
		" (SELECT coalesce(channel, 'email') FROM notification_settings WHERE user_id = n.user_id)",
		1, p);
	if (s != DB_OK || PQntuples(res) == 0)
		return s;
	*found = true;
	out->id = arena_strdup(a, PQgetvalue(res, 0, 0));
	out->user_id = arena_strdup(a, PQgetvalue(res, 0, 1));
	out->kind = arena_strdup(a, PQgetvalue(res, 0, 2));
	out->attempts = atoi(PQgetvalue(res, 0, 3));
	const char *data = db_value(res, 0, 4), *to = db_value(res, 0, 5);
	struct json_object *j = data ? json_tokener_parse(data) : NULL;
	out->data = arena_defer(a, jsonx_put, j ? j : json_object_new_object());
	out->to = to ? arena_strdup(a, to) : NULL;
	const char *ch = db_value(res, 0, 6);
	out->sms = ch && !strcmp(ch, "sms");
	return DB_OK;
}

enum db_status notify_settle(struct arena *a, const char *id, enum notify_outcome o, const char *error, long retry_s)
{
	static const char *const words[] = {"sent", "pending", "failed", "skipped"};
	char retry[24];
	snprintf(retry, sizeof(retry), "%ld", retry_s);
	const char *p[] = {id, words[o], error, retry};
	return db_exec(a, NULL,
		       "UPDATE notifications SET status = $2::text, last_error = $3, lease_until = NULL, "
		       "sent_at = CASE WHEN $2::text = 'sent' THEN now() END, "
		       "next_attempt_at = now() + make_interval(secs => $4::int) WHERE id = $1 AND status = 'sending'",
		       4, p);
}

enum db_status notify_recent(struct arena *a, const char *user_id, struct json_object **out)
{
	static const struct row_field fields[] = {
		{"id", ROW_TEXT},	  {"kind", ROW_TEXT},	 {"status", ROW_TEXT},	    {"attempts", ROW_INT},
		{"last_error", ROW_TEXT}, {"sent_at", ROW_TEXT}, {"created_at", ROW_TEXT}, {NULL, 0}};
	const char *p[] = {user_id};
	PGresult *res;
	enum db_status s = db_exec(a, &res,
				   "SELECT id, kind, status, attempts, last_error, " SQL_RFC3339("sent_at") ", " SQL_RFC3339(
					   "created_at") " FROM notifications WHERE user_id = $1 "
							 "ORDER BY created_at DESC LIMIT 50",
				   1, p);
	if (s == DB_OK)
		*out = rows_objects(res, 0, fields);
	return s;
}
