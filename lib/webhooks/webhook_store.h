/* The webhooks table: registering, listing, reading, changing and deleting a user's
 * webhooks and rotating their signing secrets. Writes run in the caller's transaction
 * (the caller begins and finishes it) and are audited as the actor given, whose user_id
 * owns the webhook. Views are the public JSON of a webhook: never a secret, except the
 * new one a create or a rotation shows once. "Not found" (also another user's webhook)
 * is a NULL view with DB_OK: the caller chooses the answer. */
#ifndef SB_WEBHOOK_STORE_H
#define SB_WEBHOOK_STORE_H

#include "core/actor.h"
#include "db/db.h"

struct arena;
struct json_object;

/* What a caller may set on a webhook, in the order of their SQL parameters. */
enum webhook_setting {
	WEBHOOK_NAME,
	WEBHOOK_URL,
	WEBHOOK_EVENTS,
	WEBHOOK_RETRY_COUNT,
	WEBHOOK_TIMEOUT_SECONDS,
	WEBHOOK_IS_ACTIVE,
	WEBHOOK_PAYLOAD_FORMAT,
	WEBHOOK_INCLUDE_FIELDS, /* JSON text of the array */
	WEBHOOK_EXCLUDE_FIELDS,
	WEBHOOK_HEADERS, /* JSON text of the object (column custom_headers) */
	WEBHOOK_ALLOWED_IPS,
	WEBHOOK_DISABLE_AFTER_FAILURES,
	WEBHOOK_DISABLE_AFTER_DAYS,
	WEBHOOK_SETTING__MAX
};

/* Settings as SQL parameter text; NULL: not given (create: the default, update: kept). */
struct webhook_settings {
	const char *v[WEBHOOK_SETTING__MAX];
};

/* Reads the settings from a JSON body the route's field table has validated. Strings
 * point into body or the arena. */
void webhook_settings_from_json(struct arena *a, struct json_object *body, struct webhook_settings *out);

/* PostgreSQL array text {"a","b"} of a JSON array of event-type strings (validated:
 * [a-z0-9_.*-] only, so nothing needs escaping), in the arena; NULL for NULL. */
const char *webhook_events_array(struct arena *a, struct json_object *events);

/* Registers a webhook of who->user_id with a new signing secret (sealed in the row).
 * *webhook: the view plus "secret", the only time it is shown. DB_ERROR when no secret
 * could be made or sealed. */
enum db_status webhook_store_create(struct arena *a, const struct actor *who, const struct webhook_settings *s,
				    struct json_object **webhook);

/* One page (from 1) of user_id's webhooks, newest first: *items (caller owns) and *total. */
enum db_status webhook_store_list(struct arena *a, const char *user_id, long page, long limit,
				  struct json_object **items, long long *total);

/* The view of webhook id of user_id, or NULL. */
enum db_status webhook_store_get(struct arena *a, const char *user_id, const char *id, struct json_object **webhook);

/* Changes the settings given (the others keep their values); re-activating clears the
 * reason it was disabled. *webhook: the new view, or NULL (nothing changed, not audited). */
enum db_status webhook_store_update(struct arena *a, const struct actor *who, const char *id,
				    const struct webhook_settings *s, struct json_object **webhook);

/* Deletes webhook id of who->user_id (its deliveries go with it); *deleted 0 when absent. */
enum db_status webhook_store_delete(struct arena *a, const struct actor *who, const char *id, int *deleted);

/* A new signing secret for webhook id; the old one keeps signing beside it for
 * SB_WEBHOOK_SECRET_OVERLAP_SECONDS (24 hours). *rotated: {secret,
 * previous_secret_expires_at} (shown once), or NULL when absent. */
enum db_status webhook_store_rotate_secret(struct arena *a, const struct actor *who, const char *id,
					   struct json_object **rotated);

/* Whether webhook id exists for user_id, and whether it is active. */
enum webhook_state { WEBHOOK_MISSING, WEBHOOK_ACTIVE, WEBHOOK_INACTIVE, WEBHOOK_STATE__MAX };
enum db_status webhook_store_state(struct arena *a, const char *user_id, const char *id, enum webhook_state *state);

#endif
