/* The api_clients table: the OAuth clients users register with our own OAuth2 provider.
 * A client's secret is stored as SHA-256; no function here sees or returns it. Writes
 * run in the caller's transaction; the caller audits and commits. */
#ifndef SB_OAUTH_CLIENT_STORE_H
#define SB_OAUTH_CLIENT_STORE_H

#include "db/db.h"

struct arena;
struct credential;
struct json_object;

/* What a new client is made of. */
struct oauth_client_new {
	const char *user_id;
	const char *client_id;	 /* the public "sbc_..." id */
	const char *secret_hash; /* crypto_sha256_hex of the secret; NULL for a public client */
	bool public_client;	 /* client_type "public": no secret, PKCE required */
	const char *name;
	const char *description;	/* NULL: none */
	const char *redirect_uris_json; /* a JSON array of checked URLs */
	const char *scopes;		/* space-separated, already checked */
	long rate_limit_per_hour;
	long rate_limit_read_per_hour, rate_limit_write_per_hour; /* 0: rate_limit_per_hour */
};

/* Inserts c and fills *client with its public view (caller owns). */
enum db_status oauth_client_store_create(struct arena *a, const struct oauth_client_new *c,
					 struct json_object **client);

/* The public views of user_id's clients that are not deleted, newest first. */
enum db_status oauth_client_store_list(struct arena *a, const char *user_id, struct json_object **clients);

/* The public view of client id (a UUID) of user_id, or NULL when it is unknown, deleted
 * or another user's. */
enum db_status oauth_client_store_get(struct arena *a, const char *user_id, const char *id,
				      struct json_object **client);

/* Deletes client id of user_id and revokes every token it holds; *client_id is its public
 * id (in the arena), or NULL when it is unknown, already deleted or another user's. */
enum db_status oauth_client_store_delete(struct arena *a, const char *user_id, const char *id, const char **client_id);

/* Client authentication: the live client client_id ("sbc_...") when secret is its secret,
 * into *out (in the arena), or NULL when the client is unknown, deleted or the secret is
 * wrong. Both cases take the same work (hash and constant-time compare), so timing does
 * not tell which client ids exist. A public client has no secret: it is found when secret
 * is NULL or empty (public_client set), and refused when one is sent; a confidential
 * client is refused without its secret. */
enum db_status oauth_client_verify(struct arena *a, const char *client_id, const char *secret, struct credential **out);

/* oauth_client_verify with a per-process cache of confidential clients verified in the
 * last minute: a client found there by its id whose secret hashes to the kept hash (in
 * constant time) is answered without a round trip, with unconfirmed set, because it may
 * have been revoked (or its owner deleted) since. Only for a request whose handler
 * confirms the client in the statement that uses it (the client_credentials grant's
 * INSERT, oauth_grant_store.h), so a revocation takes effect at once: such a handler
 * calls oauth_client_forget when the client is gone. Any other secret, and public
 * clients, go to the database. */
enum db_status oauth_client_verify_cached(struct arena *a, const char *client_id, const char *secret,
					  struct credential **out);
/* Drops client_id ("sbc_...") from this process's cache. */
void oauth_client_forget(const char *client_id);
/* Empties the cache (tests). */
void oauth_client_cache_clear(void);

#endif
