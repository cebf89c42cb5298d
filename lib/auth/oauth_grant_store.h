/* The tokens of our own OAuth2 provider (oauth_access_tokens, oauth_refresh_tokens): a
 * grant is the family of tokens issued to one client from one client_credentials
 * exchange, continued by each refresh. Tokens are opaque, stored as SHA-256, and refresh
 * tokens rotate on every use; presenting a rotated one again ends the whole grant. Writes
 * run in the caller's transaction; the caller audits and commits. */
#ifndef SB_OAUTH_GRANT_STORE_H
#define SB_OAUTH_GRANT_STORE_H

#include <stdbool.h>

#include "db/db.h"

struct arena;
struct credential;

/* Access tokens live one hour (SB_OAUTH_ACCESS_TOKEN_TTL), refresh tokens 30 days
 * (SB_OAUTH_REFRESH_TOKEN_TTL). */
long oauth_access_ttl(void);
long oauth_refresh_ttl(void);

/* What to issue: to client (api_clients.id) of user, in grant_id (NULL: a new grant). */
struct oauth_issue {
	const char *client_id;
	const char *user_id;
	const char *grant_id;
	const char *scopes; /* space-separated, already checked */
	bool offline;	    /* also a refresh token */
	bool delegated;	    /* user_id authorized the client (authorization code), not its owner */
	/* The holder can get another at once by authenticating again (client_credentials
	 * without a refresh token): the row commits without waiting for the WAL flush. A
	 * database crash may forget the last few such tokens, whose clients then see a 401
	 * and ask again; revocations and every other write stay synchronous. Only for a call
	 * outside a transaction. */
	bool reobtainable;
	/* The access token's statement also confirms that client_id is live (not revoked, not
	 * deleted): when it is not, nothing is issued and oauth_grant_issue returns DB_OK with
	 * out->access_token NULL. For a client taken from oauth_client_verify_cached. */
	bool confirm_client;
};

/* What was issued: the secrets, shown once, in the arena. */
struct oauth_issued {
	const char *access_token;
	const char *refresh_token; /* NULL unless offline */
	const char *scopes;
	const char *grant_id;
	long expires_in;
};

/* Generates and stores the tokens of what. DB_ERROR also when the RNG fails. */
enum db_status oauth_grant_issue(struct arena *a, const struct oauth_issue *what, struct oauth_issued *out);

/* A refresh token as found under its row lock. */
struct oauth_refresh {
	const char *id;
	const char *client_id; /* api_clients.id */
	const char *user_id;   /* whose tokens: the grant continues for them */
	const char *grant_id;
	const char *scopes;
	bool delegated;
	bool rotated; /* already exchanged: presenting it again is a reuse */
	bool dead;    /* revoked or expired */
};

/* Finds refresh token token (the secret as presented) and locks it until the transaction
 * ends, so that of two concurrent uses the second sees it rotated; *out is NULL when no
 * such token exists. Must run in a transaction. */
enum db_status oauth_refresh_lock(struct arena *a, const char *token, struct oauth_refresh **out);

/* Marks refresh token id as exchanged. */
enum db_status oauth_refresh_rotate(struct arena *a, const char *id);

/* Revokes every live access and refresh token of grant_id. */
enum db_status oauth_grant_revoke(struct arena *a, const char *grant_id);

/* RFC 7009 for client_id: revokes token (the secret as presented) when it is one of the
 * client's; a refresh token takes its whole grant with it. Unknown tokens and other
 * clients' are left alone without a word. One statement: atomic on its own. */
enum db_status oauth_token_revoke(struct arena *a, const char *client_id, const char *token);

/* What RFC 7662 tells a client about one of its live tokens. */
struct oauth_token_info {
	const char *token_type; /* "Bearer" or "refresh_token" */
	const char *scope;
	long long exp, iat;
	const char *sub;      /* the user */
	const char *username; /* the user's email, NULL when none */
};

/* The live token token of client_id (not revoked, expired, rotated, or of a deleted
 * client) into *out, or NULL when it is none of those. */
enum db_status oauth_token_introspect(struct arena *a, const char *client_id, const char *token,
				      struct oauth_token_info **out);

/* The access token token, as presented, not revoked and of a client not deleted, into
 * *out (expired ones are found with expired set), or NULL when there is none. */
enum db_status oauth_access_token_find(struct arena *a, const char *token, struct credential **out);

#endif
