/* The apikeys responder: API keys for server-to-server calls. Managing keys needs the
 * admin scope: a user's own JWT has it; a key can manage keys only if it holds admin. */
#include "handlers.h"
#include "http/responder.h"
#include "http/router.h"

static const struct route routes[] = {
	{"POST", "/api/v1/api-keys", handle_apikey_create, ROUTE_USER, BODY_JSON, apikey_create_fields, "admin"},
	{"GET", "/api/v1/api-keys", handle_apikey_list, ROUTE_USER, BODY_NONE, NULL, "admin"},
	{"DELETE", "/api/v1/api-keys/{id}", handle_apikey_revoke, ROUTE_USER, BODY_NONE, NULL, "admin"},
	{"GET", "/api/v1/api-keys/{id}/usage", handle_apikey_usage, ROUTE_USER, BODY_NONE, NULL, "admin"},
	{"GET", "/api/v1/api-keys/{id}/logs", handle_apikey_logs, ROUTE_USER, BODY_NONE, NULL, "admin"},
};

int main(int argc, char **argv)
{
	static const struct app app = {"apikeys", routes, sizeof(routes) / sizeof(routes[0]), NULL};
	return responder_main(argc, argv, &app);
}
