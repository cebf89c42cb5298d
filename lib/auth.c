/* Bearer authentication; see auth.h. */
#include "auth.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db.h"
#include "reply.h"
#include "request.h"
#include "token.h"

int auth_is_uuid(const char *s)
{
	static const int dash[] = {8, 13, 18, 23};
	if (!s || strlen(s) != 36)
		return 0;
	for (int i = 0, d = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return 0;
			d++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/* A host-platform identity maps to one user row, created on first sight. The email is
 * kept only when no other account uses it: a host token never takes over an account. */
static int host_user(struct request *rq, const struct token_claims *c, const char **user_id)
{
	static const char sql[] =
		"WITH found AS (SELECT id FROM users WHERE external_subject = $1), "
		"ins AS (INSERT INTO users (external_subject, email, name) "
		"  SELECT $1, CASE WHEN $2::text IS NULL OR EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($2)) "
		"  THEN NULL ELSE $2 END, coalesce(left($3, 100), '') "
		"  WHERE NOT EXISTS (SELECT 1 FROM found) ON CONFLICT DO NOTHING RETURNING id) "
		"SELECT id FROM found UNION ALL SELECT id FROM ins";
	const char *p[] = {c->sub, c->email, c->name};
	for (int attempt = 0; attempt < 2; attempt++) {
		PGresult *r;
		enum db_status s = db_exec(rq->arena, &r, sql, 3, p);
		if (s == DB_UNAVAILABLE)
			return reply_db_unavailable(rq);
		if (s != DB_OK)
			return reply_internal(rq);
		if (PQntuples(r) > 0) {
			*user_id = PQgetvalue(r, 0, 0);
			return 0;
		}
		/* Lost a race with a concurrent first request: the row exists now. */
	}
	return reply_internal(rq);
}

int auth_require_user(struct request *rq)
{
	const char *h = request_header(rq, "authorization");
	if (!h || !*h)
		return reply_unauthorized(rq, "Authentication required", 0);
	if (strncasecmp(h, "Bearer ", 7) || !h[7])
		return reply_unauthorized(rq, "Use an Authorization: Bearer token", 1);
	struct token_claims c;
	enum token_error e = token_verify(rq->arena, h + 7, time(NULL), &c);
	if (e != TOKEN_OK)
		return reply_unauthorized(rq, token_error_message(e), 1);
	if (c.issuer == TOKEN_HOST) {
		int st = host_user(rq, &c, &rq->user_id);
		return st;
	}
	if (!auth_is_uuid(c.sub))
		return reply_unauthorized(rq, token_error_message(TOKEN_BAD_CLAIMS), 1);
	rq->user_id = c.sub;
	return 0;
}
