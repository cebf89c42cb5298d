/* What a presented API key, OAuth access token or OAuth client credential stands for, as
 * the stores find it: whose it is, what it may do, how fast. The HTTP edge copies it onto
 * the request; nothing here knows about HTTP. */
#ifndef SB_CREDENTIAL_H
#define SB_CREDENTIAL_H

#include <stdbool.h>

struct credential {
	const char *user_id;	      /* the owner (UUID text) */
	const char *scopes;	      /* granted scopes, space-separated */
	long rate_limit;	      /* requests per window (rate_limit_per_hour) */
	long rate_limit_read;	      /* GET/HEAD per window (rate_limit_read_per_hour, else rate_limit) */
	long rate_limit_write;	      /* other methods per window (rate_limit_write_per_hour, else rate_limit) */
	bool expired;		      /* found but past its expiry */
	const char *api_key_id;	      /* api_keys.id of an API key, else NULL */
	const char *client_id;	      /* api_clients.id of a token or client, else NULL */
	const char *client_public_id; /* its "sbc_..." id, else NULL */
	const char *token_id;	      /* oauth_access_tokens.id of an access token, else NULL */
	bool public_client;	      /* a public OAuth client (no secret) authenticated by its id */
	bool unconfirmed;	      /* a client from oauth_client_verify_cached's cache: its secret
				       * matched, but it may be revoked since (the handler confirms) */
};

#endif
