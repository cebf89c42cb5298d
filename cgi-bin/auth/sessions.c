/* Token pairs: a short-lived access JWT and an opaque, rotating refresh token.
 *
 * Browser sessions: a sign-in with "session": "cookie" keeps the refresh token out of
 * the body and out of JavaScript's reach: it travels as the HttpOnly cookie sb_refresh,
 * scoped to /api/v1/auth, with the CSRF cookie sb_csrf (readable by the page, Path=/).
 * Refresh and logout by cookie then require the header X-CSRF-Token equal to sb_csrf
 * (double submit: another site can make the browser send the cookies, but cannot read
 * sb_csrf nor set a custom header). Both cookies are SameSite=Strict and Secure. API
 * clients keep sending refresh_token in the body. */
#include <json-c/json.h>
#include <string.h>

#include "auth/session.h"
#include "auth/user_store.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "db/db.h"
#include "events/audit.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"

/* Without the body's refresh_token, the sb_refresh cookie is the token (see above). */
const struct field refresh_fields[] = {
	{"refresh_token", FIELD_STRING, false, 1, 512, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

#define REFRESH_COOKIE "sb_refresh"
#define CSRF_COOKIE "sb_csrf"
#define CSRF_TOKEN_BYTES 32

const char *check_session_mode(struct json_object *v)
{
	return strcmp(json_object_get_string(v), "cookie") ? "must be \"cookie\" (or left out for a token in the body)"
							    : NULL;
}

bool session_wants_cookie(const struct request *rq)
{
	const char *mode = rq->json ? jsonx_get_string(rq->json, "session") : NULL;
	return mode && !strcmp(mode, "cookie");
}

/* Sets both cookies, or expires them when refresh is NULL. */
static int set_cookies(struct request *rq, const char *refresh)
{
	long age = refresh ? session_refresh_ttl() : 0;
	char *csrf = refresh ? crypto_token(rq->arena, CSRF_TOKEN_BYTES) : "";
	if (!csrf)
		return -1;
	reply_header(rq, "Set-Cookie",
		     arena_printf(rq->arena,
				  REFRESH_COOKIE "=%s; Path=/api/v1/auth; Max-Age=%ld; HttpOnly; Secure; SameSite=Strict",
				  refresh ? refresh : "", age));
	reply_header(rq, "Set-Cookie",
		     arena_printf(rq->arena, CSRF_COOKIE "=%s; Path=/; Max-Age=%ld; Secure; SameSite=Strict", csrf, age));
	return 0;
}

int reply_session_as(struct request *rq, enum db_status s, struct json_object *pair, const struct user *u,
		     bool cookie, int status, const char *message)
{
	if (s != DB_OK || !pair) {
		json_object_put(pair);
		return reply_db_failure(rq, s == DB_OK ? DB_ERROR : s);
	}
	if (cookie) {
		/* The refresh token leaves only as the cookie: never in a body a script can read. */
		if (set_cookies(rq, jsonx_get_string(pair, "refresh_token"))) {
			json_object_put(pair);
			return reply_internal(rq);
		}
		json_object_object_del(pair, "refresh_token");
		json_object_object_add(pair, "session", json_object_new_string("cookie"));
	}
	json_object_object_add(pair, "user", user_to_json(u));
	return reply_ok(rq, status, pair, message);
}

int reply_session(struct request *rq, enum db_status s, struct json_object *pair, const struct user *u)
{
	return reply_session_as(rq, s, pair, u, session_wants_cookie(rq), 200, "Authenticated");
}

/* Where the refresh token of this request is: the body (API clients), else the cookie,
 * whose use needs X-CSRF-Token equal to sb_csrf. Returns the token, or NULL after
 * answering (422 when there is none, 403 csrf_failed). *cookie tells which. */
static const char *presented_token(struct request *rq, bool *cookie)
{
	const char *t = rq->json ? jsonx_get_string(rq->json, "refresh_token") : NULL;
	*cookie = false;
	if (t)
		return t;
	t = request_cookie(rq, REFRESH_COOKIE);
	if (!t || !*t) {
		reply_invalid_field(rq, "refresh_token", "is required (in the body, or as the sb_refresh cookie)");
		return NULL;
	}
	const char *header = request_header(rq, "x-csrf-token"), *csrf = request_cookie(rq, CSRF_COOKIE);
	/* Both present, non-empty and equal, compared in constant time. */
	bool ok = header && csrf && *csrf && crypto_str_equal(header, csrf);
	if (!ok) {
		reply_error(rq, 403, "csrf_failed", "The X-CSRF-Token header must equal the sb_csrf cookie");
		return NULL;
	}
	*cookie = true;
	return t;
}

static int invalid_refresh(struct request *rq, bool cookie)
{
	if (cookie && set_cookies(rq, NULL))
		return reply_internal(rq);
	reply_header(rq, "WWW-Authenticate", "Bearer realm=\"switchboard\", error=\"invalid_token\"");
	return reply_error(rq, 401, "invalid_refresh_token", "The refresh token is invalid, expired or revoked");
}

/* A rotated token came back: someone holds a copy. End the whole login. */
static enum db_status end_family(struct request *rq, const struct refresh_token *t)
{
	enum db_status s = refresh_family_revoke(rq->arena, t->family_id);
	if (s == DB_OK)
		s = audit_record(rq->arena, request_actor(rq, t->user.id), "token.reuse_detected", NULL, NULL);
	return s;
}

/* Exchanges the live token t for a new pair in its family (*pair, caller owns). */
static enum db_status rotate(struct request *rq, const struct refresh_token *t, struct json_object **pair)
{
	enum db_status s = refresh_token_rotate(rq->arena, t->id);
	if (s == DB_OK)
		s = audit_record(rq->arena, request_actor(rq, t->user.id), "token.refreshed", NULL, NULL);
	if (s == DB_OK)
		s = session_create_scoped(rq->arena, t->user.id, t->family_id, t->scopes, pair);
	return s;
}

/* 200 token pair | 401 invalid_refresh_token | 403 csrf_failed | 422 | 500 | 503
 * The presented token is locked, checked and rotated in one transaction, so two
 * concurrent uses of one token cannot both succeed: the second is a reuse. An unknown,
 * reused, revoked or expired token is refused the same way (a cookie session also loses
 * its cookies). By cookie, the new refresh token replaces the cookie. */
int handle_refresh(struct request *rq)
{
	bool cookie;
	const char *token = presented_token(rq, &cookie);
	if (!token)
		return rq->status;
	struct refresh_token *t = NULL;
	struct json_object *pair = NULL;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = refresh_token_lock(rq->arena, token, &t);
	if (s == DB_OK && t && t->rotated)
		s = end_family(rq, t);
	else if (s == DB_OK && t && !t->dead)
		s = rotate(rq, t, &pair);
	s = db_finish(rq->arena, s);
	if (s == DB_OK && !pair)
		return invalid_refresh(rq, cookie);
	return reply_session_as(rq, s, pair, t ? &t->user : NULL, cookie, 200, "Authenticated");
}

/* 200 (also for unknown tokens: logging out twice is not an error) | 403 csrf_failed |
 * 422 | 500 | 503. By cookie, both cookies are expired. */
int handle_logout(struct request *rq)
{
	bool cookie;
	const char *token = presented_token(rq, &cookie);
	if (!token)
		return rq->status;
	const char *user_id = NULL;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = refresh_family_logout(rq->arena, token, &user_id);
	if (s == DB_OK && user_id)
		s = audit_record(rq->arena, request_actor(rq, user_id), "user.logout", NULL, NULL);
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (cookie && set_cookies(rq, NULL))
		return reply_internal(rq);
	return reply_ok(rq, 200, NULL, "Logged out");
}
