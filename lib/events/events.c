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

/* The event, one delivery per active webhook of the user subscribed to it (exact types,
 * prefix wildcards "integration.*" and "*"), and with catalog its row in event_types, in
 * one statement: atomic without a transaction of its own, one round trip. No row when the
 * idempotency key is taken (ON CONFLICT DO NOTHING): the caller looks for the duplicate. */
static const char publish_sql[] =
	"WITH e AS (INSERT INTO events (user_id, type, data, idempotency_key, message_id) "
	"  VALUES ($1, $2, $3::jsonb, $4, $5) "
	"  ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING "
	"  RETURNING id, message_id), "
	"d AS (INSERT INTO webhook_deliveries (webhook_id, event_id, user_id) "
	"  SELECT w.id, e.id, w.user_id FROM e, webhooks w WHERE w.user_id = $1 AND w.is_active AND EXISTS ("
	"    SELECT 1 FROM unnest(w.events) AS t(p) WHERE t.p = $2 OR t.p = '*' "
	"    OR (right(t.p, 2) = '.*' AND starts_with($2, left(t.p, -1)))) "
	"  RETURNING 1), "
	"c AS (INSERT INTO event_types (user_id, name) SELECT $1, $2 FROM e WHERE $6::boolean "
	"  ON CONFLICT DO NOTHING) "
	"SELECT e.id, e.message_id, (SELECT count(*) FROM d) FROM e";

static enum db_status publish(struct arena *a, const char *user_id, const char *type, struct json_object *data,
			      const char *idempotency_key, bool catalog, struct event_published *out)
{
	memset(out, 0, sizeof(*out));
	PGresult *res;
	char *msg = arena_printf(a, "msg_%s", crypto_token(a, 18));
	const char *data_text = data ? json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN) : "{}";
	const char *p[] = {user_id, type, data_text, idempotency_key, msg, catalog ? "true" : "false"};
	/* A key older than 24 hours is released first, so it may publish again. (Outside a
	 * transaction this is a statement of its own: releasing an expired key early is harmless.) */
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
	enum db_status s = db_exec(a, &res, publish_sql, 6, p);
	if (s != DB_OK)
		return s;
	if (PQntuples(res) == 0)
		return find_duplicate(a, user_id, idempotency_key, out);
	out->event_id = PQgetvalue(res, 0, 0);
	out->message_id = PQgetvalue(res, 0, 1);
	out->type = type;
	out->deliveries = atoi(PQgetvalue(res, 0, 2));
	if (out->deliveries > 0)
		db_notify_after_commit(a, "sb_deliveries");
	return DB_OK;
}

enum db_status events_publish(struct arena *a, const char *user_id, const char *type, struct json_object *data,
			      const char *idempotency_key, struct event_published *out)
{
	return publish(a, user_id, type, data, idempotency_key, false, out);
}

enum db_status events_publish_cataloged(struct arena *a, const char *user_id, const char *type,
					struct json_object *data, const char *idempotency_key,
					struct event_published *out)
{
	return publish(a, user_id, type, data, idempotency_key, true, out);
}

enum db_status events_release_idempotency_keys(struct arena *a)
{
	return db_exec(a, NULL,
		       "UPDATE events SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL "
		       "AND created_at < now() - interval '24 hours'",
		       0, NULL);
}
