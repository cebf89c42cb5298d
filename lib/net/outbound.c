/* Outbound HTTP on libcurl; see outbound.h. */
#include "net/outbound.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "net/netguard.h"

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

static int perform_once(struct arena *a, const struct outbound_request *rq, struct outbound_response *out)
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
	struct curl_slist *hl = NULL;
	for (const char *const *h = rq->headers; h && *h; h++)
		hl = curl_slist_append(hl, *h);
	if (rq->bearer)
		hl = curl_slist_append(hl, arena_printf(a, "Authorization: Bearer %s", rq->bearer));
	const char *method = rq->method ? rq->method : "GET";

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
	if (rq->basic_user) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, rq->basic_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, rq->basic_password ? rq->basic_password : "");
	}
	if (rq->user_supplied) {
		curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
		curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &blocked);
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
		if (blocked) {
			out->error = OUTBOUND_BLOCKED;
			out->message = "the target address is private or reserved";
		} else if (s.overflow) {
			out->error = OUTBOUND_TOO_LARGE;
			out->message = "the response is too large";
		} else if (rc == CURLE_OPERATION_TIMEDOUT) {
			out->error = OUTBOUND_TIMEOUT;
			out->message = "the service did not answer in time";
		} else if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT ||
			   rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
			   rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING) {
			out->error = OUTBOUND_CONNECT;
			out->message = arena_printf(a, "could not reach the service (%s)", curl_easy_strerror(rc));
		} else {
			out->error = OUTBOUND_FAILED;
			out->message = arena_printf(a, "the request failed (%s)", curl_easy_strerror(rc));
		}
	}
	out->body = s.buf ? s.buf : arena_strdup(a, "");
	out->len = s.len;
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return result;
}

int outbound_do(struct arena *a, const struct outbound_request *rq, struct outbound_response *out)
{
	curl_global();
	int tries = rq->idempotent ? (int)config_int("SB_OUTBOUND_RETRIES", 2, 0, 5) + 1 : 1;
	long delay_ms = 200;
	for (int i = 0;; i++) {
		memset(out, 0, sizeof(*out));
		out->attempts = i + 1;
		int rc = perform_once(a, rq, out);
		bool transient = (rc && (out->error == OUTBOUND_TIMEOUT || out->error == OUTBOUND_CONNECT)) ||
				 (!rc && (out->status == 502 || out->status == 503 || out->status == 504));
		if (!transient || i + 1 >= tries)
			return rc;
		struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		delay_ms *= 2;
	}
}

int outbound_http_status(const struct outbound_response *r)
{
	return r->error == OUTBOUND_TIMEOUT ? 504 : 502;
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
