/* Directory sign-in through libldap: find the user with the operator's filter (the
 * username escaped per RFC 4515), collect their groups, bind as them with the password.
 * TLS with certificate and host name checks always (LDAPS or StartTLS), except a plain
 * ldap:// on loopback the operator explicitly allowed. Only the auth responder links
 * libldap (-lldap -llber). */
#ifndef SB_LDAP_DIRECTORY_H
#define SB_LDAP_DIRECTORY_H

#include <stddef.h>

struct arena;
struct ldap_settings;

enum ldap_outcome {
	LDAP_SIGNIN_OK,		 /* the password is the user's: *id is filled */
	LDAP_SIGNIN_DENIED,	 /* unknown user, wrong or empty password, no mapped group */
	LDAP_SIGNIN_UNAVAILABLE, /* the directory cannot be reached, TLS failed, the service bind failed */
};

/* Who signed in; strings in the arena. */
struct ldap_identity {
	const char *dn;
	const char *subject; /* entryUUID, objectGUID (hex) or, lacking both, the DN lowercased */
	const char *email;   /* mail, or NULL */
	const char *name;    /* displayName, else cn, else the username */
	const char *scopes;  /* granted by the group mapping; NULL: every scope (no mapping) */
};

/* Signs username (n bytes, may hold any byte) in with password. An empty password is
 * refused before any bind (a simple bind with one is an anonymous bind that succeeds). An
 * unknown user takes the same path as a known one: the groups search and a bind, as a
 * DN that does not exist. *why: a reason for the log (never the password). */
enum ldap_outcome ldap_sign_in(struct arena *a, const struct ldap_settings *s, const char *username, size_t n,
			       const char *password, struct ldap_identity *id, const char **why);

#endif
