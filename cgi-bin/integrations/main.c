/* The integrations responder: the catalog, the caller's integrations, and one generic
 * route set for every provider, dispatched through its ops table (no route names a
 * provider: provider-specific operations are the provider's actions). */
#include "handlers.h"
#include "http/responder.h"
#include "http/router.h"
#include "integrations/providers/provider.h"

#define ONE "/api/v1/users/me/integrations/{provider}"

#define GEN "/api/v1/integrations"

static const struct route routes[] = {
	{"GET", "/api/v1/integrations", handle_catalog, ROUTE_PUBLIC, BODY_NONE, NULL},
	/* The generic routes of spec 003 and 002 (generic.c): literal paths first. */
	{"GET", GEN "/status", handle_generic_status, ROUTE_USER, BODY_NONE, NULL, "integrations:read"},
	{"GET", GEN "/health/all", handle_health_list, ROUTE_USER, BODY_NONE, NULL, "integrations:read"},
	{"GET", GEN "/health/{integration_id}", handle_generic_health_one, ROUTE_USER, BODY_NONE, NULL,
	 "integrations:read", ERRORS_ENVELOPE, ROUTE_SLOW},
	{"GET", GEN "/{type}/status", handle_generic_type_status, ROUTE_USER, BODY_NONE, NULL, "integrations:read"},
	{"POST", GEN "/{type}/sync", handle_generic_sync, ROUTE_USER, BODY_JSON_OPTIONAL, NULL, "integrations:write",
	 ERRORS_ENVELOPE, ROUTE_SLOW, generic_sync_body_fields},
	{"POST", GEN "/{integration_id}/refresh-token", handle_generic_refresh, ROUTE_USER, BODY_JSON_OPTIONAL, NULL,
	 "integrations:write", ERRORS_ENVELOPE, ROUTE_SLOW, generic_refresh_body_fields},
	{"GET", GEN "/{integration_id}", handle_generic_get, ROUTE_USER, BODY_NONE, NULL, "integrations:read"},
	{"PUT", GEN "/{integration_id}", handle_generic_put, ROUTE_USER, BODY_JSON, NULL, "integrations:write",
	 ERRORS_ENVELOPE, ROUTE_QUICK, generic_put_body_fields},
	{"DELETE", GEN "/{integration_id}", handle_generic_delete, ROUTE_USER, BODY_NONE, NULL, "integrations:write"},
	{"GET", "/api/v1/users/me/notifications", handle_notifications_get, ROUTE_USER, BODY_NONE, NULL,
	 "integrations:read"},
	{"PUT", "/api/v1/users/me/notifications", handle_notifications_put, ROUTE_USER, BODY_JSON, notification_fields,
	 "integrations:write"},
	{"GET", "/api/v1/users/me/integrations", handle_list, ROUTE_USER, BODY_NONE, NULL, "integrations:read"},
	{"GET", "/api/v1/users/me/integrations/health", handle_health_list, ROUTE_USER, BODY_NONE, NULL,
	 "integrations:read"},
	/* Routes that reach an outside service take a slow-call slot (every action does). */
	{"GET", ONE "/health", handle_health_check, ROUTE_USER, BODY_NONE, NULL, "integrations:read", ERRORS_ENVELOPE,
	 ROUTE_SLOW},
	{"POST", ONE "/refresh-token", handle_refresh_token, ROUTE_USER, BODY_JSON_OPTIONAL, NULL, "integrations:write",
	 ERRORS_ENVELOPE, ROUTE_SLOW, refresh_body_fields},
	{"POST", ONE "/{action}", handle_action, ROUTE_USER, BODY_JSON_OPTIONAL, NULL, "integrations:write",
	 ERRORS_ENVELOPE, ROUTE_SLOW, action_body_fields},
	{"POST", ONE "/{action}/{step}", handle_action, ROUTE_USER, BODY_JSON_OPTIONAL, NULL, "integrations:write",
	 ERRORS_ENVELOPE, ROUTE_SLOW, action_body_fields},
	{"POST", ONE "/{action}/{step}/{item}", handle_action_item, ROUTE_USER, BODY_JSON_OPTIONAL, NULL,
	 "integrations:write", ERRORS_ENVELOPE, ROUTE_SLOW, action_body_fields},
	{"GET", ONE "/{action}/{step}/{item}", handle_action_get_star, ROUTE_USER, BODY_NONE, NULL, "integrations:read",
	 ERRORS_ENVELOPE, ROUTE_SLOW},
	{"GET", ONE "/{action}/{step}", handle_action_get, ROUTE_USER, BODY_NONE, NULL, "integrations:read",
	 ERRORS_ENVELOPE, ROUTE_SLOW},
	{"GET", ONE "/{action}/{step}/{item}/{sub}", handle_action_get_item, ROUTE_USER, BODY_NONE, NULL,
	 "integrations:read", ERRORS_ENVELOPE, ROUTE_SLOW},
	{"GET", ONE, handle_get, ROUTE_USER, BODY_NONE, NULL, "integrations:read"},
	{"PATCH", ONE, handle_patch, ROUTE_USER, BODY_JSON, NULL, "integrations:write", ERRORS_ENVELOPE, ROUTE_QUICK,
	 patch_body_fields},
	{"PUT", ONE, handle_put, ROUTE_USER, BODY_JSON, NULL, "integrations:write", ERRORS_ENVELOPE, ROUTE_QUICK,
	 put_body_fields},
	{"DELETE", ONE, handle_delete, ROUTE_USER, BODY_NONE, NULL, "integrations:write"},
};

int main(int argc, char **argv)
{
	static const struct app app = {"integrations", routes, sizeof(routes) / sizeof(routes[0]),
				       provider_registry_init};
	return responder_main(argc, argv, &app);
}
