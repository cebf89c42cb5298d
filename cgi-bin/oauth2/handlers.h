/* The oauth2 group: the OAuth 2.0 provider for outside clients. Client registration is
 * an envelope API for users; the /oauth/... protocol endpoints speak RFC 6749 (token),
 * RFC 7009 (revoke), RFC 7662 (introspect) and RFC 8414 (metadata). */
#ifndef SB_OAUTH2_HANDLERS_H
#define SB_OAUTH2_HANDLERS_H

#include "core/validate.h"

struct request;

extern const struct field client_create_fields[], consent_fields[];

int handle_client_create(struct request *rq);
int handle_client_list(struct request *rq);
int handle_client_get(struct request *rq);
int handle_client_delete(struct request *rq);
int handle_client_logs(struct request *rq);
int handle_client_usage(struct request *rq);

int handle_token(struct request *rq);
/* The route's client_confirmed_by_handler: the client_credentials grant confirms the
 * client in its INSERT, so its client may come from the per-process cache. */
bool token_confirms_client(const struct request *rq);
int handle_revoke(struct request *rq);
int handle_introspect(struct request *rq);
int handle_userinfo(struct request *rq);
int handle_metadata(struct request *rq);
/* Our issuer identifier (SB_PUBLIC_URL, else this request's origin): the metadata's
 * issuer and the iss of every authorization response (RFC 9207). */
const char *oauth2_issuer(struct request *rq);

int handle_authorize(struct request *rq);
int handle_consent_get(struct request *rq);
int handle_consent_post(struct request *rq);
int handle_authorized_apps(struct request *rq);
int handle_authorized_app_revoke(struct request *rq);

#endif
