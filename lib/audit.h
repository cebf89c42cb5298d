/* The audit log: who did what, from where. Never a secret in details. */
#ifndef SB_AUDIT_H
#define SB_AUDIT_H

#include "db.h"

struct request;
struct json_object;

/* Records action for user_id (NULL allowed for events without an account) with the
 * request's address and user agent. details (owned, may be NULL) is stored as JSONB. */
enum db_status audit_record(struct request *rq, const char *user_id, const char *action, const char *provider,
			    struct json_object *details);

#endif
