/* Azure Blob calls; see azblob.h. */
#include "net/azblob.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "net/s3.h"

char *azblob_sign(struct arena *a, const char *key, const char *verb, size_t content_length,
		  const char *content_type, const char *date, const char *extra, const char *account, const char *path,
		  const char *query)
{
	unsigned char *k;
	size_t klen;
	if (base64_decode(a, key, &k, &klen) || klen == 0)
		return NULL;
	/* Since version 2015-02-21 a zero Content-Length is signed as an empty string. */
	const char *len = content_length ? arena_printf(a, "%zu", content_length) : "";
	/* VERB, Content-Encoding, -Language, -Length, -MD5, -Type, Date, If-Modified-Since,
	 * If-Match, If-None-Match, If-Unmodified-Since, Range, then the x-ms-* headers and
	 * the resource. */
	const char *sts = arena_printf(a, "%s\n\n\n%s\n\n%s\n\n\n\n\n\n\n%sx-ms-date:%s\nx-ms-version:%s\n/%s%s%s", verb,
				       len, content_type ? content_type : "", extra, date, AZBLOB_VERSION, account,
				       path, query);
	unsigned char mac[32];
	crypto_hmac_sha256(k, klen, sts, strlen(sts), mac);
	return base64_encode(a, mac, sizeof(mac));
}

static const char *http_date(struct arena *a)
{
	char buf[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	return arena_strdup(a, buf);
}

int azblob_call(struct arena *a, const struct azblob_target *t, const char *method, const char *blob, const char *body,
		size_t len, const char *content_type, struct outbound_response *out)
{
	memset(out, 0, sizeof(*out));
	const char *ep = t->endpoint ? t->endpoint : "";
	size_t n = strlen(ep);
	while (n && ep[n - 1] == '/')
		n--;
	bool put = !strcmp(method, "PUT");
	const char *path = blob ? arena_printf(a, "/%s/%s", t->container, blob) : arena_printf(a, "/%s", t->container);
	const char *date = http_date(a);
	const char *extra = put ? "x-ms-blob-type:BlockBlob\n" : "";
	const char *ctype = put ? (content_type ? content_type : "application/octet-stream") : NULL;
	char *sig = azblob_sign(a, t->key, method, put ? len : 0, ctype, date, extra, t->account, path,
				blob ? "" : "\nrestype:container");
	if (!sig) {
		out->error = OUTBOUND_FAILED;
		out->message = "the account key is not valid base64";
		return -1;
	}
	const char *headers[7] = {arena_printf(a, "x-ms-date: %s", date), "x-ms-version: " AZBLOB_VERSION,
				  arena_printf(a, "Authorization: SharedKey %s:%s", t->account, sig), NULL};
	if (put) {
		headers[3] = "x-ms-blob-type: BlockBlob";
		headers[4] = arena_printf(a, "Content-Type: %s", ctype);
	}
	struct outbound_request rq = {
		.method = method,
		.url = arena_printf(a, "%.*s%s%s", (int)n, ep, path, blob ? "" : "?restype=container"),
		.headers = headers,
		.body = put ? (body ? body : "") : NULL,
		.body_len = put ? len : 0,
		.user_supplied = true,
		.idempotent = true,
		.max_response = put ? 64 * 1024 : 0,
		.timeout_ms = t->timeout_ms,
	};
	return outbound_do(a, &rq, out);
}

const char *azblob_failure(struct arena *a, const struct outbound_response *r)
{
	return s3_failure(a, r); /* the same error document: <Error><Code/><Message/></Error> */
}

const char *azblob_check_account(const char *s)
{
	size_t n = strlen(s);
	if (n < 3 || n > 24)
		return "must be 3 to 24 characters";
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]))
			return "must be lowercase letters and digits";
	return NULL;
}

const char *azblob_check_container(const char *s)
{
	size_t n = strlen(s);
	if (n < 3 || n > 63)
		return "must be 3 to 63 characters";
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return "must be lowercase letters, digits and hyphens";
	if (s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return "must start and end with a letter or digit and have no \"--\"";
	return NULL;
}

const char *azblob_check_key(const char *key)
{
	struct arena *a = arena_new();
	unsigned char *k;
	size_t klen = 0;
	int rc = base64_decode(a, key, &k, &klen);
	arena_free(a);
	return rc || klen < 16 ? "must be the account key (base64)" : NULL;
}
