/* The Remote Lab relay's rows (migration 013): single-use WebSocket tickets (SHA-256 at
 * rest, MQTT_RELAY_TICKET_TTL seconds) and the relay's live sessions per user. The
 * integrations responder issues tickets; the relay (relay/) consumes them and keeps
 * its session rows. */
#ifndef SB_RELAY_STORE_H
#define SB_RELAY_STORE_H

#include <stdbool.h>

#include "db/db.h"

struct arena;
struct json_object;

#define MQTT_RELAY_TICKET_TTL	 30
#define MQTT_RELAY_TICKET_PREFIX "sbrt_"
/* Where nginx sends the WebSocket upgrade to the relay. */
#define MQTT_RELAY_WS_PATH "/api/v1/users/me/integrations/mqtt/ws"

/* Makes a ticket for user_id: *ticket is the clear text (in the arena), only its hash is
 * stored. Deletes the user's expired tickets on the way. */
enum db_status relay_ticket_issue(struct arena *a, const char *user_id, const char **ticket);

/* Consumes ticket once, atomically: *user_id is its user, or NULL when the ticket is
 * unknown, used or expired. */
enum db_status relay_ticket_consume(struct arena *a, const char *ticket, const char **user_id);

/* A relayed session opened for user_id by relay relay_id: *id is its row. */
enum db_status relay_session_open(struct arena *a, const char *user_id, const char *relay_id, const char **id);
/* Marks the sessions (a PostgreSQL array literal of ids) seen now. */
enum db_status relay_sessions_touch(struct arena *a, const char *ids_array);
/* Adds n to a session's refusal counter. */
enum db_status relay_session_refused(struct arena *a, const char *id, int n);
enum db_status relay_session_close(struct arena *a, const char *id);
/* Closes every open row of relay relay_id (at its start and stop); drops rows closed a
 * day ago. */
enum db_status relay_sessions_clear(struct arena *a, const char *relay_id);
/* Which of users (an array literal of user ids) still have an enabled MQTT integration:
 * *res has one column, user_id. */
enum db_status relay_users_enabled(struct arena *a, const char *users_array, PGresult **res);

/* The aggregate of relay_sessions_view as a derived table for user_param ("$1"):
 * columns relay_open, relay_seen, relay_refused (RELAY_SESSIONS_COLUMNS). */
#define RELAY_SESSIONS_OF(user_param)                                                               \
	"SELECT count(*) FILTER (WHERE closed_at IS NULL) AS relay_open, " SQL_RFC3339("max(last_seen_at)") \
	" AS relay_seen, coalesce(sum(refused), 0) AS relay_refused FROM mqtt_relay_sessions "           \
	"WHERE mqtt_relay_sessions.user_id = " user_param
#define RELAY_SESSIONS_COLUMNS "relay.relay_open, relay.relay_seen, relay.relay_refused"

/* The view of the three columns of RELAY_SESSIONS_OF at column col of row r. */
struct json_object *relay_sessions_json(const PGresult *res, int r, int col);

/* {sessions (open now), last_seen_at, refused (packets refused by the sessions of the
 * last day)} of user_id; NULL on trouble. */
struct json_object *relay_sessions_view(struct arena *a, const char *user_id);

#endif
