/* Outbound HTTP on libcurl; see outbound.h. */
#include "net/outbound.h"

#include <ctype.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/validate.h"
#include "net/netguard.h"
#include "net/outbound_quota.h"

#define USER_AGENT "Switchboard/1.0 (+integrations)"

struct sink {
	struct arena *a;
	char *buf;
	size_t len, cap, max;
	bool overflow;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;
	if (s->len + n > s->max) {
		s->overflow = true;
		return 0; /* aborts the transfer */
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8192;
		while (cap < s->len + n + 1)
			cap *= 2;
		char *nb = arena_alloc(s->a, cap);
		if (s->len)
			memcpy(nb, s->buf, s->len);
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

/* What the answer's headers say about pacing and caching. */
struct answer_headers {
	struct arena *a;
	const char *retry_after; /* raw value */
	long rl_remaining, rl_reset; /* -1 when absent */
	const char *etag;
	const char *link_next;
	const char *error_type; /* x-amzn-ErrorType (AWS JSON services) */
};

/* The rel="next" target of a Link header value: <url>; rel="next", <url>; rel="last". */
static const char *link_next(struct arena *a, const char *v)
{
	for (const char *p = v; (p = strchr(p, '<'));) {
		const char *end = strchr(p, '>');
		if (!end)
			return NULL;
		const char *params = end + 1, *stop = strchr(params, ',');
		size_t plen = stop ? (size_t)(stop - params) : strlen(params);
		char *pp = arena_strndup(a, params, plen);
		if (strstr(pp, "rel=\"next\"") || strstr(pp, "rel=next"))
			return arena_strndup(a, p + 1, (size_t)(end - p - 1));
		p = end + 1;
	}
	return NULL;
}

static const char *header_value(struct arena *a, const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);
	if (n <= k + 1 || strncasecmp(line, name, k) || line[k] != ':')
		return NULL;
	const char *v = line + k + 1, *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	return arena_strndup(a, v, (size_t)(end - v));
}

static size_t on_header(char *line, size_t size, size_t nitems, void *ud)
{
	struct answer_headers *h = ud;
	size_t n = size * nitems;
	const char *v;
	if (!strncmp(line, "HTTP/", 5)) { /* a new answer (after a 100 Continue): start over */
		h->retry_after = NULL;
		h->rl_remaining = h->rl_reset = -1;
		h->etag = NULL;
		h->link_next = NULL;
		h->error_type = NULL;
	} else if ((v = header_value(h->a, line, n, "link")))
		h->link_next = link_next(h->a, v);
	else if ((v = header_value(h->a, line, n, "retry-after")))
		h->retry_after = v;
	else if ((v = header_value(h->a, line, n, "x-ratelimit-remaining")))
		h->rl_remaining = isdigit((unsigned char)*v) ? atol(v) : -1;
	else if ((v = header_value(h->a, line, n, "x-ratelimit-reset")))
		h->rl_reset = isdigit((unsigned char)*v) ? atol(v) : -1;
	else if ((v = header_value(h->a, line, n, "etag")) && *v && strlen(v) < 512)
		h->etag = v;
	else if ((v = header_value(h->a, line, n, "x-amzn-errortype")) && strlen(v) < 512)
		h->error_type = v;
	return n;
}

/* The guard runs on every resolved address curl is about to connect to, so a name that
 * resolves to a private address (or rebinds to one) is refused. */
static curl_socket_t open_guarded(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
	bool *blocked = ud;
	(void)purpose;
	if (!netguard_permits(&addr->addr)) {
		*blocked = true;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

static void curl_global(void)
{
	static bool done;
	if (!done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		done = true;
	}
}

/* The request's headers as curl wants them (the caller frees the list). */
static struct curl_slist *request_headers(struct arena *a, const struct outbound_request *rq,
					  const char *if_none_match)
{
	struct curl_slist *hl = NULL;
	for (const char *const *h = rq->headers; h && *h; h++)
		hl = curl_slist_append(hl, *h);
	if (rq->bearer)
		hl = curl_slist_append(hl, arena_printf(a, "Authorization: Bearer %s", rq->bearer));
	if (if_none_match)
		hl = curl_slist_append(hl, arena_printf(a, "If-None-Match: %s", if_none_match));
	return hl;
}

/* Credentials, the private-address guard, the method and the body. */
static void set_request(CURL *c, const struct outbound_request *rq, bool *blocked)
{
	const char *method = rq->method ? rq->method : "GET";
	if (rq->basic_user) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, rq->basic_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, rq->basic_password ? rq->basic_password : "");
	}
	if (rq->aws_sigv4) {
		curl_easy_setopt(c, CURLOPT_AWS_SIGV4, rq->aws_sigv4);
		curl_easy_setopt(c, CURLOPT_USERNAME, rq->aws_key_id ? rq->aws_key_id : "");
		curl_easy_setopt(c, CURLOPT_PASSWORD, rq->aws_secret ? rq->aws_secret : "");
	}
	if (rq->user_supplied) {
		curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
		curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, blocked);
	}
	if (!strcmp(method, "POST") || rq->body) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(rq->body ? rq->body_len : 0));
	}
	if (strcmp(method, "GET") && strcmp(method, "POST"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
}

/* Why a transfer failed, in the words and kinds callers map to answers. */
static void describe_failure(struct arena *a, CURLcode rc, bool blocked, bool overflow,
			     struct outbound_response *out)
{
	if (blocked) {
		out->error = OUTBOUND_BLOCKED;
		out->message = "the target address is private or reserved";
	} else if (overflow) {
		out->error = OUTBOUND_TOO_LARGE;
		out->message = "the response is too large";
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		out->error = OUTBOUND_TIMEOUT;
		out->message = "the service did not answer in time";
	} else if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT || rc == CURLE_SSL_CONNECT_ERROR ||
		   rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
		   rc == CURLE_GOT_NOTHING) {
		out->error = OUTBOUND_CONNECT;
		out->message = arena_printf(a, "could not reach the service (%s)", curl_easy_strerror(rc));
	} else {
		out->error = OUTBOUND_FAILED;
		out->message = arena_printf(a, "the request failed (%s)", curl_easy_strerror(rc));
	}
}

