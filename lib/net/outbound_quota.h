/* The state behind outbound politeness (outbound.h), shared by every process through
 * PostgreSQL (sql/012_outbound): per service host and caller a client-side call window
 * and the time the service asked us to wait until, and the ETag cache of list
 * endpoints. A caller is a hash of the credential a call carries (one user's token) or
 * "*" for the host as a whole. Every function fails open: without a database a call is
 * neither limited nor cached. */
#ifndef SB_OUTBOUND_QUOTA_H
#define SB_OUTBOUND_QUOTA_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* The latest time (epoch seconds) host asked caller or everyone ("*") to wait until,
 * or 0 when none is pending. */
long outbound_quota_blocked(struct arena *a, const char *host, const char *caller);

/* Counts one call of caller to host in the current window of window_s seconds. Returns
 * the calls counted in the window so far (this one included) and sets *window_end
 * (epoch seconds); 0 when it could not count. */
long outbound_quota_count(struct arena *a, const char *host, const char *caller, long window_s, long *window_end);

/* Records that host asked caller (or "*") to wait until epoch second until. */
void outbound_quota_block(struct arena *a, const char *host, const char *caller, long until);

/* The cached answer of url for caller when younger than max_age_s: its ETag, body and
 * content type (arena strings). false when none. */
bool outbound_cache_get(struct arena *a, const char *host, const char *caller, const char *url, long max_age_s,
			const char **etag, const char **body, const char **content_type);
/* Stores (or replaces) the answer of url for caller. */
void outbound_cache_put(struct arena *a, const char *host, const char *caller, const char *url, const char *etag,
			const char *body, const char *content_type);
/* The cached answer was confirmed current (a 304): its lifetime starts again. */
void outbound_cache_touch(struct arena *a, const char *host, const char *caller, const char *url);

#endif
