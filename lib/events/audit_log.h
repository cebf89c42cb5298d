/* Reading the audit log back: a user's own events, newest first, a page at a time. */
#ifndef SB_AUDIT_LOG_H
#define SB_AUDIT_LOG_H

#include "db/db.h"
#include "db/rows.h"

struct arena;
struct json_object;

/* The filters of a page, already checked; NULL: not filtered. */
struct audit_log_filter {
	const char *provider;  /* exactly this provider */
	const char *action;    /* exactly this action ("api_key.created") */
	const char *from, *to; /* RFC 3339: created_at >= from and <= to */
};

/* One page of user_id's audit events matching f as {items, page, limit, total} (caller
 * owns); each item {id, action, provider, ip, user_agent, details, created_at}. */
enum db_status audit_log_page(struct arena *a, const char *user_id, const struct audit_log_filter *f,
			      struct rows_page page, struct json_object **out);

#endif