static int perform_once(struct arena *a, const struct outbound_request *rq, const char *if_none_match,
			struct answer_headers *ah, struct outbound_response *out)
{
	CURL *c = curl_easy_init();
	if (!c) {
		out->error = OUTBOUND_FAILED;
		out->message = "could not start an HTTP client";
		return -1;
	}
	struct sink s = {.a = a,
			 .max = rq->max_response
					? rq->max_response
					: (size_t)config_int("SB_OUTBOUND_MAX_RESPONSE", 4L << 20, 1024, 64L << 20)};
	bool blocked = false;
	struct curl_slist *hl = request_headers(a, rq, if_none_match);
	*ah = (struct answer_headers){.a = a, .rl_remaining = -1, .rl_reset = -1};

	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
			 rq->timeout_ms ? rq->timeout_ms : config_int("SB_OUTBOUND_TIMEOUT_MS", 10000, 100, 120000));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 rq->connect_timeout_ms ? rq->connect_timeout_ms
						: config_int("SB_OUTBOUND_CONNECT_TIMEOUT_MS", 5000, 100, 60000));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, ah);
	set_request(c, rq, &blocked);

	CURLcode rc = curl_easy_perform(c);
	int result = 0;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		char *ct = NULL;
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		out->content_type = ct ? arena_strdup(a, ct) : NULL;
		out->error = OUTBOUND_OK;
	} else {
		result = -1;
		describe_failure(a, rc, blocked, s.overflow, out);
	}
	out->body = s.buf ? s.buf : arena_strdup(a, "");
	out->len = s.len;
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return result;
}

