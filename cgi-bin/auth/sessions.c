/* Token pairs: a short-lived access JWT and an opaque, rotating refresh token. */
#include <json-c/json.h>

#include "auth/session.h"
#include "auth/user_store.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "db/db.h"
#include "events/audit.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"

const struct field refresh_fields[] = {
	{"refresh_token", FIELD_STRING, true, 1, 512, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

int reply_session(struct request *rq, enum db_status s, struct json_object *pair, const struct user *u)
{
	if (s != DB_OK || !pair) {
		json_object_put(pair);
		return reply_db_failure(rq, s == DB_OK ? DB_ERROR : s);
	}
	json_object_object_add(pair, "user", user_to_json(u));
	return reply_ok(rq, 200, pair, "Authenticated");
}

static int invalid_refresh(struct request *rq)
{
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
		s = session_create(rq->arena, t->user.id, t->family_id, pair);
	return s;
}

/* 200 token pair | 401 invalid_refresh_token | 422 | 500 | 503
 * The presented token is locked, checked and rotated in one transaction, so two
 * concurrent uses of one token cannot both succeed: the second is a reuse. An unknown,
 * reused, revoked or expired token is refused the same way. */
int handle_refresh(struct request *rq)
{
	struct refresh_token *t = NULL;
	struct json_object *pair = NULL;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = refresh_token_lock(rq->arena, jsonx_get_string(rq->json, "refresh_token"), &t);
	if (s == DB_OK && t && t->rotated)
		s = end_family(rq, t);
	else if (s == DB_OK && t && !t->dead)
		s = rotate(rq, t, &pair);
	s = db_finish(rq->arena, s);
	if (s == DB_OK && !pair)
		return invalid_refresh(rq);
	return reply_session(rq, s, pair, t ? &t->user : NULL);
}

/* 200 (also for unknown tokens: logging out twice is not an error) | 422 | 500 | 503 */
int handle_logout(struct request *rq)
{
	const char *user_id = NULL;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = refresh_family_logout(rq->arena, jsonx_get_string(rq->json, "refresh_token"), &user_id);
	if (s == DB_OK && user_id)
		s = audit_record(rq->arena, request_actor(rq, user_id), "user.logout", NULL, NULL);
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, NULL, "Logged out");
}
