/* The connect group: the OAuth authorization-code flow with outside providers, for
 * connecting an integration (with our JWT) and for "sign in with" a provider. */
#ifndef SB_CONNECT_HANDLERS_H
#define SB_CONNECT_HANDLERS_H

#include <stdbool.h>

struct request;
struct oauth_provider;

int handle_connect(struct request *rq);
int handle_login_start(struct request *rq);
int handle_callback(struct request *rq);

/* Starts an authorization: a state bound to redirect_uri (NULL: the provider's callback
 * on this server) and to this browser by a cookie on cookie_path, for scopes (NULL: the
 * provider's), ending in the browser at return_to (NULL: the frontend; "console"). json:
 * 200 {authorization_url, state, provider, expires_in}, else a 302. */
int connect_start(struct request *rq, const struct oauth_provider *p, const char *purpose, const char *user_id,
		  const char *redirect_uri, const char *scopes, const char *return_to, const char *cookie_path,
		  bool json);

/* The generic routes of spec 003 and 002 (generic.c). */
int handle_generic_connect(struct request *rq);
int handle_generic_callback(struct request *rq);
int handle_type_connect(struct request *rq);
/* The body members of those two routes (struct route's body_fields). */
struct field;
const struct field *const *generic_connect_body_fields(const struct request *rq);
const struct field *const *type_connect_body_fields(const struct request *rq);

#endif
