/* Directory sign-in: POST /auth/ldap/login with the operator's LDAP or Active Directory
 * (configured in the environment, see docs/deploy.md "Directory sign-in"). */
#include <json-c/json.h>
#include <string.h>

#include "auth/identity_store.h"
#include "auth/ldap_directory.h"
#include "auth/ldap_settings.h"
#include "auth/session.h"
#include "auth/user_store.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/validate.h"
#include "db/db.h"
#include "events/audit.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"

/* The password's minimum is 0 on purpose: an empty one is refused as a wrong one, before
 * any bind (to a directory, a simple bind without a password is an anonymous success). */
const struct field ldap_login_fields[] = {
	{"username", FIELD_STRING, true, 1, 256, NULL},
	{"password", FIELD_STRING, true, 0, 256, NULL},
	{"session", FIELD_STRING, false, 1, 16, check_session_mode},
	{NULL, 0, false, 0, 0, NULL},
};

static int refused(struct request *rq)
{
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = audit_record(rq->arena, request_actor(rq, NULL), "user.login_failed", "ldap", NULL);
	s = db_finish(rq->arena, s);
	if (s == DB_UNAVAILABLE)
		return reply_db_failure(rq, s);
	reply_header(rq, "WWW-Authenticate", "Bearer realm=\"switchboard\"");
	return reply_error(rq, 401, "invalid_credentials", "Invalid username or password");
}

/* The account of the directory identity (found or created), audited, and a token pair
 * narrowed to the identity's scopes. One retry when a concurrent first sign-in won. */
static int signed_in(struct request *rq, const struct ldap_identity *id)
{
	struct user *u = NULL;
	struct json_object *pair = NULL;
	enum db_status s = DB_CONFLICT;
	for (int attempt = 0; attempt < 2 && s == DB_CONFLICT; attempt++) {
		bool created = false;
		s = db_begin(rq->arena);
		if (s == DB_OK)
			s = identity_store_sign_in(rq->arena, "ldap", id->subject, id->email, id->name, &u, &created);
		if (s == DB_OK && !u)
			s = DB_ERROR;
		if (s == DB_OK && created)
			s = audit_record(rq->arena, request_actor(rq, u->id), "user.registered", "ldap", NULL);
		if (s == DB_OK)
			s = audit_record(rq->arena, request_actor(rq, u->id), "user.login", "ldap", NULL);
		if (s == DB_OK)
			s = session_create_scoped(rq->arena, u->id, NULL, id->scopes, &pair);
		s = db_finish(rq->arena, s);
		if (s != DB_OK) {
			json_object_put(pair);
			pair = NULL;
		}
	}
	return reply_session(rq, s, pair, u);
}

/* 200 token pair | 401 invalid_credentials | 404 ldap_not_configured | 422 |
 * 502 ldap_unavailable | 500 | 503
 * Unknown user, wrong password, empty password and a user in no mapped group all get the
 * same 401; the directory's reason goes to the log only. */
int handle_ldap_login(struct request *rq)
{
	struct ldap_settings cfg;
	const char *why = NULL;
	int on = ldap_settings_load(rq->arena, &cfg, &why);
	if (on == 0)
		return reply_error(rq, 404, "ldap_not_configured", "Directory (LDAP) sign-in is not configured here");
	if (on < 0) {
		log_msg(LOG_ERROR, "ldap: misconfigured: %s", why);
		return reply_error(rq, 502, "ldap_unavailable", "Directory sign-in is misconfigured on this server");
	}
	struct json_object *name = NULL;
	json_object_object_get_ex(rq->json, "username", &name);
	struct ldap_identity id;
	enum ldap_outcome out = ldap_sign_in(rq->arena, &cfg, json_object_get_string(name),
					     (size_t)json_object_get_string_len(name),
					     jsonx_get_string(rq->json, "password"), &id, &why);
	if (out == LDAP_SIGNIN_UNAVAILABLE) {
		log_msg(LOG_WARN, "ldap: %s", why ? why : "the directory failed");
		return reply_error(rq, 502, "ldap_unavailable",
				   "The directory could not be reached or its certificate was not trusted");
	}
	if (out != LDAP_SIGNIN_OK) {
		log_msg(LOG_INFO, "ldap: sign-in refused: %s", why ? why : "denied");
		return refused(rq);
	}
	return signed_in(rq, &id);
}
