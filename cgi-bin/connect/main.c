/* The connect responder: /auth/{provider}/connect, /login and /callback, and the OAuth
 * part of the generic routes (/integrations/connect, /callback, /{type}/connect). The
 * provider registry (which loads the providers file) lets /{type}/connect save a
 * config provider's settings too. */
#include "handlers.h"
#include "http/responder.h"
#include "http/router.h"
#include "integrations/providers/provider.h"

static const struct route routes[] = {
	{"GET", "/api/v1/auth/{provider}/connect", handle_connect, ROUTE_USER, BODY_NONE, NULL, "integrations:write"},
	{"GET", "/api/v1/auth/{provider}/login", handle_login_start, ROUTE_PUBLIC, BODY_NONE, NULL},
	{"GET", "/api/v1/auth/{provider}/callback", handle_callback, ROUTE_PUBLIC, BODY_NONE, NULL},
	/* The generic routes of spec 003 and 002 (generic.c). */
	{"POST", "/api/v1/integrations/connect", handle_generic_connect, ROUTE_USER, BODY_JSON, NULL,
	 "integrations:write", ERRORS_ENVELOPE, ROUTE_QUICK, generic_connect_body_fields},
	{"GET", "/api/v1/integrations/callback", handle_generic_callback, ROUTE_PUBLIC, BODY_NONE, NULL},
	{"POST", "/api/v1/integrations/{type}/connect", handle_type_connect, ROUTE_USER, BODY_JSON_OPTIONAL, NULL,
	 "integrations:write", ERRORS_ENVELOPE, ROUTE_SLOW, type_connect_body_fields},
};

int main(int argc, char **argv)
{
	static const struct app app = {"connect", routes, sizeof(routes) / sizeof(routes[0]), provider_registry_init};
	return responder_main(argc, argv, &app);
}
