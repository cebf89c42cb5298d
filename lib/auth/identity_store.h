/* Accounts of an outside sign-in identity kept in user_identities (provider, subject):
 * found by the identity, else created. Never linked to an existing account by email:
 * an email already used by another account is left off the new one (the directory may
 * vouch for it, but that account's owner never signed in through the directory, and
 * merging would hand it over). Runs in the caller's transaction. */
#ifndef SB_IDENTITY_STORE_H
#define SB_IDENTITY_STORE_H

#include <stdbool.h>

#include "db/db.h"

struct arena;
struct user;

/* The account of (provider, subject), created on first sight with email (when no other
 * account uses it) and name; *created tells which. *out is the account.
 * DB_CONFLICT: a concurrent first sight won; the caller retries. */
enum db_status identity_store_sign_in(struct arena *a, const char *provider, const char *subject,
				      const char *email, const char *name, struct user **out, bool *created);

#endif
