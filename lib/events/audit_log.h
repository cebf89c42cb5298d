/* Reading the audit log back: a user's own events, newest first, a page at a time. */
#ifndef SB_AUDIT_LOG_H
#define SB_AUDIT_LOG_H

#include "db/db.h"
#include "db/rows.h"

struct arena;
struct json_object;

/* One page of user_id's audit events as {items, page, limit, total} (caller owns); each
 * item {id, action, provider, ip, user_agent, details, created_at}. */
enum db_status audit_log_page(struct arena *a, const char *user_id, struct rows_page page, struct json_object **out);

#endif
