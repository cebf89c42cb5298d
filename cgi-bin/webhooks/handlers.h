/* The webhooks group: registration, the delivery log, test sends, redelivery, secret
 * rotation, the event-type catalog, and publishing events. */
#ifndef SB_WEBHOOKS_HANDLERS_H
#define SB_WEBHOOKS_HANDLERS_H

#include "core/validate.h"
#include "db/db.h"

struct request;
struct json_object;

extern const struct field webhook_create_fields[], webhook_update_fields[], event_fields[], recover_fields[];

int handle_webhook_create(struct request *rq);
int handle_webhook_list(struct request *rq);
int handle_webhook_get(struct request *rq);
int handle_webhook_update(struct request *rq);
int handle_webhook_delete(struct request *rq);
int handle_webhook_rotate(struct request *rq);
int handle_deliveries(struct request *rq);
int handle_webhook_test(struct request *rq);
int handle_redeliver(struct request *rq);
int handle_webhook_enable(struct request *rq);
int handle_webhook_recover(struct request *rq);
int handle_webhook_source_ips(struct request *rq);
int handle_event_types(struct request *rq);
int handle_event_publish(struct request *rq);

/* The :id path parameter when it is a UUID; otherwise answers 404 and returns NULL. */
const char *path_uuid(struct request *rq, const char *name);

#endif
