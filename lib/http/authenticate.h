/* Authentication of a request: a user JWT (ours, or the host platform's), an API key
 * (X-API-Key, or Bearer sb_...), an OAuth access token (Bearer sbat_...), or OAuth
 * client credentials at the token endpoints. Fills rq->auth_kind and the principal. */
#ifndef SB_AUTH_H
#define SB_AUTH_H

struct request;

/* Authenticates rq from its Authorization or X-API-Key header and sets rq->user_id,
 * auth_kind, scopes (NULL for a JWT: every scope) and, for keys and tokens, their ids and
 * rate limit. Returns 0, or the status it answered: 401 (missing, invalid, expired or
 * revoked credential, with WWW-Authenticate) or 503 (database). Errors use the RFC
 * format when rq->route says ERRORS_OAUTH. */
int auth_require_user(struct request *rq);

/* 0 when rq->scopes covers scope (scope.h), else 403 insufficient_scope, answered. */
int auth_require_scope(struct request *rq, const char *scope);

/* OAuth client authentication (RFC 6749 §2.3.1): HTTP Basic, or client_id and
 * client_secret in the form already parsed into rq->form; not both. Returns 0 with
 * auth_kind AUTH_OAUTH_CLIENT, client_id, client_public_id, user_id (the owner), scopes
 * and rate_limit set; or 401 invalid_client (WWW-Authenticate: Basic), 400
 * invalid_request, 503. Secrets are compared as SHA-256 in constant time. */
int auth_require_client(struct request *rq);

/* The 401 invalid_client of auth_require_client (for a handler that finds the client
 * gone when it confirms a cached one). */
int auth_invalid_client(struct request *rq);

/* True when s is a canonical lower- or upper-case UUID text. */
int auth_is_uuid(const char *s);

#endif
