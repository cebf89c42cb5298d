/* The oauth2 responder: client registration (users, envelope) and the OAuth 2.0
 * protocol endpoints (clients, RFC formats). */
#include "handlers.h"
#include "http/responder.h"
#include "http/router.h"

static const struct route routes[] = {
	{"POST", "/api/v1/oauth/clients", handle_client_create, ROUTE_USER, BODY_JSON, client_create_fields, "admin"},
	{"GET", "/api/v1/oauth/clients", handle_client_list, ROUTE_USER, BODY_NONE, NULL, "admin"},
	{"GET", "/api/v1/oauth/clients/{id}", handle_client_get, ROUTE_USER, BODY_NONE, NULL, "admin"},
	{"DELETE", "/api/v1/oauth/clients/{id}", handle_client_delete, ROUTE_USER, BODY_NONE, NULL, "admin"},
	{"GET", "/api/v1/oauth/clients/{id}/logs", handle_client_logs, ROUTE_USER, BODY_NONE, NULL, "admin"},
	{"GET", "/api/v1/oauth/clients/{id}/usage", handle_client_usage, ROUTE_USER, BODY_NONE, NULL, "admin"},
	{"POST", "/api/v1/oauth/token", handle_token, ROUTE_CLIENT, BODY_FORM, NULL, NULL, ERRORS_OAUTH,
	 .client_confirmed_by_handler = token_confirms_client},
	{"POST", "/api/v1/oauth/revoke", handle_revoke, ROUTE_CLIENT, BODY_FORM, NULL, NULL, ERRORS_OAUTH},
	{"POST", "/api/v1/oauth/introspect", handle_introspect, ROUTE_CLIENT, BODY_FORM, NULL, NULL, ERRORS_OAUTH},
	{"GET", "/api/v1/oauth/userinfo", handle_userinfo, ROUTE_USER, BODY_NONE, NULL, NULL, ERRORS_OAUTH},
	{"GET", "/.well-known/oauth-authorization-server", handle_metadata, ROUTE_PUBLIC, BODY_NONE, NULL, NULL,
	 ERRORS_OAUTH},
	{"GET", "/api/v1/oauth/authorize", handle_authorize, ROUTE_PUBLIC, BODY_NONE, NULL, NULL, ERRORS_OAUTH},
	{"GET", "/api/v1/oauth/consent/{request}", handle_consent_get, ROUTE_USER, BODY_NONE, NULL},
	{"POST", "/api/v1/oauth/consent/{request}", handle_consent_post, ROUTE_USER, BODY_JSON, consent_fields},
	{"GET", "/api/v1/users/me/authorized-apps", handle_authorized_apps, ROUTE_USER, BODY_NONE, NULL, "admin"},
	{"DELETE", "/api/v1/users/me/authorized-apps/{client_id}", handle_authorized_app_revoke, ROUTE_USER, BODY_NONE,
	 NULL, "admin"},
};

int main(int argc, char **argv)
{
	static const struct app app = {"oauth2", routes, sizeof(routes) / sizeof(routes[0]), NULL};
	return responder_main(argc, argv, &app);
}
