/* The outbox; see events.h. */
#include "events/events.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"

bool events_type_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 100 || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* The publication that holds idempotency_key of user_id (within 24 hours), as a duplicate. */
static enum db_status find_duplicate(struct arena *a, const char *user_id, const char *idempotency_key,
				     struct event_published *out)
{
	const char *k[] = {user_id, idempotency_key};
	PGresult *res;
	enum db_status s = db_exec(
		a, &res,
		"SELECT id, message_id, type, (SELECT count(*) FROM webhook_deliveries d WHERE d.event_id = e.id) "
		"FROM events e WHERE user_id = $1 AND idempotency_key = $2",
		2, k);
	if (s != DB_OK)
		return s;
	if (PQntuples(res) != 1)
		return DB_ERROR;
	out->event_id = PQgetvalue(res, 0, 0);
	out->message_id = PQgetvalue(res, 0, 1);
	out->type = PQgetvalue(res, 0, 2);
	out->deliveries = atoi(PQgetvalue(res, 0, 3));
	out->duplicate = true;
	return DB_OK;
}

/* One delivery per active webhook of user_id subscribed to the event: exact types,
 * prefix wildcards ("integration.*") and "*"; the worker is woken when there are any. */
static enum db_status fan_out(struct arena *a, const char *user_id, struct event_published *out)
{
	const char *f[] = {out->event_id, user_id, out->type};
	PGresult *res;
	enum db_status s =
		db_exec(a, &res,
			"INSERT INTO webhook_deliveries (webhook_id, event_id, user_id) "
			"SELECT w.id, $1, w.user_id FROM webhooks w WHERE w.user_id = $2 AND w.is_active AND EXISTS ("
			"  SELECT 1 FROM unnest(w.events) AS e(p) WHERE e.p = $3 OR e.p = '*' "
			"  OR (right(e.p, 2) = '.*' AND starts_with($3, left(e.p, -1)))) "
			"RETURNING id",
			3, f);
	if (s != DB_OK)
		return s;
	out->deliveries = PQntuples(res);
	if (out->deliveries > 0)
		db_notify_after_commit(a, "sb_deliveries");
	return s;
}

enum db_status events_publish(struct arena *a, const char *user_id, const char *type, struct json_object *data,
			      const char *idempotency_key, struct event_published *out)
{
	memset(out, 0, sizeof(*out));
	PGresult *res;
	char *msg = arena_printf(a, "msg_%s", crypto_token(a, 18));
	const char *data_text = data ? json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN) : "{}";
	const char *p[] = {user_id, type, data_text, idempotency_key, msg};
	/* A key older than 24 hours is released first, so it may publish again. */
	if (idempotency_key) {
		const char *k[] = {user_id, idempotency_key};
		enum db_status s =
			db_exec(a, NULL,
				"UPDATE events SET idempotency_key = NULL WHERE user_id = $1 AND idempotency_key = $2 "
				"AND created_at < now() - interval '24 hours'",
				2, k);
		if (s != DB_OK)
			return s;
	}
	enum db_status s =
		db_exec(a, &res,
			"INSERT INTO events (user_id, type, data, idempotency_key, message_id) "
			"VALUES ($1, $2, $3::jsonb, $4, $5) "
			"ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING "
			"RETURNING id, message_id",
			5, p);
	if (s != DB_OK)
		return s;
	if (PQntuples(res) == 0)
		return find_duplicate(a, user_id, idempotency_key, out);
	out->event_id = PQgetvalue(res, 0, 0);
	out->message_id = PQgetvalue(res, 0, 1);
	out->type = type;
	return fan_out(a, user_id, out);
}

enum db_status events_release_idempotency_keys(struct arena *a)
{
	return db_exec(a, NULL,
		       "UPDATE events SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL "
		       "AND created_at < now() - interval '24 hours'",
		       0, NULL);
}
