/* Our own login sessions: a short-lived access JWT and an opaque, rotating refresh token
 * stored hashed. Shared by password login (auth group) and "sign in with" a provider
 * (connect group). */
#ifndef SB_SESSION_H
#define SB_SESSION_H

#include "db/db.h"

struct arena;
struct json_object;

/* Access token lifetime (SB_ACCESS_TOKEN_TTL) and refresh lifetime (SB_REFRESH_TOKEN_TTL). */
long session_access_ttl(void);
long session_refresh_ttl(void);

/* Issues a token pair for user_id, continuing family_id (NULL starts a new family):
 * inserts the hashed refresh token in the caller's transaction (no commit) and fills
 * *pair with {access_token, token_type, expires_in, refresh_token, refresh_expires_in}
 * (a new object the caller owns). DB_ERROR also when signing or the RNG fails. */
enum db_status session_create(struct arena *a, const char *user_id, const char *family_id, struct json_object **pair);

/* session_create for a login narrowed to scopes (space-separated; NULL: every scope): the
 * access token carries them as its "scope" claim, the refresh token remembers them. */
enum db_status session_create_scoped(struct arena *a, const char *user_id, const char *family_id,
				     const char *scopes, struct json_object **pair);

#endif
