/* Route tables: method + path pattern ("/api/v1/webhooks/{id}") -> handler, with what
 * the library must check before the handler runs (authentication, a JSON body). */
#ifndef SB_ROUTER_H
#define SB_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

struct request;
struct field;

/* ROUTE_USER: a user JWT, an API key or an OAuth access token. ROUTE_CLIENT: OAuth
 * client credentials (HTTP Basic, or client_id + client_secret in a form body). */
enum route_auth { ROUTE_PUBLIC, ROUTE_USER, ROUTE_CLIENT, ROUTE_AUTH__MAX };
/* BODY_FORM: application/x-www-form-urlencoded, parsed into rq->form. */
enum route_body { BODY_NONE, BODY_JSON, BODY_JSON_OPTIONAL, BODY_FORM, ROUTE_BODY__MAX };
/* How the library answers errors of this route: the envelope, or the RFC 6749/6750
 * JSON ({"error": "...", "error_description": "..."}) of the OAuth endpoints. */
enum route_errors { ERRORS_ENVELOPE, ERRORS_OAUTH, ROUTE_ERRORS__MAX };

/* ROUTE_SLOW: the handler may wait on an outside service up to its timeout (connection
 * tests, pushes, provider calls). Such requests run only with a slow-call slot
 * (db/slot.h): beyond the group's or the user's bound they are answered 503 / 429 with
 * Retry-After, so quick requests to the group always find a free process. */
enum route_cost { ROUTE_QUICK, ROUTE_SLOW, ROUTE_COST__MAX };

typedef int (*route_handler)(struct request *rq);

struct route {
	const char *method;
	const char *pattern;
	route_handler handler;
	enum route_auth auth;
	enum route_body body;
	const struct field *fields; /* validated before the handler when body is JSON */
	/* Added last so positional initializers of older tables keep compiling. */
	const char *scope; /* scope a key or token needs (scope.h); NULL: none */
	enum route_errors errors;
	enum route_cost cost;
	/* The field tables a JSON body of this request may use, NULL-terminated, when they
	 * depend on the request (the provider in the path): members named in none of them
	 * are refused as unknown. NULL (the member): the route's fields. A NULL return:
	 * the request names nothing the route knows (the handler answers 404 or 405). */
	const struct field *const *(*body_fields)(const struct request *rq);
	/* ROUTE_CLIENT: true for a request whose handler confirms the client in the statement
	 * that uses it, so its credentials may be checked against the per-process client
	 * cache (oauth_client_verify_cached). NULL: every request goes to the database. */
	bool (*client_confirmed_by_handler)(const struct request *rq);
};

enum route_match { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };

/* Finds the route for rq's method and segments, fills rq->route and rq->params.
 * On ROUTE_BAD_METHOD, allow (cap bytes) receives the methods that exist for the path,
 * comma-separated, for the Allow header. HEAD is matched as GET. */
enum route_match router_match(const struct route *routes, size_t n, struct request *rq, char *allow, size_t cap);

#endif
