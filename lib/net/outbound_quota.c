/* Outbound politeness state in PostgreSQL; see outbound_quota.h. */
#include "net/outbound_quota.h"

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/log.h"
#include "db/db.h"

static long num(PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? 0 : atol(PQgetvalue(res, 0, col));
}

long outbound_quota_blocked(struct arena *a, const char *host, const char *caller)
{
	PGresult *res;
	const char *p[] = {host, caller};
	if (db_exec(a, &res,
		    "SELECT extract(epoch FROM max(blocked_until))::bigint FROM outbound_quota "
		    "WHERE host = $1 AND caller IN ($2, '*') AND blocked_until > now()",
		    2, p) != DB_OK ||
	    PQntuples(res) != 1)
		return 0;
	return num(res, 0);
}

long outbound_quota_count(struct arena *a, const char *host, const char *caller, long window_s, long *window_end)
{
	PGresult *res;
	char *w = arena_printf(a, "%ld", window_s);
	const char *p[] = {host, caller, w};
	*window_end = 0;
	if (db_exec(a, &res,
		    "INSERT INTO outbound_quota AS q (host, caller, window_start, calls) VALUES ($1, $2, now(), 1) "
		    "ON CONFLICT (host, caller) DO UPDATE SET "
		    "calls = CASE WHEN q.window_start <= now() - make_interval(secs => $3::int) THEN 1 "
		    "ELSE q.calls + 1 END, "
		    "window_start = CASE WHEN q.window_start <= now() - make_interval(secs => $3::int) THEN now() "
		    "ELSE q.window_start END "
		    "RETURNING calls, ceil(extract(epoch FROM window_start))::bigint + $3::int",
		    3, p) != DB_OK ||
	    PQntuples(res) != 1) {
		log_msg(LOG_WARN, "outbound: could not count a call to %s (no client-side limit for it)", host);
		return 0;
	}
	*window_end = num(res, 1);
	return num(res, 0);
}

void outbound_quota_block(struct arena *a, const char *host, const char *caller, long until)
{
	char *u = arena_printf(a, "%ld", until);
	const char *p[] = {host, caller, u};
	if (db_exec(a, NULL,
		    "INSERT INTO outbound_quota AS q (host, caller, blocked_until) VALUES ($1, $2, to_timestamp($3::bigint)) "
		    "ON CONFLICT (host, caller) DO UPDATE SET blocked_until = "
		    "GREATEST(coalesce(q.blocked_until, 'epoch'), EXCLUDED.blocked_until)",
		    3, p) != DB_OK)
		log_msg(LOG_WARN, "outbound: could not record that %s asked us to wait", host);
}

static char *url_hash(struct arena *a, const char *url)
{
	return crypto_sha256_hex(a, url, strlen(url));
}

bool outbound_cache_get(struct arena *a, const char *host, const char *caller, const char *url, long max_age_s,
			const char **etag, const char **body, const char **content_type)
{
	PGresult *res;
	const char *p[] = {host, caller, url_hash(a, url), arena_printf(a, "%ld", max_age_s)};
	if (db_exec(a, &res,
		    "SELECT etag, body, content_type FROM outbound_cache WHERE host = $1 AND caller = $2 "
		    "AND url_hash = $3 AND stored_at > now() - make_interval(secs => $4::int)",
		    4, p) != DB_OK ||
	    PQntuples(res) != 1)
		return false;
	*etag = arena_strdup(a, PQgetvalue(res, 0, 0));
	*body = arena_strdup(a, PQgetvalue(res, 0, 1));
	*content_type = PQgetisnull(res, 0, 2) ? NULL : arena_strdup(a, PQgetvalue(res, 0, 2));
	return true;
}

void outbound_cache_put(struct arena *a, const char *host, const char *caller, const char *url, const char *etag,
			const char *body, const char *content_type)
{
	const char *p[] = {host, caller, url_hash(a, url), etag, body, content_type};
	if (db_exec(a, NULL,
		    "INSERT INTO outbound_cache (host, caller, url_hash, etag, body, content_type) "
		    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (host, caller, url_hash) DO UPDATE SET "
		    "etag = EXCLUDED.etag, body = EXCLUDED.body, content_type = EXCLUDED.content_type, stored_at = now()",
		    6, p) != DB_OK)
		log_msg(LOG_WARN, "outbound: could not cache an answer of %s", host);
	/* Now and then, entries long past any lifetime go. */
	unsigned char r;
	crypto_random(&r, 1);
	if (r < 3)
		db_exec(a, NULL, "DELETE FROM outbound_cache WHERE stored_at < now() - interval '1 day'", 0, NULL);
}

void outbound_cache_touch(struct arena *a, const char *host, const char *caller, const char *url)
{
	const char *p[] = {host, caller, url_hash(a, url)};
	db_exec(a, NULL,
		"UPDATE outbound_cache SET stored_at = now() WHERE host = $1 AND caller = $2 AND url_hash = $3", 3, p);
}
