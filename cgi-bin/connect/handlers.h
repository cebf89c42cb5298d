/* The connect group: the OAuth authorization-code flow with outside providers, for
 * connecting an integration (with our JWT) and for "sign in with" a provider. */
#ifndef SB_CONNECT_HANDLERS_H
#define SB_CONNECT_HANDLERS_H

struct request;

int handle_connect(struct request *rq);
int handle_login_start(struct request *rq);
int handle_callback(struct request *rq);

#endif
