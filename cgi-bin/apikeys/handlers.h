/* The apikeys group: the caller's API keys (create, list, revoke) and their usage and request logs. */
#ifndef SB_APIKEYS_HANDLERS_H
#define SB_APIKEYS_HANDLERS_H

#include "core/validate.h"

struct request;

extern const struct field apikey_create_fields[];

int handle_apikey_create(struct request *rq);
int handle_apikey_list(struct request *rq);
int handle_apikey_revoke(struct request *rq);
int handle_apikey_usage(struct request *rq);
int handle_apikey_logs(struct request *rq);

#endif
