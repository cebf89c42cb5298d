/* The connect responder: /auth/{provider}/connect, /login and /callback. */
#include "handlers.h"
#include "http/responder.h"
#include "http/router.h"
#include "oauth/oauth_client.h"

static const struct route routes[] = {
	{"GET", "/api/v1/auth/{provider}/connect", handle_connect, ROUTE_USER, BODY_NONE, NULL, "integrations:write"},
	{"GET", "/api/v1/auth/{provider}/login", handle_login_start, ROUTE_PUBLIC, BODY_NONE, NULL},
	{"GET", "/api/v1/auth/{provider}/callback", handle_callback, ROUTE_PUBLIC, BODY_NONE, NULL},
};

int main(int argc, char **argv)
{
	static const struct app app = {"connect", routes, sizeof(routes) / sizeof(routes[0]), oauth_providers_load};
	return responder_main(argc, argv, &app);
}
