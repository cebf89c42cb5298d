/* The audit log: who did what, from where. Never a secret in details. */
#ifndef SB_AUDIT_H
#define SB_AUDIT_H

#include "core/actor.h"
#include "db/db.h"

struct arena;
struct json_object;

/* Records action by who (its user_id may be NULL) in the open transaction, if any.
 * details (owned, may be NULL) is stored as JSONB; the user agent is cut to 512 bytes. */
enum db_status audit_record(struct arena *a, const struct actor *who, const char *action, const char *provider,
			    struct json_object *details);

#endif
