/* The integrations group: the catalog, the caller's integrations, and the generic
 * provider routes, each a call of the provider's op answered by reply_result. */
#ifndef SB_INTEGRATIONS_HANDLERS_H
#define SB_INTEGRATIONS_HANDLERS_H

struct request;
struct provider_result;

int handle_catalog(struct request *rq);
int handle_list(struct request *rq);
int handle_get(struct request *rq);
int handle_put(struct request *rq);
int handle_patch(struct request *rq);
int handle_delete(struct request *rq);
int handle_refresh_token(struct request *rq);
int handle_action(struct request *rq);
int handle_health_list(struct request *rq);
int handle_health_check(struct request *rq);

/* Answers a provider operation's result: the HTTP status of each outcome is chosen
 * here (result.c) and nowhere in the library. Returns the status. */
int reply_result(struct request *rq, struct provider_result *r);

#endif
