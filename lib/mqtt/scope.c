/* Topic scoping; see scope.h. */
#include "mqtt/scope.h"

#include <string.h>

/* Length of prefix without trailing slashes; 0 means an unusable prefix. */
static size_t prefix_len(const char *prefix)
{
	size_t n = prefix ? strlen(prefix) : 0;
	while (n && prefix[n - 1] == '/')
		n--;
	return n;
}

/* t[0..len) is the prefix or lies beneath it; *rest is where the part below begins. */
static bool under(const char *prefix, const char *t, size_t len, size_t *rest)
{
	size_t n = prefix_len(prefix);
	if (!n || prefix[0] == '$' || len < n || memcmp(prefix, t, n) || memchr(t, 0, len))
		return false;
	if (strpbrk(prefix, "+#"))
		return false;
	if (len > n && t[n] != '/')
		return false;
	*rest = n;
	return true;
}

bool mqtt_topic_in_scope(const char *prefix, const void *topic, size_t len)
{
	size_t rest;
	const char *t = topic;
	return under(prefix, t, len, &rest) && !memchr(t, '+', len) && !memchr(t, '#', len);
}

bool mqtt_filter_in_scope(const char *prefix, const void *filter, size_t len)
{
	size_t rest;
	const char *f = filter;
	if (!under(prefix, f, len, &rest))
		return false;
	/* Below the prefix: each wildcard is a whole level, "#" only as the last one. */
	for (size_t i = rest; i < len; i++) {
		if (f[i] != '+' && f[i] != '#')
			continue;
		bool starts = f[i - 1] == '/', ends = i + 1 == len || f[i + 1] == '/';
		if (!starts || !ends || (f[i] == '#' && i + 1 != len))
			return false;
	}
	return true;
}
