/* Registration and login. */
#include <json-c/json.h>
#include <string.h>

#include "auth/password.h"
#include "core/arena.h"
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
	{NULL, 0, false, 0, 0, NULL},
};

const struct field login_fields[] = {
	{"email", FIELD_STRING, true, 1, 254, NULL},
	{"password", FIELD_STRING, true, 1, 256, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

struct json_object *user_json(const PGresult *res, int r, int off)
{
	struct json_object *u = json_object_new_object();
	json_object_object_add(u, "id", json_object_new_string(PQgetvalue(res, r, off)));
	json_object_object_add(u, "email", jsonx_string_or_null(db_value(res, r, off + 1)));
	json_object_object_add(u, "name", json_object_new_string(PQgetvalue(res, r, off + 2)));
	json_object_object_add(u, "created_at", json_object_new_string(PQgetvalue(res, r, off + 3)));
	json_object_object_add(u, "updated_at", json_object_new_string(PQgetvalue(res, r, off + 4)));
	return u;
}

/* 201 user | 409 email_taken | 422 | 500 | 503 */
int handle_register(struct request *rq)
{
	const char *email = jsonx_get_string(rq->json, "email");
	const char *password = jsonx_get_string(rq->json, "password");
	const char *name = jsonx_get_string(rq->json, "name");
	char *hash = password_hash(rq->arena, password, strlen(password));
	if (!hash)
		return reply_internal(rq);

	PGresult *res;
	const char *p[] = {email, name, hash};
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(
			rq->arena, &res,
			"INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) RETURNING " USER_COLUMNS, 3,
			p);
	if (s == DB_OK)
		s = audit_record(rq->arena, request_actor(rq, PQgetvalue(res, 0, 0)), "user.registered", NULL, NULL);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK) {
		db_rollback(rq->arena);
		if (s == DB_CONFLICT)
			return reply_error(rq, 409, "email_taken", "An account with this email already exists");
		return s == DB_UNAVAILABLE ? reply_db_unavailable(rq) : reply_internal(rq);
	}
	return reply_ok(rq, 201, user_json(res, 0, 0), "Registered");
}

/* 200 token pair | 401 invalid_credentials | 422 | 500 | 503
 * Unknown email and wrong password take the same path: one argon2 verification, one
 * audit insert, one generic answer. */
int handle_login(struct request *rq)
{
	const char *email = jsonx_get_string(rq->json, "email");
	const char *password = jsonx_get_string(rq->json, "password");
	PGresult *res;
	const char *p[] = {email};
	enum db_status s =
		db_exec(rq->arena, &res,
			"SELECT " USER_COLUMNS ", password_hash FROM users WHERE lower(email) = lower($1)", 1, p);
	if (s != DB_OK)
		return s == DB_UNAVAILABLE ? reply_db_unavailable(rq) : reply_internal(rq);
	bool found = PQntuples(res) == 1;
	const char *hash = found ? db_value(res, 0, 5) : NULL;
	bool ok = password_verify(hash, password, strlen(password)) && hash;
	const char *user_id = found ? PQgetvalue(res, 0, 0) : NULL;

	if (!ok) {
		if (audit_record(rq->arena, request_actor(rq, user_id), "user.login_failed", NULL, NULL) ==
		    DB_UNAVAILABLE)
			return reply_db_unavailable(rq);
		reply_header(rq, "WWW-Authenticate", "Bearer realm=\"switchboard\"");
		return reply_error(rq, 401, "invalid_credentials", "Invalid email or password");
	}
	s = db_begin(rq->arena);
	if (s == DB_OK)
		s = audit_record(rq->arena, request_actor(rq, user_id), "user.login", NULL, NULL);
	if (s != DB_OK) {
		db_rollback(rq->arena);
		return s == DB_UNAVAILABLE ? reply_db_unavailable(rq) : reply_internal(rq);
	}
	return session_issue(rq, user_id, NULL, user_json(res, 0, 0));
}
