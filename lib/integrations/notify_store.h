/* Notifications (issue 16): a user's settings (which events, which channel) and the
 * queue of messages the worker sends for them. Every SQL statement of the feature is
 * here. A message is made once per (user, source event) (a unique key: scanning again
 * adds nothing) and is leased while it is being sent, so two workers never send the
 * same one and a worker that dies mid-send leaves it to be taken up after the lease. */
#ifndef SB_NOTIFY_STORE_H
#define SB_NOTIFY_STORE_H

#include <stdbool.h>

#include "core/actor.h"
#include "db/db.h"

struct arena;
struct json_object;

/* The notification kinds a user may choose, NULL-terminated. */
extern const char *const notify_kinds[];

/* The user's settings {enabled, channel, email_to, sms_to, events, available_events,
 * updated_at}; defaults (disabled, nothing chosen) when none are saved. */
enum db_status notify_settings_get(struct arena *a, const char *user_id, struct json_object **out);
/* Saves a checked body (enabled, channel, email_to, sms_to, events), audited as
 * notifications.updated; *out is the saved view. */
enum db_status notify_settings_put(struct arena *a, const struct actor *who, struct json_object *body,
				   struct json_object **out);

/* Adds a pending message for every event of the last day that a user with enabled
 * settings chose and that came after the settings were first saved. *added counts them. */
enum db_status notify_enqueue(struct arena *a, int *added);

struct notification {
	const char *id, *user_id, *kind, *to;
	struct json_object *data; /* the event's data (arena), {} when the event is gone */
	int attempts;		  /* including this one */
	bool sms;		  /* channel sms: to is the E.164 number, else an email address */
};

/* Leases the oldest due message (pending and due, or sending with an expired lease) for
 * lease_s seconds; *found says whether there was one. */
enum db_status notify_claim(struct arena *a, long lease_s, struct notification *out, bool *found);

enum notify_outcome { NOTIFY_SENT, NOTIFY_RETRY, NOTIFY_FAILED, NOTIFY_SKIPPED };
/* Ends the lease: sent, retried after retry_s seconds, failed for good, or skipped (no
 * connector); error (may be NULL) is kept as last_error. */
enum db_status notify_settle(struct arena *a, const char *id, enum notify_outcome o, const char *error, long retry_s);

/* The user's recent messages {id, kind, status, attempts, last_error, sent_at,
 * created_at}, newest first (at most 50). */
enum db_status notify_recent(struct arena *a, const char *user_id, struct json_object **out);

#endif
