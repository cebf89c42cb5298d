/* The integrations group: the catalog, the caller's integrations, and per-provider
 * config, test and removal through the provider framework. */
#ifndef SB_INTEGRATIONS_HANDLERS_H
#define SB_INTEGRATIONS_HANDLERS_H

#include "core/validate.h"

struct request;

int handle_catalog(struct request *rq);
int handle_list(struct request *rq);
int handle_get(struct request *rq);
int handle_put(struct request *rq);
int handle_delete(struct request *rq);
int handle_mqtt_test(struct request *rq);
int handle_github_get(struct request *rq);
int handle_patch(struct request *rq);
int handle_refresh_token(struct request *rq);
int handle_github_sync(struct request *rq);
int handle_drive_export(struct request *rq);
int handle_health_list(struct request *rq);
int handle_health_check(struct request *rq);
int handle_blynk_get(struct request *rq);
int handle_blynk_virtual_pin(struct request *rq);

struct provider;
/* Arduino Cloud's GET and PUT (arduino.c), reached through handle_get / handle_put. */
int handle_arduino_get(struct request *rq, const struct provider *p);
int handle_arduino_put(struct request *rq, const struct provider *p);
/* POST .../arduino-cloud/refresh-token: a new client_credentials exchange. */
int handle_arduino_refresh(struct request *rq);
/* DELETE of an OAuth integration: revocation at the provider, then the row. */
int oauth_delete(struct request *rq, const struct provider *p);

extern const struct field github_sync_fields[], drive_export_fields[];

/* Publishes an integration.* event for the caller in the current transaction (outbox). */
#include "db/db.h"
enum db_status integration_event(struct request *rq, const char *type, const char *provider, const char *status);

#endif