long outbound_backoff_ms(int attempt, long base_ms, long cap_ms, unsigned rnd)
{
	long d = base_ms;
	for (int i = 0; i < attempt && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	return (long)((double)d * ((double)rnd / (double)UINT32_MAX));
}

long outbound_retry_after_s(const char *value, long now)
{
	if (!value || !*value)
		return -1;
	if (isdigit((unsigned char)*value)) {
		for (const char *c = value; *c; c++)
			if (!isdigit((unsigned char)*c))
				return -1;
		return strlen(value) > 9 ? -1 : atol(value);
	}
	time_t t = curl_getdate(value, NULL);
	if (t < 0)
		return -1;
	return t > now ? (long)(t - now) : 0;
}

const char *outbound_retry_at_text(struct arena *a, long retry_at)
{
	time_t t = (time_t)retry_at;
	struct tm tm;
	char buf[32];
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return arena_strdup(a, buf);
}

/* host[:port] of url (lowercase), or NULL. */
static char *url_host(struct arena *a, const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *out = NULL;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_PORT, &port, 0);
		out = port ? arena_printf(a, "%s:%s", host, port) : arena_strdup(a, host);
		for (char *c = out; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out;
}

/* The caller of a call: a hash of the credential it carries, or NULL when it carries
 * none we recognise (then only the host-wide waits apply). */
static char *call_caller(struct arena *a, const struct outbound_request *rq)
{
	const char *cred = NULL;
	if (rq->caller)
		cred = arena_printf(a, "caller:%s", rq->caller);
	else if (rq->bearer)
		cred = arena_printf(a, "bearer:%s", rq->bearer);
	else if (rq->basic_user)
		cred = arena_printf(a, "basic:%s", rq->basic_user);
	else if (rq->aws_sigv4 && rq->aws_key_id)
		cred = arena_printf(a, "aws:%s", rq->aws_key_id);
	else
		for (const char *const *h = rq->headers; h && *h; h++)
			if (!strncasecmp(*h, "Authorization:", 14))
				cred = *h;
	if (!cred)
		return NULL;
	char *hex = crypto_sha256_hex(a, cred, strlen(cred));
	hex[32] = '\0';
	return hex;
}

static int rate_limited(struct arena *a, struct outbound_response *out, const char *host, long until, bool local,
			const char *why)
{
	out->error = OUTBOUND_RATE_LIMITED;
	out->retry_at = until;
	out->limit_local = local;
	out->message = arena_printf(a, "%s: no calls to %s until %s", why, host, outbound_retry_at_text(a, until));
	return -1;
}

/* After an answer: did the service ask us to wait? Records it and returns the epoch
 * second to wait until (0: no). The whole host waits after a 503; one caller else. */
static long answer_wait(struct arena *a, const struct answer_headers *ah, long status, const char *host,
			const char *caller, long now)
{
	long until = 0;
	long ra = outbound_retry_after_s(ah->retry_after, now);
	bool exhausted = ah->rl_remaining == 0;
	if (status == 429 || (status == 503 && ra >= 0) || ((status == 403 || status == 429) && exhausted)) {
		if (ra >= 0)
			until = now + (ra > 0 ? ra : 1);
		else if (exhausted && ah->rl_reset > now)
			until = ah->rl_reset;
		else
			until = now + 60; /* GitHub's advice without a header: at least a minute */
	} else if (exhausted && ah->rl_reset > now && status < 400) {
		until = ah->rl_reset; /* this answer was the last one the quota allows */
	}
	if (until && host)
		outbound_quota_block(a, host, status == 503 || !caller ? "*" : caller, until);
	return status < 400 ? 0 : until;
}

int outbound_do(struct arena *a, const struct outbound_request *rq, struct outbound_response *out)
{
	curl_global();
	memset(out, 0, sizeof(*out));
	out->rate_remaining = -1;
	bool polite = config_bool("SB_OUTBOUND_POLITENESS", true);
	char *host = polite ? url_host(a, rq->url) : NULL, *caller = host ? call_caller(a, rq) : NULL;
	long now = (long)time(NULL);
	if (host) {
		long until = outbound_quota_blocked(a, host, caller ? caller : "*");
		if (until > now)
			return rate_limited(a, out, host, until, false, "the service asked us to wait");
	}
	/* The client-side limit is per user: calls with a user's bearer token or a caller
	 * the provider names. Calls with the platform's client credentials (token
	 * endpoints) only honour the waits. */
	if (host && caller && (rq->bearer || rq->caller) && !rq->unlimited) {
		long window = config_int("SB_OUTBOUND_WINDOW_SECONDS", 60, 1, 3600), end;
		long limit = config_int("SB_OUTBOUND_CALLS_PER_WINDOW", 120, 1, 100000);
		long calls = outbound_quota_count(a, host, caller, window, &end);
		if (calls > limit)
			return rate_limited(a, out, host, end, true,
					    arena_printf(a, "client-side limit of %ld calls per %ld s reached", limit,
							 window));
	}
	const char *method = rq->method ? rq->method : "GET";
	bool conditional = rq->conditional && host && caller && !strcmp(method, "GET");
	long cache_s = config_int("SB_OUTBOUND_CACHE_SECONDS", 300, 1, 86400);
	const char *etag = NULL, *cached_body = NULL, *cached_type = NULL;
	if (conditional && !outbound_cache_get(a, host, caller, rq->url, cache_s, &etag, &cached_body, &cached_type))
		etag = NULL;

	int tries = rq->idempotent ? (int)config_int("SB_OUTBOUND_RETRIES", 2, 0, 5) + 1 : 1;
	struct answer_headers ah;
	for (int i = 0;; i++) {
		memset(out, 0, sizeof(*out));
		out->rate_remaining = -1;
		out->attempts = i + 1;
		int rc = perform_once(a, rq, etag, &ah, out);
		now = (long)time(NULL);
		if (!rc) {
			out->rate_remaining = ah.rl_remaining;
			out->link_next = ah.link_next;
			out->error_type = ah.error_type;
			long until = host ? answer_wait(a, &ah, out->status, host, caller, now) : 0;
			if (until) {
				int attempts = out->attempts;
				long status = out->status;
				rate_limited(a, out, host, until, false, "the service asked us to wait");
				out->attempts = attempts;
				out->status = status;
				log_msg(LOG_WARN, "outbound: %s answered %ld; backing off until %s", host, status,
					outbound_retry_at_text(a, until));
				return -1;
			}
			if (out->status == 304 && etag) {
				outbound_cache_touch(a, host, caller, rq->url);
				out->status = 200;
				out->body = arena_strdup(a, cached_body);
				out->len = strlen(cached_body);
				out->content_type = cached_type;
				out->from_cache = true;
				return 0;
			}
			if (conditional && out->status == 200 && ah.etag && out->len == strlen(out->body) &&
			    utf8_length(out->body, out->len) >= 0)
				outbound_cache_put(a, host, caller, rq->url, ah.etag, out->body, out->content_type);
		}
		bool transient = (rc && (out->error == OUTBOUND_TIMEOUT || out->error == OUTBOUND_CONNECT)) ||
				 (!rc && (out->status == 502 || out->status == 503 || out->status == 504));
		if (!transient || i + 1 >= tries)
			return rc;
		uint32_t rnd = 0;
		crypto_random(&rnd, sizeof(rnd));
		long delay_ms = outbound_backoff_ms(i, config_int("SB_OUTBOUND_BACKOFF_MS", 200, 1, 10000), 5000, rnd);
		struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

int outbound_http_status(const struct outbound_response *r)
{
	return r->error == OUTBOUND_TIMEOUT ? 504 : r->error == OUTBOUND_RATE_LIMITED ? 429 : 502;
}

struct json_object *outbound_json(struct arena *a, const struct outbound_response *r)
{
	if (!r->body || !r->len)
		return NULL;
	struct json_object *o = json_tokener_parse(r->body);
	if (o && !json_object_is_type(o, json_type_object) && !json_object_is_type(o, json_type_array)) {
		json_object_put(o);
		return NULL;
	}
	return arena_defer(a, jsonx_put, o);
}
