/* Pending authorizations (oauth_states): a random state, single use, bound to the user,
 * the provider and the purpose, expiring after SB_OAUTH_STATE_TTL_SECONDS (600), with the
 * PKCE verifier sealed. Only the state's SHA-256 is stored. */
#ifndef SB_OAUTH_STATE_H
#define SB_OAUTH_STATE_H

#include <stdbool.h>

#include "db/db.h"

struct arena;

enum oauth_state_check {
	OAUTH_STATE_OK,
	OAUTH_STATE_MISSING, /* no state parameter, or not of our shape */
	OAUTH_STATE_UNKNOWN, /* never issued (or cleaned up) */
	OAUTH_STATE_EXPIRED,
	OAUTH_STATE_REUSED,   /* already consumed */
	OAUTH_STATE_MISMATCH, /* issued for another provider */
	OAUTH_STATE_BROWSER,  /* completed in another browser than the one that started it */
	OAUTH_STATE_CHECK__MAX
};

struct oauth_pending {
	const char *purpose; /* "connect" or "login" */
	const char *user_id; /* NULL for login */
	const char *provider;
	const char *verifier;	  /* opened PKCE verifier, NULL when the provider has no PKCE */
	const char *redirect_uri; /* sent with the authorization: the exchange repeats it */
	const char *return_to;	  /* where the browser lands: NULL (the frontend) or "console" */
};

/* Seconds a state lives. */
long oauth_state_ttl(void);
/* True when s looks like a state we issue (43 base64url characters). */
bool oauth_state_well_formed(const char *s);
/* The reason code of a check ("state_expired"), for redirects and error bodies. */
const char *oauth_state_reason(enum oauth_state_check c);
/* A human message for c. */
const char *oauth_state_message(enum oauth_state_check c);

/* Creates a state for (purpose, user_id, provider) with verifier sealed and return_to
 * (NULL or "console") kept for the callback; *state receives
 * the value to send and *binding the value of the browser-binding cookie (stored only
 * as its hash). Also sweeps states that expired a day ago. */
enum db_status oauth_state_create(struct arena *a, const char *purpose, const char *user_id, const char *provider,
				  const char *verifier, const char *redirect_uri, const char *return_to, char **state,
				  char **binding);

/* The name of the browser-binding cookie of state ("sb_oauth_" + a hash prefix), so
 * flows started side by side in one browser do not overwrite each other's cookie. */
char *oauth_state_cookie_name(struct arena *a, const char *state);

/* Consumes state for provider in its own transaction: whatever the outcome, a known
 * state is marked used, so it never works twice. binding is the browser-binding cookie
 * the callback request carried (NULL when none). *check tells the outcome; *out is
 * filled on OAUTH_STATE_OK. DB_ERROR when the sealed verifier cannot be opened. */
enum db_status oauth_state_consume(struct arena *a, const char *state, const char *provider, const char *binding,
				   enum oauth_state_check *check, struct oauth_pending *out);

#endif
