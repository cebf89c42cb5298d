/* The authorization-code flow of our OAuth2 provider (RFC 6749 §4.1, RFC 7636): the
 * client as GET /oauth/authorize checks it, the consent requests waiting for a user's
 * decision (10 minutes), the single-use codes (SHA-256 at rest, 60 seconds) and the apps
 * a user has authorized. Writes run in the caller's transaction; the caller audits and
 * commits. Tokens themselves are oauth_grant_store.h's. */
#ifndef SB_OAUTH_CODE_STORE_H
#define SB_OAUTH_CODE_STORE_H

#include <stdbool.h>

#include "db/db.h"

struct arena;
struct json_object;

#define AUTH_CODE_PREFIX "sbac_"

/* Lifetimes: a consent request SB_OAUTH_CONSENT_TTL (600 s), a code SB_OAUTH_CODE_TTL (60 s). */
long oauth_consent_ttl(void);
long oauth_code_ttl(void);

/* A live client as the authorization endpoint sees it; strings in the arena. */
struct oauth_authorize_client {
	const char *id; /* api_clients.id */
	const char *client_id;
	const char *name;
	const char *scopes; /* what it may be granted, space-separated */
	bool public_client;
	bool redirect_matches;	       /* redirect_uri is exactly one of its registered URIs */
	const char *sole_redirect_uri; /* its only registered URI, NULL when it has 0 or 2+ */
};

/* The live client client_id ("sbc_..."), with redirect_uri (NULL: none given) checked
 * against its list; *out NULL when it is unknown or deleted. */
enum db_status oauth_authorize_client_find(struct arena *a, const char *client_id, const char *redirect_uri,
					   struct oauth_authorize_client **out);

/* What a request for consent, or a code, carries. */
struct oauth_authorization {
	const char *id;		/* of the consent request or the code */
	const char *client_id;	/* api_clients.id */
	const char *client_public_id;
	const char *client_name;
	const char *user_id; /* codes only: who approved */
	const char *redirect_uri;
	bool redirect_uri_given; /* the request named it: the token request must repeat it */
	const char *scopes;	 /* space-separated */
	const char *state;	 /* NULL: none */
	const char *code_challenge; /* S256 challenge, NULL: none */
	bool previously_granted; /* consent: the user already authorized this client these scopes */
	bool used, expired;	 /* codes only */
	const char *grant_id;	 /* codes only: the grant issued from it, NULL before */
};

/* Stores a validated authorization request r (r->id ignored) and sets *id. */
enum db_status oauth_consent_create(struct arena *a, const struct oauth_authorization *r, const char **id);

/* The consent request id (a UUID) while it waits (not decided, not expired), with
 * previously_granted for user_id; *out NULL otherwise. lock: hold its row until the
 * transaction ends, so that it is decided once (must run in a transaction then). */
enum db_status oauth_consent_find(struct arena *a, const char *id, const char *user_id, bool lock,
				  struct oauth_authorization **out);

/* Marks consent request id as decided: it never works again. */
enum db_status oauth_consent_decide(struct arena *a, const char *id);

/* Issues the code of the approved request r for user_id: stores its hash, living
 * oauth_code_ttl() seconds, and remembers the grant (authorized apps). *code is the
 * secret, in the arena. DB_ERROR also when the RNG fails. */
enum db_status oauth_code_issue(struct arena *a, const struct oauth_authorization *r, const char *user_id,
				const char **code);

/* The code as presented, locked until the transaction ends (of two concurrent
 * redemptions the second sees it used); *out NULL when no such code exists. */
enum db_status oauth_code_lock(struct arena *a, const char *code, struct oauth_authorization **out);

/* Marks code id as redeemed by the tokens of grant_id. */
enum db_status oauth_code_redeem(struct arena *a, const char *id, const char *grant_id);

/* user_id's authorized apps, newest first: [{client_id, name, scopes, created_at,
 * updated_at}] (a new array the caller owns). */
enum db_status oauth_authorized_apps(struct arena *a, const char *user_id, struct json_object **apps);

/* Forgets user_id's grant to client client_id ("sbc_...") and revokes every token the
 * user delegated to it; *found false when there was no such grant. */
enum db_status oauth_authorized_app_revoke(struct arena *a, const char *user_id, const char *client_id, bool *found);

/* Housekeeping: deletes consent requests an hour past their expiry and codes a day past
 * theirs (a used code is kept that long so that its reuse still revokes its tokens). */
enum db_status oauth_code_prune(struct arena *a);

/* RFC 7636 §4.6 for S256: base64url(SHA-256(verifier)) equals challenge, in constant
 * time; false also when verifier is not 43..128 unreserved characters. */
bool oauth_pkce_s256_matches(struct arena *a, const char *verifier, const char *challenge);

/* True when s is 43..128 characters of [A-Za-z0-9-._~] (a verifier or a challenge). */
bool oauth_pkce_well_formed(const char *s);

#endif
