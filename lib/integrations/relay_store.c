/* The relay's tickets and sessions; see relay_store.h. */
#include "integrations/relay_store.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"

enum db_status relay_ticket_issue(struct arena *a, const char *user_id, const char **ticket)
{
	*ticket = NULL;
	char *raw = crypto_token(a, 32);
	if (!raw)
		return DB_ERROR;
	char *t = arena_printf(a, MQTT_RELAY_TICKET_PREFIX "%s", raw);
	const char *p[] = {user_id, crypto_sha256_hex(a, t, strlen(t)), arena_printf(a, "%d", MQTT_RELAY_TICKET_TTL)};
	enum db_status s = db_exec(a, NULL, "DELETE FROM mqtt_relay_tickets WHERE user_id = $1 AND expires_at < now()",
				   1, p);
	if (s == DB_OK)
		s = db_exec(a, NULL,
			    "INSERT INTO mqtt_relay_tickets (user_id, ticket_hash, expires_at) "
			    "VALUES ($1, $2, now() + make_interval(secs => $3::int))",
			    3, p);
	if (s == DB_OK)
		*ticket = t;
	return s;
}

enum db_status relay_ticket_consume(struct arena *a, const char *ticket, const char **user_id)
{
	*user_id = NULL;
	if (!ticket || strncmp(ticket, MQTT_RELAY_TICKET_PREFIX, strlen(MQTT_RELAY_TICKET_PREFIX)) ||
	    strlen(ticket) > 128)
		return DB_OK;
	const char *p[] = {crypto_sha256_hex(a, ticket, strlen(ticket))};
	PGresult *res;
	enum db_status s = db_exec(a, &res,
				   "UPDATE mqtt_relay_tickets SET used_at = now() WHERE ticket_hash = $1 "
				   "AND used_at IS NULL AND expires_at > now() RETURNING user_id",
				   1, p);
	if (s == DB_OK && PQntuples(res) == 1)
		*user_id = PQgetvalue(res, 0, 0);
	return s;
}

enum db_status relay_session_open(struct arena *a, const char *user_id, const char *relay_id, const char **id)
{
	const char *p[] = {user_id, relay_id};
	PGresult *res;
	*id = NULL;
	enum db_status s = db_exec(
		a, &res, "INSERT INTO mqtt_relay_sessions (user_id, relay_id) VALUES ($1, $2) RETURNING id", 2, p);
	if (s == DB_OK && PQntuples(res) == 1)
		*id = PQgetvalue(res, 0, 0);
	return s == DB_OK && !*id ? DB_ERROR : s;
}

enum db_status relay_sessions_touch(struct arena *a, const char *ids_array)
{
	const char *p[] = {ids_array};
	return db_exec(a, NULL, "UPDATE mqtt_relay_sessions SET last_seen_at = now() WHERE id = ANY($1::uuid[])", 1,
		       p);
}

enum db_status relay_session_refused(struct arena *a, const char *id, int n)
{
	const char *p[] = {id, arena_printf(a, "%d", n)};
	return db_exec(a, NULL, "UPDATE mqtt_relay_sessions SET refused = refused + $2::int WHERE id = $1", 2, p);
}

enum db_status relay_session_close(struct arena *a, const char *id)
{
	const char *p[] = {id};
	return db_exec(a, NULL, "UPDATE mqtt_relay_sessions SET closed_at = now(), last_seen_at = now() WHERE id = $1", 1, p);
}

enum db_status relay_sessions_clear(struct arena *a, const char *relay_id)
{
	const char *p[] = {relay_id};
	enum db_status s = db_exec(a, NULL,
				   "UPDATE mqtt_relay_sessions SET closed_at = now() WHERE relay_id = $1 AND closed_at IS NULL",
				   1, p);
	if (s == DB_OK)
		s = db_exec(a, NULL, "DELETE FROM mqtt_relay_sessions WHERE closed_at < now() - interval '1 day'", 0,
			    NULL);
	return s;
}

enum db_status relay_users_enabled(struct arena *a, const char *users_array, PGresult **res)
{
	const char *p[] = {users_array};
	return db_exec(a, res,
		       "SELECT user_id FROM user_integrations WHERE provider = 'mqtt' AND enabled "
		       "AND user_id = ANY($1::uuid[])",
		       1, p);
}

struct json_object *relay_sessions_json(const PGresult *res, int r, int col)
{
	struct json_object *v = json_object_new_object();
	json_object_object_add(v, "sessions", json_object_new_int(atoi(PQgetvalue(res, r, col))));
	json_object_object_add(v, "last_seen_at", jsonx_string_or_null(db_value(res, r, col + 1)));
	json_object_object_add(v, "refused", json_object_new_int64(atoll(PQgetvalue(res, r, col + 2))));
	return v;
}

struct json_object *relay_sessions_view(struct arena *a, const char *user_id)
{
	const char *p[] = {user_id};
	PGresult *res;
	if (db_exec(a, &res, RELAY_SESSIONS_OF("$1"), 1, p) != DB_OK || PQntuples(res) != 1)
		return NULL;
	return relay_sessions_json(res, 0, 0);
}
