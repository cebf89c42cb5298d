/* LDAP filter escaping; see ldap_filter.h. */
#include "auth/ldap_filter.h"

#include <string.h>

#include "core/arena.h"

static int special(unsigned char c)
{
	return c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0';
}

char *ldap_filter_escape(struct arena *a, const char *value, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += special((unsigned char)value[i]) ? 3 : 1;
	char *out = arena_alloc(a, len + 1), *p = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];
		if (special(c)) {
			*p++ = '\\';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		} else {
			*p++ = (char)c;
		}
	}
	*p = '\0';
	return out;
}

char *ldap_filter_build(struct arena *a, const char *tmpl, const char *value, size_t n)
{
	size_t tl = tmpl ? strlen(tmpl) : 0;
	if (tl < 2 || tmpl[0] != '(' || tmpl[tl - 1] != ')' || !strstr(tmpl, "%s"))
		return NULL;
	const char *v = ldap_filter_escape(a, value, n);
	if (!v)
		return NULL;
	size_t vl = strlen(v), count = 0;
	for (const char *s = strstr(tmpl, "%s"); s; s = strstr(s + 2, "%s"))
		count++;
	char *out = arena_alloc(a, tl - 2 * count + vl * count + 1), *p = out;
	if (!out)
		return NULL;
	for (const char *s = tmpl; *s;) {
		if (s[0] == '%' && s[1] == 's') {
			memcpy(p, v, vl);
			p += vl;
			s += 2;
		} else {
			*p++ = *s++;
		}
	}
	*p = '\0';
	return out;
}
