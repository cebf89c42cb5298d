/* The integrations group: the catalog, the caller's integrations, and the generic
 * provider routes, each a call of the provider's op answered by reply_result. */
#ifndef SB_INTEGRATIONS_HANDLERS_H
#define SB_INTEGRATIONS_HANDLERS_H

#include "core/validate.h"

struct request;
struct provider;
struct provider_result;

int handle_catalog(struct request *rq);
int handle_list(struct request *rq);
int handle_get(struct request *rq);
int handle_put(struct request *rq);
int handle_patch(struct request *rq);
int handle_delete(struct request *rq);
int handle_refresh_token(struct request *rq);
int handle_action(struct request *rq);
int handle_action_get(struct request *rq);
int handle_action_get_item(struct request *rq);
int handle_health_list(struct request *rq);
int handle_health_check(struct request *rq);
/* The check of handle_health_check for a provider's stored name; integration_id, when
 * given, is added to the answer. */
int reply_health_check(struct request *rq, const char *provider, const char *integration_id);

/* The generic routes of spec 003 and 002 (generic.c), over the same operations. */
int handle_generic_status(struct request *rq);
int handle_generic_type_status(struct request *rq);
int handle_generic_health_one(struct request *rq);
int handle_generic_get(struct request *rq);
int handle_generic_put(struct request *rq);
int handle_generic_delete(struct request *rq);
int handle_generic_refresh(struct request *rq);
int handle_generic_sync(struct request *rq);
/* Runs p's action of that name on the request (404 when p has none). */
int run_action(struct request *rq, const struct provider *p, const char *name);
/* The same with c->param set (an id from the path). */
int run_action_param(struct request *rq, const struct provider *p, const char *name, const char *param);
int handle_action_item(struct request *rq);
int handle_action_get_star(struct request *rq);

/* The body members each provider route accepts (struct route's body_fields). */
struct field;
const struct field *const *put_body_fields(const struct request *rq);
const struct field *const *patch_body_fields(const struct request *rq);
const struct field *const *refresh_body_fields(const struct request *rq);
const struct field *const *action_body_fields(const struct request *rq);
const struct field *const *generic_put_body_fields(const struct request *rq);
const struct field *const *generic_refresh_body_fields(const struct request *rq);
const struct field *const *generic_sync_body_fields(const struct request *rq);

/* GET and PUT /users/me/notifications (notifications.c) and the PUT body's fields. */
int handle_notifications_get(struct request *rq);
int handle_notifications_put(struct request *rq);
extern const struct field notification_fields[];

/* Answers a provider operation's result: the HTTP status of each outcome is chosen
 * here (result.c) and nowhere in the library. Returns the status. */

#endif
