/* Token pairs: a short-lived access JWT and an opaque, rotating refresh token. */
#include <json-c/json.h>
#include <string.h>

#include "auth/session.h"
#include "core/arena.h"
#include "core/crypto.h"
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

int session_issue(struct request *rq, const char *user_id, const char *family_id, struct json_object *user)
{
	struct json_object *d;
	enum db_status s = session_create(rq->arena, user_id, family_id, &d);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK) {
		json_object_put(d);
		json_object_put(user);
		return reply_db_failure(rq, s);
	}
	if (user)
		json_object_object_add(d, "user", user);
	return reply_ok(rq, 200, d, "Authenticated");
}

static int invalid_refresh(struct request *rq)
{
	reply_header(rq, "WWW-Authenticate", "Bearer realm=\"switchboard\", error=\"invalid_token\"");
	return reply_error(rq, 401, "invalid_refresh_token", "The refresh token is invalid, expired or revoked");
}

/* 200 token pair | 401 invalid_refresh_token | 422 | 500 | 503
 * The presented token is locked, checked and rotated in one transaction, so two
 * concurrent uses of one token cannot both succeed: the second is a reuse. */
int handle_refresh(struct request *rq)
{
	const char *token = jsonx_get_string(rq->json, "refresh_token");
	const char *p[] = {crypto_sha256_hex(rq->arena, token, strlen(token))};
	PGresult *res;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(rq->arena, &res,
			    "SELECT t.id, t.user_id, t.family_id, t.rotated_at IS NOT NULL, "
			    "t.revoked_at IS NOT NULL OR t.expires_at <= now(), " USER_COLUMNS_OF(
				    "u.") " FROM refresh_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash "
					  "= $1 FOR UPDATE OF t",
			    1, p);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (PQntuples(res) != 1) {
		db_rollback(rq->arena);
		return invalid_refresh(rq);
	}
	const char *id = PQgetvalue(res, 0, 0), *user_id = PQgetvalue(res, 0, 1), *family = PQgetvalue(res, 0, 2);
	bool rotated = PQgetvalue(res, 0, 3)[0] == 't', dead = PQgetvalue(res, 0, 4)[0] == 't';
	if (rotated) {
		/* A rotated token came back: someone holds a copy. End the whole login. */
		const char *fp[] = {family};
		s = db_exec(rq->arena, NULL,
			    "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
			    1, fp);
		if (s == DB_OK)
			s = audit_record(rq->arena, request_actor(rq, user_id), "token.reuse_detected", NULL, NULL);
		if (s == DB_OK)
			s = db_commit(rq->arena);
		if (s != DB_OK)
			return reply_db_failure(rq, s);
		return invalid_refresh(rq);
	}
	if (dead) {
		db_rollback(rq->arena);
		return invalid_refresh(rq);
	}
	const char *ip[] = {id};
	s = db_exec(rq->arena, NULL, "UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1", 1, ip);
	if (s == DB_OK)
		s = audit_record(rq->arena, request_actor(rq, user_id), "token.refreshed", NULL, NULL);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return session_issue(rq, user_id, family, user_json(res, 0, 5));
}

/* 200 (also for unknown tokens: logging out twice is not an error) | 422 | 500 | 503 */
int handle_logout(struct request *rq)
{
	const char *token = jsonx_get_string(rq->json, "refresh_token");
	const char *p[] = {crypto_sha256_hex(rq->arena, token, strlen(token))};
	PGresult *res;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(rq->arena, &res,
			    "UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE family_id = "
			    "(SELECT family_id FROM refresh_tokens WHERE token_hash = $1) RETURNING user_id",
			    1, p);
	if (s == DB_OK && PQntuples(res) > 0)
		s = audit_record(rq->arena, request_actor(rq, PQgetvalue(res, 0, 0)), "user.logout", NULL, NULL);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, NULL, "Logged out");
}
