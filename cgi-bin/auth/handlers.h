/* The auth group's handlers: accounts, sessions (token pairs) and the caller's profile. */
#ifndef SB_AUTH_HANDLERS_H
#define SB_AUTH_HANDLERS_H

#include <stdbool.h>

#include "core/validate.h"
#include "db/db.h"

struct request;
struct json_object;
struct user;

extern const struct field register_fields[], login_fields[], refresh_fields[], ldap_login_fields[];

int handle_register(struct request *rq);
int handle_login(struct request *rq);
int handle_ldap_login(struct request *rq);
int handle_refresh(struct request *rq);
int handle_logout(struct request *rq);
int handle_me(struct request *rq);
int handle_audit_log(struct request *rq);

/* The "session" field of register and login: "cookie" or absent. */
const char *check_session_mode(struct json_object *v);
/* True when the body asks for a browser session ("session": "cookie"). */
bool session_wants_cookie(const struct request *rq);

/* reply_session with the status and message given; cookie: the refresh token goes into
 * the sb_refresh cookie (with a fresh sb_csrf) instead of the body. */
int reply_session_as(struct request *rq, enum db_status s, struct json_object *pair, const struct user *u,
		     bool cookie, int status, const char *message);

/* Answers the outcome of a sign-in whose transaction has ended with s: 200 with the
 * token pair (owned) and u as "user", or the database failure (pair is then released).
 * A body with "session": "cookie" gets the refresh token as a cookie. */
int reply_session(struct request *rq, enum db_status s, struct json_object *pair, const struct user *u);

#endif
