/* Access tokens: HS256 JWTs we issue, and JWTs the host platform signs with its shared
 * secret. libjwt 1.10 verifies with whatever alg the token names and checks no claim,
 * so every rule is enforced here. */
#ifndef SB_TOKEN_H
#define SB_TOKEN_H

#include <stddef.h>
#include <time.h>

struct arena;

enum token_issuer { TOKEN_OURS, TOKEN_HOST, TOKEN_ISSUER__MAX };

struct token_claims {
	enum token_issuer issuer;
	const char *sub;
	const char *email; /* optional (host tokens) */
	const char *name;  /* optional (host tokens) */
	const char *scope; /* ours: the "scope" claim (space-separated) of a narrowed sign-in; NULL: every scope */
	long exp, iat;
};

enum token_error {
	TOKEN_OK,
	TOKEN_MALFORMED,
	TOKEN_BAD_ALG,
	TOKEN_BAD_SIGNATURE,
	TOKEN_EXPIRED,
	TOKEN_NOT_YET_VALID,
	TOKEN_BAD_CLAIMS,
	TOKEN_ERROR__MAX
};

/* Reads JWT_SECRET (32+ bytes), JWT_ISSUER, JWT_AUDIENCE, and the optional
 * HOST_JWT_SECRET, HOST_JWT_ISSUER, HOST_JWT_AUDIENCE. Returns 0 or -1 (message on stderr). */
int token_init(void);
/* Sets the keys directly (tests). host_* may be NULL to disable host tokens. */
int token_configure(const char *secret, const char *issuer, const char *audience, const char *host_secret,
		    const char *host_issuer, const char *host_audience);

/* Issues our access token for user_id valid ttl seconds from now. *out in the arena. */
int token_issue(struct arena *a, const char *user_id, long ttl, time_t now, char **out);
/* token_issue with a "scope" claim (space-separated) that narrows the token; NULL: none. */
int token_issue_scoped(struct arena *a, const char *user_id, const char *scope, long ttl, time_t now, char **out);
/* Signs an arbitrary HS256 token with the given claims JSON (tests of the host path). */
int token_sign_raw(struct arena *a, const char *secret, const char *claims_json, char **out);

/* Verifies token at time now. On TOKEN_OK, claims point into the arena. */
enum token_error token_verify(struct arena *a, const char *token, time_t now, struct token_claims *claims);
/* A short human message for e ("token expired"). */
const char *token_error_message(enum token_error e);

#endif
