/* The webhooks responder. */
#include <curl/curl.h>

#include "handlers.h"
#include "http/responder.h"
#include "http/router.h"

static const struct route routes[] = {
	{"GET", "/api/v1/webhooks/event-types", handle_event_types, ROUTE_USER, BODY_NONE, NULL, "webhooks:read"},
	{"GET", "/api/v1/webhooks/source-ips", handle_webhook_source_ips, ROUTE_USER, BODY_NONE, NULL, "webhooks:read"},
	{"POST", "/api/v1/webhooks", handle_webhook_create, ROUTE_USER, BODY_JSON, webhook_create_fields,
	 "webhooks:write"},
	{"GET", "/api/v1/webhooks", handle_webhook_list, ROUTE_USER, BODY_NONE, NULL, "webhooks:read"},
	{"GET", "/api/v1/webhooks/{id}", handle_webhook_get, ROUTE_USER, BODY_NONE, NULL, "webhooks:read"},
	{"PUT", "/api/v1/webhooks/{id}", handle_webhook_update, ROUTE_USER, BODY_JSON, webhook_update_fields,
	 "webhooks:write"},
	{"PATCH", "/api/v1/webhooks/{id}", handle_webhook_update, ROUTE_USER, BODY_JSON, webhook_update_fields,
	 "webhooks:write"},
	{"DELETE", "/api/v1/webhooks/{id}", handle_webhook_delete, ROUTE_USER, BODY_NONE, NULL, "webhooks:write"},
	{"POST", "/api/v1/webhooks/{id}/rotate-secret", handle_webhook_rotate, ROUTE_USER, BODY_NONE, NULL,
	 "webhooks:write"},
	{"GET", "/api/v1/webhooks/{id}/deliveries", handle_deliveries, ROUTE_USER, BODY_NONE, NULL, "webhooks:read"},
	{"POST", "/api/v1/webhooks/{id}/test", handle_webhook_test, ROUTE_USER, BODY_NONE, NULL, "webhooks:write"},
	{"POST", "/api/v1/webhooks/{id}/redeliver/{deliveryId}", handle_redeliver, ROUTE_USER, BODY_NONE, NULL,
	 "webhooks:write"},
	{"POST", "/api/v1/webhooks/{id}/enable", handle_webhook_enable, ROUTE_USER, BODY_NONE, NULL, "webhooks:write"},
	{"POST", "/api/v1/webhooks/{id}/recover", handle_webhook_recover, ROUTE_USER, BODY_JSON, recover_fields,
	 "webhooks:write"},
	{"POST", "/api/v1/events", handle_event_publish, ROUTE_USER, BODY_JSON, event_fields, "events:write"},
};

/* libcurl's global state, once per process, before any test send. */
static int child_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct app app = {"webhooks", routes, sizeof(routes) / sizeof(routes[0]), child_init};
	return responder_main(argc, argv, &app);
}
