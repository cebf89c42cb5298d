/* Sign-in identities; see identity_store.h. */
#include "auth/identity_store.h"

#include "auth/user_store.h"
#include "core/arena.h"

enum db_status identity_store_sign_in(struct arena *a, const char *provider, const char *subject,
				      const char *email, const char *name, struct user **out, bool *created)
{
	PGresult *res;
	*out = NULL;
	*created = false;
	const char *ip[] = {provider, subject, email};
	enum db_status s = db_exec(a, &res,
				   "UPDATE user_identities SET last_login_at = now(), email = $3 "
				   "WHERE provider = $1 AND subject = $2 RETURNING user_id",
				   3, ip);
	if (s != DB_OK)
		return s;
	if (PQntuples(res) == 1)
		return user_store_by_id(a, PQgetvalue(res, 0, 0), out);
	const char *np[] = {email, name ? name : "", provider};
	s = db_exec(a, &res,
		    "INSERT INTO users (email, name, oauth_provider) SELECT CASE WHEN $1::text IS NULL OR "
		    "length($1) > 254 OR EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1)) THEN NULL "
		    "ELSE $1 END, left($2, 100), $3 RETURNING id",
		    3, np);
	if (s != DB_OK)
		return s;
	const char *user_id = PQgetvalue(res, 0, 0);
	const char *lp[] = {provider, subject, user_id, email};
	s = db_exec(a, NULL,
		    "INSERT INTO user_identities (provider, subject, user_id, email) VALUES ($1, $2, $3, $4)", 4, lp);
	if (s != DB_OK)
		return s;
	*created = true;
	return user_store_by_id(a, user_id, out);
}
