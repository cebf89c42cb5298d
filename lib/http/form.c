/* Form bodies and Basic credentials; see form.h. */
#include "http/form.h"

#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/urlenc.h"
#include "http/request.h"

int form_parse(struct arena *a, const char *body, size_t len, struct kv *out, size_t cap, size_t *n)
{
	*n = 0;
	size_t i = 0;
	while (i < len) {
		const char *p = body + i;
		const char *amp = memchr(p, '&', len - i);
		size_t flen = amp ? (size_t)(amp - p) : len - i;
		if (flen) {
			const char *eq = memchr(p, '=', flen);
			size_t klen = eq ? (size_t)(eq - p) : flen;
			if (*n == cap)
				return -1;
			char *k = url_decode(a, p, klen, true);
			char *v = eq ? url_decode(a, eq + 1, flen - klen - 1, true) : arena_strdup(a, "");
			if (!k || !v || !*k)
				return -1;
			for (size_t j = 0; j < *n; j++)
				if (!strcmp(out[j].name, k))
					return -1;
			out[*n].name = k;
			out[*n].value = v;
			(*n)++;
		}
		i += flen + (amp ? 1 : 0);
	}
	return 0;
}

bool form_is_form(const struct request *rq)
{
	const char *ct = request_header(rq, "content-type");
	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	size_t n = strcspn(ct, "; ");
	return n == 33 && !strncasecmp(ct, "application/x-www-form-urlencoded", 33);
}

const char *form_value(const struct request *rq, const char *name)
{
	for (size_t i = 0; i < rq->nform; i++)
		if (!strcmp(rq->form[i].name, name))
			return rq->form[i].value;
	return NULL;
}

int basic_auth_parse(struct arena *a, const char *header, const char **user, const char **pass)
{
	if (!header || strncasecmp(header, "Basic ", 6))
		return 0;
	const char *b = header + 6;
	while (*b == ' ')
		b++;
	unsigned char *raw;
	size_t rawlen;
	if (!*b || base64_decode(a, b, &raw, &rawlen))
		return -1;
	if (memchr(raw, '\0', rawlen))
		return -1;
	const char *colon = memchr(raw, ':', rawlen);
	if (!colon || colon == (const char *)raw)
		return -1;
	size_t ulen = (size_t)(colon - (const char *)raw);
	char *u = url_decode(a, (const char *)raw, ulen, true);
	char *p = url_decode(a, colon + 1, rawlen - ulen - 1, true);
	if (!u || !p || !*u)
		return -1;
	*user = u;
	*pass = p;
	return 1;
}
