/* Route matching by path segments; see router.h. */
#include "http/router.h"

#include <string.h>

#include "core/arena.h"
#include "http/request.h"

/* Matches pattern segments against rq's; captures {name} segments into rq->params. */
static int path_matches(const char *pattern, struct request *rq)
{
	size_t seg = 0;
	rq->nparams = 0;
	const char *p = pattern;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (seg == rq->nsegments)
			return 0;
		const char *s = rq->segments[seg];
		if (p[0] == '{' && p[len - 1] == '}') {
			rq->params[rq->nparams].name = arena_strndup(rq->arena, p + 1, len - 2);
			rq->params[rq->nparams].value = s;
			rq->nparams++;
		} else if (strlen(s) != len || memcmp(s, p, len)) {
			return 0;
		}
		seg++;
		p += len;
	}
	return seg == rq->nsegments;
}

enum route_match router_match(const struct route *routes, size_t n, struct request *rq, char *allow, size_t cap)
{
	const char *method = strcmp(rq->method, "HEAD") ? rq->method : "GET";
	int path_found = 0;
	if (cap)
		allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!path_matches(routes[i].pattern, rq))
			continue;
		if (!strcmp(routes[i].method, method)) {
			rq->route = &routes[i];
			return ROUTE_FOUND;
		}
		path_found = 1;
		size_t used = strlen(allow), add = strlen(routes[i].method);
		if (!strstr(allow, routes[i].method) && used + add + 3 < cap) {
			if (used)
				strcat(allow, ", ");
			strcat(allow, routes[i].method);
		}
	}
	rq->nparams = 0;
	return path_found ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}
