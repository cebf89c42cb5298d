/* "Sign in with" a provider: the account of a provider identity, found or created, and
 * the user as the sign-in answers it. Runs in the caller's transaction. */
#ifndef SB_OAUTH_SIGNIN_H
#define SB_OAUTH_SIGNIN_H

#include <stdbool.h>

#include "db/db.h"

struct arena;
struct json_object;

/* Finds the user of the profile's identity at provider, else the account with the
 * verified email, else creates one; links the identity. *created when the account is
 * new. An account with that email which has a password (or comes from the host
 * platform) is never linked: *taken is set instead (its email was never verified by us,
 * so whoever registered it first would gain the identity), nor is a directory (LDAP)
 * account (reached through the directory only). DB_CONFLICT: another sign-in
 * created it meanwhile; retry. */
enum db_status oauth_signin_user(struct arena *a, const char *provider, struct json_object *profile,
				 const char **user_id, bool *created, bool *taken);

/* {id, email, name, created_at, updated_at} of the user (a new object), or NULL. */
struct json_object *oauth_signin_user_json(struct arena *a, const char *user_id);

#endif
