/* libcurl side of a webhook attempt; see webhook_send.h. */
#include "webhooks/webhook_send.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/validate.h"
#include "net/netguard.h"

#define MAX_RESPONSE (1 << 20) /* read no more than this from a receiver */

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
	struct webhook_send *s = userp;
	size_t len = size * n;
	s->received += len;
	if (s->received > MAX_RESPONSE)
		return 0; /* aborts the transfer: no receiver needs to send us this much */
	if (s->body_len < WEBHOOK_BODY_KEEP) {
		size_t keep = WEBHOOK_BODY_KEEP - s->body_len < len ? WEBHOOK_BODY_KEEP - s->body_len : len;
		memcpy(s->body + s->body_len, data, keep);
		s->body_len += keep;
		s->body[s->body_len] = '\0';
	}
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
	struct webhook_send *s = userp;
	size_t len = size * n;
	if (len > 12 && !strncasecmp(data, "Retry-After:", 12)) {
		char buf[32];
		size_t k = len - 12 < sizeof(buf) - 1 ? len - 12 : sizeof(buf) - 1;
		memcpy(buf, data + 12, k);
		buf[k] = '\0';
		char *end;
		long v = strtol(buf, &end, 10);
		if (end != buf && v >= 0)
			s->retry_after = v; /* HTTP-date forms are ignored: the schedule applies */
	}
	return len;
}

static curl_socket_t open_guarded(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct webhook_send *s = clientp;
	(void)purpose;
	if (!netguard_permits(&addr->addr)) {
		s->blocked = true;
		return CURL_SOCKET_BAD;
	}
	if (s->n_allowed) {
		bool inside = false;
		for (int i = 0; i < s->n_allowed && !inside; i++)
			inside = webhook_cidr_contains(&s->allowed[i], &addr->addr);
		if (!inside) {
			const void *raw = addr->family == AF_INET6
						  ? (const void *)&((struct sockaddr_in6 *)&addr->addr)->sin6_addr
						  : (const void *)&((struct sockaddr_in *)&addr->addr)->sin_addr;
			if (!inet_ntop(addr->family, raw, s->refused_addr, sizeof(s->refused_addr)))
				strcpy(s->refused_addr, "?");
			s->not_allowed = true;
			return CURL_SOCKET_BAD;
		}
	}
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

static void header_add(struct webhook_send *s, struct json_object *log, const char *name, const char *value,
		       struct arena *a)
{
	s->headers = curl_slist_append(s->headers, arena_printf(a, "%s: %s", name, value));
	json_object_object_add(log, name, json_object_new_string(value));
}

int webhook_send_init(struct webhook_send *s, struct arena *a, const struct webhook_job *job, time_t now)
{
	memset(s, 0, sizeof(*s));
	s->retry_after = -1;
	size_t len = strlen(job->body);
	char *sigs = NULL;
	for (int i = 0; i < WEBHOOK_MAX_SECRETS && job->secrets[i]; i++) {
		char *sig = webhook_signature(a, job->secrets[i], job->message_id, (long)now, job->body, len);
		if (!sig)
			return -1;
		sigs = sigs ? arena_printf(a, "%s %s", sigs, sig) : sig;
	}
	if (!sigs || !(s->easy = curl_easy_init()))
		return -1;
	struct json_object *log = json_object_new_object();
	header_add(s, log, "content-type", "application/json", a);
	header_add(s, log, "user-agent", "Switchboard-Webhooks/1.0", a);
	header_add(s, log, "webhook-id", job->message_id, a);
	header_add(s, log, "webhook-timestamp", arena_printf(a, "%ld", (long)now), a);
	header_add(s, log, "webhook-signature", sigs, a);
	/* The webhook's own static headers, checked when saved (tokens, no CR/LF, none of
	 * ours): they are re-checked here so a row written another way cannot inject. */
	struct json_object *custom = job->headers_json ? json_tokener_parse(job->headers_json) : NULL;
	if (custom && !webhook_headers_check(custom)) {
		json_object_object_foreach(custom, name, value)
			header_add(s, log, name, json_object_get_string(value), a);
	}
	json_object_put(custom);
	struct json_object *ips = job->allowed_ips_json ? json_tokener_parse(job->allowed_ips_json) : NULL;
	if (ips && json_object_is_type(ips, json_type_array))
		for (size_t i = 0; i < json_object_array_length(ips) && s->n_allowed < WEBHOOK_MAX_ALLOWED_IPS; i++) {
			const char *net = json_object_get_string(json_object_array_get_idx(ips, i));
			if (net && !webhook_cidr_parse(net, &s->allowed[s->n_allowed]))
				s->n_allowed++;
		}
	/* A list none of whose entries parses must not mean "anywhere". */
	bool unusable = ips && json_object_is_type(ips, json_type_array) && json_object_array_length(ips) > 0 &&
			s->n_allowed == 0;
	json_object_put(ips);
	if (unusable) {
		json_object_put(log);
		webhook_send_free(s);
		return -1;
	}
	s->headers = curl_slist_append(s->headers, "Expect:"); /* no 100-continue round trip */
	s->headers_json = arena_strdup(a, json_object_to_json_string_ext(log, JSON_C_TO_STRING_PLAIN));
	json_object_put(log);

	CURL *e = s->easy;
	curl_easy_setopt(e, CURLOPT_URL, job->url);
	/* Checked at every send, not only at registration: the operator may turn http off. */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
			 config_bool("SB_WEBHOOK_ALLOW_HTTP", false) ? "http,https" : "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, job->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)job->timeout_seconds);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)(job->timeout_seconds < 10 ? job->timeout_seconds : 10));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	/* The allow-list is checked when a socket opens: a connection the multi handle kept
	 * from another webhook's delivery to the same host would skip it. */
	if (s->n_allowed)
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	const char *source = config_str("SB_WEBHOOK_SOURCE_ADDRESS", "");
	if (*source)
		curl_easy_setopt(e, CURLOPT_INTERFACE, arena_printf(a, "host!%s", source));
	return 0;
}

void webhook_send_result(struct webhook_send *s, struct arena *a, CURLcode rc, struct webhook_attempt *at)
{
	memset(at, 0, sizeof(*at));
	double total = 0;
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &at->status);
	curl_easy_getinfo(s->easy, CURLINFO_TOTAL_TIME, &total);
	at->ms = total * 1000.0;
	at->retry_after = s->retry_after;
	/* Stored as text: whatever the receiver sent becomes valid UTF-8 first. */
	at->body = s->body_len ? utf8_sanitize(a, s->body, s->body_len) : NULL;
	at->request_headers_json = s->headers_json;
	if (s->blocked) {
		at->status = 0;
		at->error = "the receiver's address is private, loopback or link-local, which is not allowed";
	} else if (s->not_allowed) {
		at->status = 0;
		at->error = arena_printf(a, "address_not_allowed: the receiver's address %s is not in the webhook's "
					    "allowed_ips", s->refused_addr);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		at->status = 0;
		at->error = "timed out";
	} else if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && at->status)) {
		at->status = 0;
		at->error = arena_printf(a, "%s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
	}
}

void webhook_send_free(struct webhook_send *s)
{
	if (s->easy)
		curl_easy_cleanup(s->easy);
	curl_slist_free_all(s->headers);
	s->easy = NULL;
	s->headers = NULL;
}
