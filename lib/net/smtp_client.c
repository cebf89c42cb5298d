/* SMTP through libcurl; see smtp_client.h. */
#include "net/smtp_client.h"

#include <curl/curl.h>
#include <string.h>
#include <sys/socket.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "net/netguard.h"

static const char *const security_names[SMTP_SECURITY__MAX] = {"starttls", "tls", "none"};

const char *smtp_security_name(enum smtp_security s)
{
	return s < SMTP_SECURITY__MAX ? security_names[s] : "starttls";
}

int smtp_security_parse(const char *s)
{
	for (int i = 0; s && i < SMTP_SECURITY__MAX; i++)
		if (!strcmp(s, security_names[i]))
			return i;
	return -1;
}

long smtp_default_port(enum smtp_security s)
{
	return s == SMTP_SECURITY_TLS ? 465 : s == SMTP_SECURITY_NONE ? 25 : 587;
}

bool smtp_address_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 254)
		return false;
	const char *at = strrchr(s, '@');
	if (!at || at == s || !at[1] || strchr(s, '@') != at)
		return false;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c <= 0x20 || *c == 0x7f || strchr("<>()[],;:\\\"", *c))
			return false;
	return strchr(at + 1, '.') && at[1] != '.' && s[strlen(s) - 1] != '.';
}

static bool has_break(const char *s)
{
	return s && strpbrk(s, "\r\n");
}

static bool ascii_only(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x7f || (unsigned char)*s < 0x20)
			return false;
	return true;
}

/* RFC 2047 B-encoded words of at most 45 bytes of text each (whole UTF-8 sequences),
 * folded onto continuation lines. */
static char *encode_subject(struct arena *a, const char *s)
{
	if (ascii_only(s))
		return arena_strdup(a, s);
	char *out = arena_strdup(a, "");
	size_t n = strlen(s), i = 0;
	while (i < n) {
		size_t k = n - i > 45 ? 45 : n - i;
		while (i + k < n && k > 1 && ((unsigned char)s[i + k] & 0xc0) == 0x80)
			k--;
		out = arena_printf(a, "%s%s=?UTF-8?B?%s?=", out, *out ? "\r\n " : "", base64_encode(a, s + i, k));
		i += k;
	}
	return out;
}

/* The body in base64 lines of 76 characters: any text survives any server. */
static char *encode_body(struct arena *a, const char *text)
{
	char *b = base64_encode(a, text, strlen(text));
	size_t n = strlen(b), lines = n / 76 + 1;
	char *out = arena_alloc(a, n + lines * 2 + 1), *p = out;
	for (size_t i = 0; i < n; i += 76) {
		size_t k = n - i > 76 ? 76 : n - i;
		memcpy(p, b + i, k);
		p += k;
		*p++ = '\r';
		*p++ = '\n';
	}
	*p = 0;
	return out;
}

char *smtp_format(struct arena *a, const struct smtp_message *m, time_t now)
{
	if (has_break(m->from) || has_break(m->to) || has_break(m->subject))
		return NULL;
	char date[64];
	struct tm tm;
	gmtime_r(&now, &tm);
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	const char *at = strrchr(m->from, '@');
	const char *id = m->message_id, *token = id ? NULL : crypto_token(a, 18);
	if (!id && token)
		id = arena_printf(a, "%s@%s", token, at ? at + 1 : "switchboard.invalid");
	if (!id || has_break(id) || strpbrk(id, "<> "))
		return NULL;
	return arena_printf(a,
			    "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\n"
			    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
			    "Content-Transfer-Encoding: base64\r\nAuto-Submitted: auto-generated\r\n\r\n%s",
			    date, m->from, m->to, encode_subject(a, m->subject ? m->subject : ""), id,
			    encode_body(a, m->text ? m->text : ""));
}

/* --- the transfer ---------------------------------------------------------------------- */

struct upload {
	const char *data;
	size_t len, off;
};

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
	struct upload *u = ud;
	size_t k = size * n, left = u->len - u->off;
	if (k > left)
		k = left;
	memcpy(buf, u->data + u->off, k);
	u->off += k;
	return k;
}

static size_t on_discard(char *buf, size_t size, size_t n, void *ud)
{
	(void)buf;
	(void)ud;
	return size * n;
}

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

static const char *server_url(struct arena *a, const struct smtp_options *o)
{
	bool v6 = strchr(o->host, ':') != NULL;
	return arena_printf(a, "%s://%s%s%s:%ld/%s", o->security == SMTP_SECURITY_TLS ? "smtps" : "smtp", v6 ? "[" : "",
			    o->host, v6 ? "]" : "", o->port, config_str("SB_SMTP_HELO_NAME", "switchboard.invalid"));
}

