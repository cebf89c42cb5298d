/* The one way to use a stored OAuth token: it is opened, and refreshed first when it
 * expires within SB_TOKEN_REFRESH_MARGIN_SECONDS (300), under the row's lock so two
 * processes never refresh the same token at once. A refused refresh re-reads the row
 * (another process may have rotated it), then marks the integration expired. */
#ifndef SB_OAUTH_TOKEN_H
#define SB_OAUTH_TOKEN_H

#include <stdbool.h>

#include "core/actor.h"
#include "integrations/integration.h"

struct arena;

enum oauth_token_status {
	OAUTH_TOKEN_OK,
	OAUTH_TOKEN_NOT_CONNECTED,    /* no row, or no token in it: 404 */
	OAUTH_TOKEN_UNKNOWN_PROVIDER, /* not in the providers file: 404 */
	OAUTH_TOKEN_EXPIRED,	      /* refused by the provider (now status expired): 409 */
	OAUTH_TOKEN_NO_REFRESH,	      /* a refresh was asked for and the provider gave no refresh token: 409 */
	OAUTH_TOKEN_UNAVAILABLE,      /* the provider is down or slow: 502/504 (http_status) */
	OAUTH_TOKEN_DB,		      /* database trouble: 503 or 500 (db) */
	OAUTH_TOKEN_SECRET,	      /* a sealed token could not be opened: 500 */
	OAUTH_TOKEN_STATUS__MAX
};

struct oauth_token_use {
	const char *access_token; /* plaintext, in the arena */
	bool refreshed;		  /* this call refreshed it */
	const char *expires_at;	  /* RFC 3339 or NULL */
	const char *reason;	  /* on failure: what happened */
	int http_status;	  /* on OAUTH_TOKEN_UNAVAILABLE */
	enum db_status db;	  /* on OAUTH_TOKEN_DB */
};

/* Seconds before expiry at which a token is refreshed. */
long oauth_token_margin(void);

/* who->user_id's access token for provider, refreshed when due (or always with force).
 * Audits (as who) and publishes integration.token_refreshed in the refresh's
 * transaction. The comments of enum oauth_token_status say which answer a handler gives. */
enum oauth_token_status oauth_token_get(struct arena *a, const struct actor *who, const char *provider, bool force,
					struct oauth_token_use *out);

#endif
