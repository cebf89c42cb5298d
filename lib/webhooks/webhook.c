/* Webhook signing, URL rules and attempt outcomes; see webhook.h. */
#include "webhooks/webhook.h"

#include <json-c/json.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "net/netguard.h"

char *webhook_secret_new(struct arena *a)
{
	unsigned char raw[32];
	if (crypto_random(raw, sizeof(raw)))
		return NULL;
	return arena_printf(a, "whsec_%s", base64_encode(a, raw, sizeof(raw)));
}

char *webhook_secret_aad(struct arena *a, const char *webhook_id)
{
	return arena_printf(a, "webhooks.secret:%s", webhook_id);
}

char *webhook_signature(struct arena *a, const char *secret, const char *msg_id, long timestamp, const char *body,
			size_t len)
{
	if (!strncmp(secret, "whsec_", 6))
		secret += 6;
	unsigned char *key;
	size_t klen;
	if (base64_decode(a, secret, &key, &klen) || klen == 0)
		return NULL;
	char *prefix = arena_printf(a, "%s.%ld.", msg_id, timestamp);
	size_t plen = strlen(prefix);
	char *msg = arena_alloc(a, plen + len + 1);
	memcpy(msg, prefix, plen);
	memcpy(msg + plen, body, len);
	unsigned char mac[32];
	crypto_hmac_sha256(key, klen, msg, plen + len, mac);
	return arena_printf(a, "v1,%s", base64_encode(a, mac, sizeof(mac)));
}

char *webhook_body(struct arena *a, const char *type, const char *timestamp, const char *data_json)
{
	struct json_object *t = json_object_new_string(type), *ts = json_object_new_string(timestamp);
	char *body = arena_printf(a, "{\"type\":%s,\"timestamp\":%s,\"data\":%s}",
				  json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN),
				  json_object_to_json_string_ext(ts, JSON_C_TO_STRING_PLAIN), data_json);
	json_object_put(t);
	json_object_put(ts);
	return body;
}

const char *webhook_url_check(struct arena *a, const char *url)
{
	bool allow_http = config_bool("SB_WEBHOOK_ALLOW_HTTP", false);
	size_t n = strlen(url);
	const char *h;
	if (n > 2048)
		return "must be at most 2048 characters";
	if (!strncasecmp(url, "https://", 8))
		h = url + 8;
	else if (!strncasecmp(url, "http://", 7) && allow_http)
		h = url + 7;
	else
		return allow_http ? "must be an http:// or https:// URL" : "must be an https:// URL";
	size_t hl = strcspn(h, "/?#");
	if (memchr(h, '@', hl))
		return "must not carry credentials";
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return "must not contain spaces or control characters";
	const char *host = arena_strndup(a, h, hl), *port = NULL;
	char *hostname;
	if (host[0] == '[') {
		const char *close = strchr(host, ']');
		if (!close)
			return "has a malformed host";
		hostname = arena_strndup(a, host + 1, (size_t)(close - host - 1));
		port = close[1] == ':' ? close + 2 : NULL;
	} else {
		const char *colon = strchr(host, ':');
		hostname = arena_strndup(a, host, colon ? (size_t)(colon - host) : strlen(host));
		port = colon ? colon + 1 : NULL;
	}
	if (!*hostname)
		return "must name a host";
	if (port && (!*port || strspn(port, "0123456789") != strlen(port) || atol(port) < 1 || atol(port) > 65535))
		return "has a port that is not a number from 1 to 65535";
	if (netguard_private_allowed())
		return NULL;
	/* Registration-time check; every delivery checks again after its own DNS lookup. */
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	if (getaddrinfo(hostname, NULL, &hints, &res))
		return "has a host that does not resolve";
	const char *msg = NULL;
	for (struct addrinfo *ai = res; ai && !msg; ai = ai->ai_next)
		if (!netguard_permits(ai->ai_addr))
			msg = "resolves to a private, loopback or link-local address, which is not allowed";
	freeaddrinfo(res);
	return msg;
}

long webhook_retry_delay(int retry, bool jitter)
{
	const char *spec = config_str("SB_WEBHOOK_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,36000");
	long delays[32], n = 0;
	for (const char *p = spec; *p && n < 32;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		delays[n++] = v > 0 ? v : 1;
		p = *end == ',' ? end + 1 : end;
	}
	if (n == 0)
		delays[n++] = 5;
	long d = delays[retry - 1 < n ? (retry < 1 ? 0 : retry - 1) : n - 1];
	if (jitter && d > 1) {
		unsigned r = 0;
		crypto_random(&r, sizeof(r));
		long span = d * 2 / 5; /* ±20% */
		d = d - d / 5 + (long)(r % (unsigned)(span + 1));
	}
	return d < 1 ? 1 : d;
}

enum webhook_outcome webhook_outcome_of(const struct webhook_job *job, const struct webhook_attempt *at)
{
	if (at->status >= 200 && at->status < 300)
		return WEBHOOK_DELIVERED;
	if (at->status == 410)
		return WEBHOOK_GONE;
	return job->attempt > job->retry_count ? WEBHOOK_FAILED : WEBHOOK_RETRY;
}

long webhook_next_delay(const struct webhook_job *job, const struct webhook_attempt *at, enum webhook_outcome o)
{
	if (o != WEBHOOK_RETRY)
		return 0;
	long d = webhook_retry_delay(job->attempt, true);
	/* Retry-After of a 429/503 is honoured, within a day. */
	if ((at->status == 429 || at->status == 503) && at->retry_after > d)
		d = at->retry_after < 86400 ? at->retry_after : 86400;
	return d;
}

const char *webhook_outcome_error(struct arena *a, const struct webhook_attempt *at, enum webhook_outcome o)
{
	return at->error		? at->error
	       : o == WEBHOOK_DELIVERED ? NULL
	       : at->status		? arena_printf(a, "receiver answered HTTP %ld", at->status)
					: "no response";
}

const char *const webhook_outcome_status[WEBHOOK_OUTCOME__MAX] = {"delivered", "pending", "failed", "failed"};
