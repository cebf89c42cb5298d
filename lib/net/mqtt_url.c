/* Broker URL parsing; see mqtt_url.h. */
#include "net/mqtt_url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"

static const struct {
	const char *scheme;
	int port;
	bool tls, websocket;
} schemes[] = {
	{"mqtt", 1883, false, false}, {"tcp", 1883, false, false}, {"mqtts", 8883, true, false},
	{"ssl", 8883, true, false},   {"ws", 80, false, true},	   {"wss", 443, true, true},
};

static bool host_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

const char *mqtt_url_parse(struct arena *a, const char *url, struct mqtt_url *u)
{
	static const char *const bad_scheme = "must be a mqtt://, mqtts://, tcp://, ssl://, ws:// or wss:// URL";
	memset(u, 0, sizeof(*u));
	const char *sep = strstr(url, "://");
	if (!sep)
		return bad_scheme;
	size_t slen = (size_t)(sep - url);
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strlen(schemes[i].scheme) == slen && !strncasecmp(url, schemes[i].scheme, slen)) {
			u->scheme = schemes[i].scheme;
			u->port = schemes[i].port;
			u->tls = schemes[i].tls;
			u->websocket = schemes[i].websocket;
		}
	}
	if (!u->scheme)
		return bad_scheme;
	const char *h = sep + 3;
	if (strchr(h, '@'))
		return "must not carry credentials: use the username and password fields";
	const char *end = h + strcspn(h, "/?#");
	const char *hend, *port = NULL;
	if (*h == '[') {
		hend = memchr(h, ']', (size_t)(end - h));
		if (!hend || hend == h + 1)
			return "has a malformed IPv6 host";
		u->host = arena_strndup(a, h + 1, (size_t)(hend - h - 1));
		for (const char *c = u->host; *c; c++)
			if (!isxdigit((unsigned char)*c) && *c != ':' && *c != '.')
				return "has a malformed IPv6 host";
		hend++;
		if (hend < end && *hend != ':')
			return "has a malformed host";
		port = hend < end ? hend + 1 : NULL;
	} else {
		hend = memchr(h, ':', (size_t)(end - h));
		if (hend)
			port = hend + 1;
		else
			hend = end;
		if (hend == h)
			return "must name a host";
		u->host = arena_strndup(a, h, (size_t)(hend - h));
		for (const char *c = u->host; *c; c++)
			if (!host_char_ok(*c))
				return "has a host with characters a host name cannot have";
		if (strlen(u->host) > 253)
			return "has a host name that is too long";
	}
	if (port) {
		if (port == end)
			return "has an empty port";
		long p = 0;
		for (const char *c = port; c < end; c++) {
			if (!isdigit((unsigned char)*c) || c - port > 5)
				return "has a port that is not a number from 1 to 65535";
			p = p * 10 + (*c - '0');
		}
		if (p < 1 || p > 65535)
			return "has a port that is not a number from 1 to 65535";
		u->port = (int)p;
	}
	const char *rest = end;
	if (*rest && !u->websocket && strcmp(rest, "/"))
		return "must not have a path (only ws:// and wss:// URLs do)";
	if (strchr(rest, '#') || strchr(rest, ' '))
		return "has characters a URL path cannot have";
	u->path = u->websocket ? arena_strdup(a, *rest ? rest : "/mqtt") : "";
	return NULL;
}
