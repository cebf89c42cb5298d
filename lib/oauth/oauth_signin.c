/* Sign-in with a provider; see oauth_signin.h. */
#include "oauth/oauth_signin.h"

#include <json-c/json.h>

#include "core/arena.h"
#include "core/jsonx.h"

/* Finds the user of a provider identity, else the account with the verified email,
 * else creates one; links the identity. Inside the caller's transaction.
 * An account with that email which has a password (or comes from the host platform) is
 * never linked: its email was never verified by us, so whoever registered it first
 * (perhaps not the email's owner) would gain the identity. Nor is a directory (LDAP)
 * account: it is reached through the directory only, whose groups decide its scopes and
 * whose removal of the user must end their access. *taken is set instead. */
enum db_status oauth_signin_user(struct arena *a, const char *provider, struct json_object *profile,
				 const char **user_id, bool *created, bool *taken)
{
	const char *subject = jsonx_get_string(profile, "id"), *email = jsonx_get_string(profile, "email");
	const char *name = jsonx_get_string(profile, "name");
	if (!name)
		name = jsonx_get_string(profile, "username");
	PGresult *res;
	*created = false;
	const char *ip[] = {provider, subject};
	enum db_status s =
		db_exec(a, &res,
			"UPDATE user_identities SET last_login_at = now() WHERE provider = $1 AND subject = $2 "
			"RETURNING user_id",
			2, ip);
	if (s != DB_OK)
		return s;
	if (PQntuples(res) == 1) {
		*user_id = PQgetvalue(res, 0, 0);
		return DB_OK;
	}
	const char *ep[] = {email};
	s = db_exec(a, &res,
		    "SELECT id, password_hash IS NULL AND external_subject IS NULL AND oauth_provider IS DISTINCT FROM "
		    "'ldap' FROM users WHERE lower(email) = lower($1)",
		    1, ep);
	if (s != DB_OK)
		return s;
	if (PQntuples(res) == 1) {
		if (PQgetvalue(res, 0, 1)[0] != 't') {
			*taken = true;
			return DB_OK;
		}
		*user_id = PQgetvalue(res, 0, 0);
	} else {
		const char *np[] = {email, name ? name : "", provider};
		s = db_exec(
			a, &res,
			"INSERT INTO users (email, name, oauth_provider) VALUES ($1, left($2, 100), $3) RETURNING id",
			3, np);
		if (s != DB_OK)
			return s;
		*user_id = PQgetvalue(res, 0, 0);
		*created = true;
	}
	const char *lp[] = {provider, subject, *user_id, email};
	return db_exec(a, NULL,
		       "INSERT INTO user_identities (provider, subject, user_id, email) VALUES ($1, $2, $3, $4)", 4,
		       lp);
}

struct json_object *oauth_signin_user_json(struct arena *a, const char *user_id)
{
	PGresult *res;
	const char *p[] = {user_id};
	if (db_exec(a, &res,
		    "SELECT id, email, name, " SQL_RFC3339("created_at") ", " SQL_RFC3339(
			    "updated_at") " FROM users WHERE id = $1",
		    1, p) != DB_OK ||
	    PQntuples(res) != 1)
		return NULL;
	struct json_object *u = json_object_new_object();
	json_object_object_add(u, "id", json_object_new_string(PQgetvalue(res, 0, 0)));
	json_object_object_add(u, "email", jsonx_string_or_null(db_value(res, 0, 1)));
	json_object_object_add(u, "name", json_object_new_string(PQgetvalue(res, 0, 2)));
	json_object_object_add(u, "created_at", json_object_new_string(PQgetvalue(res, 0, 3)));
	json_object_object_add(u, "updated_at", json_object_new_string(PQgetvalue(res, 0, 4)));
	return u;
}
