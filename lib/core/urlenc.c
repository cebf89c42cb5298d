/* URL and form encoding; see urlenc.h. */
#include "core/urlenc.h"

#include <ctype.h>
#include <string.h>

#include "core/arena.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *url_decode(struct arena *a, const char *s, size_t n, bool plus_is_space)
{
	char *out = arena_alloc(a, n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n)
				return NULL;
			int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return NULL;
			*o++ = (char)(h << 4 | l);
			i += 2;
		} else if (s[i] == '+' && plus_is_space) {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       c == '_' || c == '~';
}

char *url_encode(struct arena *a, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = arena_alloc(a, n * 3 + 1), *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (unreserved(*p)) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

void form_init(struct form *f, struct arena *a)
{
	f->arena = a;
	f->text = arena_strdup(a, "");
}

void form_add(struct form *f, const char *name, const char *value)
{
	if (!value)
		return;
	f->text = arena_printf(f->arena, "%s%s%s=%s", f->text, *f->text ? "&" : "", url_encode(f->arena, name),
			       url_encode(f->arena, value));
}

char *url_with_query(struct arena *a, const char *base_url, const struct form *f)
{
	if (!*f->text)
		return arena_strdup(a, base_url);
	const char *sep = strchr(base_url, '?') ? (base_url[strlen(base_url) - 1] == '?' ? "" : "&") : "?";
	return arena_printf(a, "%s%s%s", base_url, sep, f->text);
}

char *form_get(struct arena *a, const char *body, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = body;
	while (p && *p) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (eq) {
			char *key = url_decode(a, p, (size_t)(eq - p), true);
			if (key && strlen(key) == nlen && !memcmp(key, name, nlen))
				return url_decode(a, eq + 1, len - (size_t)(eq + 1 - p), true);
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}
