/* Builds a struct request from FastCGI parameters; see request.h. */
#include "http/request.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/actor.h"
#include "core/arena.h"
#include "core/urlenc.h"

static int parse_path(struct request *rq, const char *p, size_t n)
{
	if (n == 0 || p[0] != '/')
		return 400;
	rq->path = arena_strndup(rq->arena, p, n);
	size_t i = 1;
	while (i <= n) {
		size_t j = i;
		while (j < n && p[j] != '/')
			j++;
		/* "/a//b" and a trailing "/" carry no segment: routes never have empty ones. */
		if (j > i) {
			if (rq->nsegments == REQUEST_MAX_SEGMENTS)
				return 414;
			char *seg = url_decode(rq->arena, p + i, j - i, false);
			if (!seg)
				return 400;
			rq->segments[rq->nsegments++] = seg;
		}
		i = j + 1;
	}
	return 0;
}

static int parse_query(struct request *rq, const char *q)
{
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		if (len) {
			const char *eq = memchr(q, '=', len);
			size_t klen = eq ? (size_t)(eq - q) : len;
			if (rq->nquery == REQUEST_MAX_QUERY)
				return 400;
			char *k = url_decode(rq->arena, q, klen, true);
			char *v =
				eq ? url_decode(rq->arena, eq + 1, len - klen - 1, true) : arena_strdup(rq->arena, "");
			if (!k || !v)
				return 400;
			rq->query[rq->nquery].name = k;
			rq->query[rq->nquery].value = v;
			rq->nquery++;
		}
		q += len + (amp ? 1 : 0);
	}
	return 0;
}

/* "HTTP_USER_AGENT" -> "user-agent" */
static char *header_name(struct arena *a, const char *s, size_t n)
{
	char *o = arena_strndup(a, s, n);
	for (char *c = o; *c; c++)
		*c = *c == '_' ? '-' : (char)tolower((unsigned char)*c);
	return o;
}

int request_parse(struct request *rq, char *const *envp)
{
	const char *uri = NULL;
	rq->content_length = -1;
	for (; envp && *envp; envp++) {
		const char *e = *envp, *eq = strchr(e, '=');
		if (!eq)
			continue;
		size_t nlen = (size_t)(eq - e);
		const char *v = eq + 1;
		if (nlen == 14 && !memcmp(e, "REQUEST_METHOD", 14))
			rq->method = arena_strdup(rq->arena, v);
		else if (nlen == 11 && !memcmp(e, "REQUEST_URI", 11))
			uri = v;
		else if (nlen == 11 && !memcmp(e, "REMOTE_ADDR", 11))
			rq->remote_addr = arena_strdup(rq->arena, v);
		else if (nlen == 5 && !memcmp(e, "HTTPS", 5))
			rq->https = !strcasecmp(v, "on") || !strcmp(v, "1");
		else if (nlen == 13 && !memcmp(e, "SB_REQUEST_ID", 13))
			rq->request_id = arena_strdup(rq->arena, v);
		else if (nlen == 14 && !memcmp(e, "CONTENT_LENGTH", 14)) {
			if (*v) {
				char *end;
				long n = strtol(v, &end, 10);
				if (*end || n < 0 || !isdigit((unsigned char)*v))
					return 400;
				rq->content_length = n;
			}
		} else if (nlen == 12 && !memcmp(e, "CONTENT_TYPE", 12)) {
			if (rq->nheaders < REQUEST_MAX_HEADERS) {
				rq->headers[rq->nheaders].name = "content-type";
				rq->headers[rq->nheaders++].value = arena_strdup(rq->arena, v);
			}
		} else if (nlen > 5 && !memcmp(e, "HTTP_", 5)) {
			if (rq->nheaders == REQUEST_MAX_HEADERS)
				return 400;
			rq->headers[rq->nheaders].name = header_name(rq->arena, e + 5, nlen - 5);
			rq->headers[rq->nheaders++].value = arena_strdup(rq->arena, v);
		}
	}
	if (!rq->method || !*rq->method || !uri)
		return 400;
	const char *qm = strchr(uri, '?');
	size_t plen = qm ? (size_t)(qm - uri) : strlen(uri);
	int rc = parse_path(rq, uri, plen);
	if (rc)
		return rc;
	return qm ? parse_query(rq, qm + 1) : 0;
}

static const char *kv_find(const struct kv *kv, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i].name, name))
			return kv[i].value;
	return NULL;
}

const char *request_header(const struct request *rq, const char *name)
{
	return kv_find(rq->headers, rq->nheaders, name);
}

const char *request_cookie(const struct request *rq, const char *name)
{
	const char *h = request_header(rq, "cookie");
	size_t n = strlen(name);
	while (h && *h) {
		while (*h == ' ' || *h == ';')
			h++;
		const char *end = h + strcspn(h, ";");
		if ((size_t)(end - h) > n && !strncmp(h, name, n) && h[n] == '=')
			return arena_strndup(rq->arena, h + n + 1, (size_t)(end - h - n - 1));
		h = end;
	}
	return NULL;
}

const char *request_query(const struct request *rq, const char *name)
{
	return kv_find(rq->query, rq->nquery, name);
}

const char *request_param(const struct request *rq, const char *name)
{
	return kv_find(rq->params, rq->nparams, name);
}

bool request_is_json(const struct request *rq)
{
	const char *ct = request_header(rq, "content-type");
	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	size_t n = strcspn(ct, "; ");
	return n == 16 && !strncasecmp(ct, "application/json", 16);
}

const struct actor *request_actor(const struct request *rq, const char *user_id)
{
	struct actor *who = arena_alloc(rq->arena, sizeof(*who));
	who->user_id = user_id;
	who->ip = rq->remote_addr;
	who->user_agent = request_header(rq, "user-agent");
	return who;
}
