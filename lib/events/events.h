/* Publishing events (the transactional outbox): the event row and one delivery per
 * subscribed active webhook are written in the caller's transaction, so they commit
 * or vanish with the change that caused them; the worker is woken by NOTIFY at commit. */
#ifndef SB_EVENTS_H
#define SB_EVENTS_H

#include <stdbool.h>

#include "db/db.h"

struct arena;
struct json_object;

struct event_published {
	const char *event_id;
	const char *message_id; /* "msg_..." */
	const char *type;	/* as stored (a duplicate answers the first publication's) */
	int deliveries;		/* webhooks it was fanned out to */
	bool duplicate;		/* the idempotency key was seen within 24 hours: nothing new */
};

/* Publishes type with data (a JSON object, not taken) for user_id. idempotency_key may
 * be NULL. Fills *out. The event and its deliveries are one statement, so they are atomic
 * by themselves; call inside the transaction (db_begin) of the change the event announces. */
enum db_status events_publish(struct arena *a, const char *user_id, const char *type, struct json_object *data,
			      const char *idempotency_key, struct event_published *out);

/* events_publish, and a new type is also entered in the user's catalog (event_types), in
 * the same statement: POST /events. */
enum db_status events_publish_cataloged(struct arena *a, const char *user_id, const char *type,
					struct json_object *data, const char *idempotency_key,
					struct event_published *out);

/* Releases every idempotency key older than the 24 hours it is promised for
 * (housekeeping; events_publish releases the one it meets by itself). */
enum db_status events_release_idempotency_keys(struct arena *a);

/* True when s is a valid event type name: 1..100 chars of [a-z0-9_.-], dot-separated
 * words, no leading/trailing dot. */
bool events_type_valid(const char *s);

#endif
