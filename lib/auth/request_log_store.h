/* Reading api_request_logs back for the owner of a key or an OAuth client: one page of
 * its requests with filters, and its usage per hour and per status. Ownership is checked
 * here: a key or client of another user is "not found" (NULL), never an empty list.
 * Revoked keys and deleted clients keep their history until it is pruned. */
#ifndef SB_REQUEST_LOG_STORE_H
#define SB_REQUEST_LOG_STORE_H

#include "db/db.h"
#include "db/rows.h"

struct arena;
struct json_object;

/* Whose log: an api_keys row or an api_clients row (both by their UUID id). */
enum request_log_owner { REQUEST_LOG_API_KEY, REQUEST_LOG_OAUTH_CLIENT };

/* The filters of a page, already checked; NULL: not filtered. */
struct request_log_filter {
	long status;	       /* 100..599: exactly; 1..5: the class (4 = 4xx); 0: any */
	const char *method;    /* GET, POST, ... */
	const char *path;      /* prefix of the request path */
	const char *from, *to; /* RFC 3339, created_at >= from and <= to */
};

/* One page {items, page, limit, total} of the requests made with key or client id of
 * user_id, newest first; each item {id, method, path, route, query_params, request_body,
 * request_body_truncated, response_status, response_time_ms, ip_address, user_agent,
 * created_at}. *out is NULL when id is not user_id's. */
enum db_status request_log_page(struct arena *a, enum request_log_owner owner, const char *user_id, const char *id,
				const struct request_log_filter *f, struct rows_page page, struct json_object **out);

/* Requests made with key or client id of user_id over the last hours hours, counted per
 * hour and per status: {<id_member>, hours, from, to, total, by_hour, by_status} (caller
 * owns), or NULL when id is not user_id's. id_member names the id ("api_key_id"). */
enum db_status request_log_usage(struct arena *a, enum request_log_owner owner, const char *user_id, const char *id,
				 long hours, const char *id_member, struct json_object **usage);

#endif
