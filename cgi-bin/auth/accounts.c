/* Registration and login. */
#include <json-c/json.h>
#include <string.h>

#include "auth/password.h"
#include "auth/session.h"
#include "auth/user_store.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "db/db.h"
#include "events/audit.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"

const struct field register_fields[] = {
	{"email", FIELD_STRING, true, 3, 254, check_email},
	{"password", FIELD_STRING, true, 10, 256, NULL},
	{"name", FIELD_STRING, true, 1, 100, check_not_blank},
	{"session", FIELD_STRING, false, 1, 16, check_session_mode},
	{NULL, 0, false, 0, 0, NULL},
};

const struct field login_fields[] = {
	{"email", FIELD_STRING, true, 1, 254, NULL},
	{"password", FIELD_STRING, true, 1, 256, NULL},
	{"session", FIELD_STRING, false, 1, 16, check_session_mode},
	{NULL, 0, false, 0, 0, NULL},
};

/* 201 user | 409 email_taken | 422 | 500 | 503
 * With "session": "cookie" (a browser signing up) the new account is also signed in: 201
 * with the token pair as login answers it, the refresh token as the sb_refresh cookie. */
int handle_register(struct request *rq)
{
	bool cookie = session_wants_cookie(rq);
	struct json_object *pair = NULL;
	const char *password = jsonx_get_string(rq->json, "password");
	char *hash = password_hash(rq->arena, password, strlen(password));
	if (!hash)
		return reply_internal(rq);
	struct user *u = NULL;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = user_store_create(rq->arena, jsonx_get_string(rq->json, "email"),
				      jsonx_get_string(rq->json, "name"), hash, &u);
	if (s == DB_OK)
		s = audit_record(rq->arena, request_actor(rq, u->id), "user.registered", NULL, NULL);
	if (s == DB_OK && cookie)
		s = audit_record(rq->arena, request_actor(rq, u->id), "user.login", NULL, NULL);
	if (s == DB_OK && cookie)
		s = session_create(rq->arena, u->id, NULL, &pair);
	s = db_finish(rq->arena, s);
	if (s == DB_CONFLICT)
		return reply_error(rq, 409, "email_taken", "An account with this email already exists");
	if (s != DB_OK) {
		json_object_put(pair);
		return reply_db_failure(rq, s);
	}
	if (cookie)
		return reply_session_as(rq, s, pair, u, true, 201, "Registered");
	return reply_ok(rq, 201, user_to_json(u), "Registered");
}

/* 200 token pair | 401 invalid_credentials | 422 | 500 | 503
 * Unknown email and wrong password take the same path: one argon2 verification, one
 * audit insert, one generic answer. */
int handle_login(struct request *rq)
{
	const char *password = jsonx_get_string(rq->json, "password");
	struct user *u;
	enum db_status s = user_store_by_email(rq->arena, jsonx_get_string(rq->json, "email"), &u);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	const char *hash = u ? u->password_hash : NULL;
	bool ok = password_verify(hash, password, strlen(password)) && hash;

	struct json_object *pair = NULL;
	s = db_begin(rq->arena);
	if (s == DB_OK)
		s = audit_record(rq->arena, request_actor(rq, u ? u->id : NULL),
				 ok ? "user.login" : "user.login_failed", NULL, NULL);
	if (s == DB_OK && ok)
		s = session_create(rq->arena, u->id, NULL, &pair);
	s = db_finish(rq->arena, s);
	/* A failed sign-in is refused whether or not its audit row could be written, unless
	 * the database is gone altogether. */
	if (!ok && s != DB_UNAVAILABLE) {
		reply_header(rq, "WWW-Authenticate", "Bearer realm=\"switchboard\"");
		return reply_error(rq, 401, "invalid_credentials", "Invalid email or password");
	}
	return reply_session(rq, s, pair, u);
}
