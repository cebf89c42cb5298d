/* Authentication of a request: a Bearer access token (ours, or the host platform's). */
#ifndef SB_AUTH_H
#define SB_AUTH_H

struct request;

/* Authenticates rq from its Authorization header and sets rq->user_id. Returns 0, or
 * the status it answered: 401 (missing/invalid token, with WWW-Authenticate) or 503
 * (the host user could not be looked up). */
int auth_require_user(struct request *rq);

/* True when s is a canonical lower- or upper-case UUID text. */
int auth_is_uuid(const char *s);

#endif
