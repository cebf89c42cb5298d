/* Route tables: method + path pattern ("/api/v1/webhooks/{id}") -> handler, with what
 * the library must check before the handler runs (authentication, a JSON body). */
#ifndef SB_ROUTER_H
#define SB_ROUTER_H

#include <stddef.h>

struct request;
struct field;

enum route_auth { ROUTE_PUBLIC, ROUTE_USER, ROUTE_AUTH__MAX };
enum route_body { BODY_NONE, BODY_JSON, BODY_JSON_OPTIONAL, ROUTE_BODY__MAX };

typedef int (*route_handler)(struct request *rq);

struct route {
	const char *method;
	const char *pattern;
	route_handler handler;
	enum route_auth auth;
	enum route_body body;
	const struct field *fields; /* validated before the handler when body is JSON */
};

enum route_match { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };

/* Finds the route for rq's method and segments, fills rq->route and rq->params.
 * On ROUTE_BAD_METHOD, allow (cap bytes) receives the methods that exist for the path,
 * comma-separated, for the Allow header. HEAD is matched as GET. */
enum route_match router_match(const struct route *routes, size_t n, struct request *rq, char *allow,
			      size_t cap);

#endif