static void setup(struct arena *a, CURL *c, const struct smtp_options *o, bool *blocked, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_URL, server_url(a, o));
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	long t = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, t);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, t < 5000 ? t : 5000L);
	curl_easy_setopt(c, CURLOPT_USE_SSL, o->security == SMTP_SECURITY_NONE ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file && *o->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	if (o->username && *o->username) {
		curl_easy_setopt(c, CURLOPT_USERNAME, o->username);
		curl_easy_setopt(c, CURLOPT_PASSWORD, o->password ? o->password : "");
	}
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, blocked);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_discard);
}

static const char *detail(struct arena *a, const char *errbuf, CURLcode rc)
{
	return arena_strndup(a, *errbuf ? errbuf : curl_easy_strerror(rc), 200);
}

static int classify(struct arena *a, CURLcode rc, bool blocked, long reply, const char *errbuf, struct smtp_result *r)
{
	r->reply = reply;
	if (rc == CURLE_OK) {
		r->error = SMTP_OK;
		return 0;
	}
	const char *why = detail(a, errbuf, rc);
	if (blocked) {
		r->error = SMTP_BLOCKED;
		r->message = "the mail server's address is private or reserved";
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		r->error = SMTP_TIMEOUT;
		r->message = "the mail server did not answer in time";
	} else if (rc == CURLE_LOGIN_DENIED || rc == CURLE_AUTH_ERROR) {
		r->error = SMTP_AUTH;
		r->message = arena_printf(a, "the mail server refused the username or password (%s)", why);
	} else if (rc == CURLE_USE_SSL_FAILED) {
		r->error = SMTP_TLS;
		r->message = "the mail server does not offer STARTTLS";
	} else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
		   rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CIPHER) {
		r->error = SMTP_TLS;
		r->message = arena_printf(a, "TLS with the mail server failed (%s)", why);
	} else if ((rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_WEIRD_SERVER_REPLY) && reply >= 400) {
		r->error = SMTP_REJECTED;
		r->message = arena_printf(a, "the mail server refused the message (reply %ld)", reply);
	} else if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT || rc == CURLE_GOT_NOTHING ||
		   rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_WEIRD_SERVER_REPLY) {
		r->error = SMTP_CONNECT;
		r->message = arena_printf(a, "could not reach the mail server (%s)", why);
	} else {
		r->error = SMTP_FAILED;
		r->message = arena_printf(a, "the mail transfer failed (%s)", why);
	}
	return -1;
}

static void curl_global(void)
{
	static bool done;
	if (!done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		done = true;
	}
}

static int run(struct arena *a, CURL *c, bool *blocked, char *errbuf, struct smtp_result *r)
{
	CURLcode rc = curl_easy_perform(c);
	long reply = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
	int out = classify(a, rc, *blocked, reply, errbuf, r);
	return out;
}

int smtp_check(struct arena *a, const struct smtp_options *o, struct smtp_result *r)
{
	memset(r, 0, sizeof(*r));
	curl_global();
	CURL *c = curl_easy_init();
	if (!c) {
		r->error = SMTP_FAILED;
		r->message = "could not start an SMTP client";
		return -1;
	}
	bool blocked = false;
	char errbuf[CURL_ERROR_SIZE] = "";
	setup(a, c, o, &blocked, errbuf);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "NOOP");
	int rc = run(a, c, &blocked, errbuf, r);
	curl_easy_cleanup(c);
	return rc;
}

int smtp_send(struct arena *a, const struct smtp_options *o, const struct smtp_message *m, struct smtp_result *r)
{
	memset(r, 0, sizeof(*r));
	char *text = smtp_format(a, m, time(NULL));
	if (!text || !smtp_address_ok(m->from) || !smtp_address_ok(m->to)) {
		r->error = SMTP_FAILED;
		r->message = "the message cannot be sent as composed";
		return -1;
	}
	curl_global();
	CURL *c = curl_easy_init();
	if (!c) {
		r->error = SMTP_FAILED;
		r->message = "could not start an SMTP client";
		return -1;
	}
	bool blocked = false;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct upload u = {.data = text, .len = strlen(text)};
	struct curl_slist *rcpt = curl_slist_append(NULL, arena_printf(a, "<%s>", m->to));
	setup(a, c, o, &blocked, errbuf);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, arena_printf(a, "<%s>", m->from));
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u.len);
	int rc = run(a, c, &blocked, errbuf, r);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	return rc;
}
