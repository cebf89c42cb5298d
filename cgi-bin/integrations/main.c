/* The integrations responder: catalog, the caller's integrations, provider config. */
#include "core/validate.h"
#include "handlers.h"
#include "http/responder.h"
#include "http/router.h"
#include "integrations/providers/provider.h"

static const struct route routes[] = {
	{"GET", "/api/v1/integrations", handle_catalog, ROUTE_PUBLIC, BODY_NONE, NULL},
	{"GET", "/api/v1/users/me/integrations", handle_list, ROUTE_USER, BODY_NONE, NULL, "integrations:read"},
	{"POST", "/api/v1/users/me/integrations/mqtt/test", handle_mqtt_test, ROUTE_USER, BODY_JSON_OPTIONAL, NULL,
	 "integrations:write", ERRORS_ENVELOPE, ROUTE_SLOW},
	{"GET", "/api/v1/users/me/integrations/health", handle_health_list, ROUTE_USER, BODY_NONE, NULL,
	 "integrations:read"},
	{"GET", "/api/v1/users/me/integrations/{provider}/health", handle_health_check, ROUTE_USER, BODY_NONE, NULL,
	 "integrations:read", ERRORS_ENVELOPE, ROUTE_SLOW},
	{"GET", "/api/v1/users/me/integrations/blynk", handle_blynk_get, ROUTE_USER, BODY_NONE, NULL,
	 "integrations:read"},
	{"POST", "/api/v1/users/me/integrations/blynk/virtual-pin", handle_blynk_virtual_pin, ROUTE_USER, BODY_JSON,
	 NULL, "integrations:write", ERRORS_ENVELOPE, ROUTE_SLOW},
	{"GET", "/api/v1/users/me/integrations/github", handle_github_get, ROUTE_USER, BODY_NONE, NULL,
	 "integrations:read"},
	{"POST", "/api/v1/users/me/integrations/github/sync", handle_github_sync, ROUTE_USER, BODY_JSON,
	 github_sync_fields, "integrations:write", ERRORS_ENVELOPE, ROUTE_SLOW},
	{"POST", "/api/v1/users/me/integrations/google/drive/export", handle_drive_export, ROUTE_USER, BODY_JSON,
	 drive_export_fields, "integrations:write", ERRORS_ENVELOPE, ROUTE_SLOW},
	{"POST", "/api/v1/users/me/integrations/{provider}/refresh-token", handle_refresh_token, ROUTE_USER,
	 BODY_JSON_OPTIONAL, NULL, "integrations:write", ERRORS_ENVELOPE, ROUTE_SLOW},
	{"GET", "/api/v1/users/me/integrations/{provider}", handle_get, ROUTE_USER, BODY_NONE, NULL,
	 "integrations:read"},
	{"PATCH", "/api/v1/users/me/integrations/{provider}", handle_patch, ROUTE_USER, BODY_JSON, NULL,
	 "integrations:write"},
	{"PUT", "/api/v1/users/me/integrations/{provider}", handle_put, ROUTE_USER, BODY_JSON, NULL,
	 "integrations:write"},
	{"DELETE", "/api/v1/users/me/integrations/{provider}", handle_delete, ROUTE_USER, BODY_NONE, NULL,
	 "integrations:write"},
};

int main(int argc, char **argv)
{
	static const struct app app = {"integrations", routes, sizeof(routes) / sizeof(routes[0]),
				       provider_registry_init};
	return responder_main(argc, argv, &app);
}
