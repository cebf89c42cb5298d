/* The WebSocket client handshake; see ws_client.h. */
#include "mqtt/ws_client.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int ws_accept_of(const char *key, char out[29])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	char in[64];
	unsigned char sha[SHA_DIGEST_LENGTH];
	if (!key || strlen(key) != 24)
		return -1;
	memcpy(in, key, 24);
	memcpy(in + 24, guid, sizeof(guid));
	SHA1((const unsigned char *)in, 24 + sizeof(guid) - 1, sha);
	EVP_EncodeBlock((unsigned char *)out, sha, SHA_DIGEST_LENGTH);
	return 0;
}

static bool clean(const char *s)
{
	return s && !s[strcspn(s, "\r\n \t")];
}

long ws_client_request(const char *host, int port, const char *path, const char *key, char *out, size_t cap)
{
	if (!clean(host) || !*host || !clean(path) || *path != '/' || !clean(key) || strlen(key) != 24 || port < 1 ||
	    port > 65535)
		return -1;
	bool v6 = strchr(host, ':') != NULL;
	int n = snprintf(out, cap,
			 "GET %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
			 path, v6 ? "[" : "", host, v6 ? "]" : "", port, key);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* The value of header name in the head (the first one), trimmed: its length, or -1. */
static long header(const char *head, size_t len, const char *name, const char **value)
{
	size_t nl = strlen(name);
	const char *end = head + len, *p = memchr(head, '\n', len);
	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			return -1;
		if ((size_t)(eol - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
			const char *v = p + nl + 1, *e = eol;
			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
				e--;
			*value = v;
			return e - v;
		}
		p = eol;
	}
	return -1;
}

static bool has(const char *head, size_t len, const char *name, const char *want, bool token)
{
	const char *v;
	long n = header(head, len, name, &v);
	size_t wl = strlen(want);
	if (n < 0)
		return false;
	if (!token)
		return (size_t)n == wl && !strncmp(v, want, wl);
	for (long i = 0; i + (long)wl <= n; i++) /* a token of a comma-separated list */
		if (!strncasecmp(v + i, want, wl) && (i == 0 || v[i - 1] == ',' || v[i - 1] == ' ') &&
		    (i + (long)wl == n || v[i + wl] == ',' || v[i + wl] == ' '))
			return true;
	return false;
}

const char *ws_client_check(const char *head, size_t len, const char *key)
{
	char accept[29];
	if (len < 16 || strncmp(head, "HTTP/1.1 ", 9) || memcmp(head + len - 4, "\r\n\r\n", 4) ||
	    ws_accept_of(key, accept))
		return "the broker's answer is not HTTP/1.1";
	if (strncmp(head + 9, "101", 3) || (len > 12 && head[12] != ' ' && head[12] != '\r'))
		return "the broker refused the WebSocket upgrade";
	if (!has(head, len, "Upgrade", "websocket", true) || !has(head, len, "Connection", "upgrade", true))
		return "the broker's answer is not a WebSocket upgrade";
	if (!has(head, len, "Sec-WebSocket-Accept", accept, false))
		return "the broker's Sec-WebSocket-Accept does not match";
	const char *v;
	if (header(head, len, "Sec-WebSocket-Protocol", &v) >= 0 && !has(head, len, "Sec-WebSocket-Protocol", "mqtt", false))
		return "the broker chose a subprotocol other than mqtt";
	return NULL;
}
