/* The auth responder: accounts, login sessions and the caller's own profile. */
#include "core/validate.h"
#include "handlers.h"
#include "http/responder.h"
#include "http/router.h"

static const struct route routes[] = {
	{"POST", "/api/v1/auth/register", handle_register, ROUTE_PUBLIC, BODY_JSON, register_fields},
	{"POST", "/api/v1/auth/login", handle_login, ROUTE_PUBLIC, BODY_JSON, login_fields},
	{"POST", "/api/v1/auth/ldap/login", handle_ldap_login, ROUTE_PUBLIC, BODY_JSON, ldap_login_fields},
	{"POST", "/api/v1/auth/refresh", handle_refresh, ROUTE_PUBLIC, BODY_JSON, refresh_fields},
	{"POST", "/api/v1/auth/logout", handle_logout, ROUTE_PUBLIC, BODY_JSON, refresh_fields},
	{"GET", "/api/v1/users/me", handle_me, ROUTE_USER, BODY_NONE, NULL, "read"},
	{"GET", "/api/v1/users/me/audit-log", handle_audit_log, ROUTE_USER, BODY_NONE, NULL, "read"},
};

int main(int argc, char **argv)
{
	static const struct app app = {"auth", routes, sizeof(routes) / sizeof(routes[0]), NULL};
	return responder_main(argc, argv, &app);
}
