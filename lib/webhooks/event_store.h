/* The events a user publishes through POST /events, and the event-type catalog: the
 * built-in types and those each user has published. (The outbox itself, which every
 * domain publishes through, is events/events.h.) */
#ifndef SB_EVENT_STORE_H
#define SB_EVENT_STORE_H

#include "db/db.h"
#include "events/events.h"

struct arena;
struct json_object;

/* {event_types: [{name, description, source[, first_seen]}], wildcards: ["*",
 * "<prefix>.*"]}: the built-in types, then user_id's published ones by name. *catalog:
 * caller owns, NULL on failure. */
enum db_status event_store_catalog(struct arena *a, const char *user_id, struct json_object **catalog);

/* NULL when type may be published by a user (a valid name outside the reserved
 * prefixes integration. and webhook.), else the message for the user. */
const char *event_store_type_check(const char *type);

/* Publishes type with data (may be NULL; not taken) for user_id through the outbox, and
 * lists the type in the user's catalog the first time. idempotency_key may be NULL. In
 * the caller's transaction. */
enum db_status event_store_publish(struct arena *a, const char *user_id, const char *type, struct json_object *data,
				   const char *idempotency_key, struct event_published *out);

#endif
