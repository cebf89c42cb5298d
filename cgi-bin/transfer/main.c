/* The transfer responder: exports, scheduled exports, imports. */
#include <stdio.h>
#include <stdlib.h>

#include "core/config.h"
#include "handlers.h"
#include "http/responder.h"
#include "http/router.h"
#include "integrations/providers/provider.h"

static const struct route routes[] = {
	{"POST", "/api/v1/export", handle_export_create, ROUTE_USER, BODY_JSON, export_create_fields, "transfer:write"},
	{"GET", "/api/v1/export", handle_export_list, ROUTE_USER, BODY_NONE, NULL, "transfer:read"},
	{"POST", "/api/v1/export/schedules", handle_schedule_create, ROUTE_USER, BODY_JSON, schedule_create_fields,
	 "transfer:write"},
	{"GET", "/api/v1/export/schedules", handle_schedule_list, ROUTE_USER, BODY_NONE, NULL, "transfer:read"},
	{"DELETE", "/api/v1/export/schedules/{id}", handle_schedule_delete, ROUTE_USER, BODY_NONE, NULL,
	 "transfer:write"},
	{"GET", "/api/v1/export/{id}", handle_export_get, ROUTE_USER, BODY_NONE, NULL, "transfer:read"},
	{"DELETE", "/api/v1/export/{id}", handle_export_delete, ROUTE_USER, BODY_NONE, NULL, "transfer:write"},
	{"GET", "/api/v1/export/{id}/download", handle_export_download, ROUTE_USER, BODY_NONE, NULL, "transfer:read"},
	{"POST", "/api/v1/import", handle_import_create, ROUTE_USER, BODY_NONE, NULL, "transfer:write"},
	{"GET", "/api/v1/import", handle_import_list, ROUTE_USER, BODY_NONE, NULL, "transfer:read"},
	{"GET", "/api/v1/import/templates/{entity}", handle_import_template, ROUTE_USER, BODY_NONE, NULL,
	 "transfer:read"},
	{"GET", "/api/v1/import/{id}", handle_import_get, ROUTE_USER, BODY_NONE, NULL, "transfer:read"},
	{"GET", "/api/v1/import/{id}/errors", handle_import_errors, ROUTE_USER, BODY_NONE, NULL, "transfer:read"},
};

/* The Blynk rules and sealing of imported devices come from the provider registry. */
static int child_init(void)
{
	return provider_registry_init();
}

int main(int argc, char **argv)
{
	/* An import upload is bigger than the 1 MiB the other groups accept: this group's
	 * body cap is SB_IMPORT_MAX_BYTES plus room for a multipart envelope, unless the
	 * operator set SB_TRANSFER_MAX_BODY_BYTES. */
	config_load();
	char cap[32];
	long import_max = config_int("SB_IMPORT_MAX_BYTES", 10L << 20, 1024, 1L << 30);
	snprintf(cap, sizeof(cap), "%ld",
		 config_int("SB_TRANSFER_MAX_BODY_BYTES", import_max + 65536, 1024, 64L << 20));
	setenv("SB_MAX_BODY_BYTES", cap, 1);
	static const struct app app = {"transfer", routes, sizeof(routes) / sizeof(routes[0]), child_init};
	return responder_main(argc, argv, &app);
}
