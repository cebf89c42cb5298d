/* S3 calls; see s3.h. */
#include "net/s3.h"

#include <ctype.h>
#include <curl/curl.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/crypto.h"

/* scheme://host[:port] of an endpoint without a path, query or credentials. */
static int endpoint_parts(struct arena *a, const char *url, const char **scheme, const char **hostport)
{
	CURLU *u = curl_url();
	char *sc = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL, *user = NULL;
	int rc = -1;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &sc, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_PORT, &port, 0);
		curl_url_get(u, CURLUPART_PATH, &path, 0);
		curl_url_get(u, CURLUPART_QUERY, &query, 0);
		curl_url_get(u, CURLUPART_USER, &user, 0);
		if ((!path || !strcmp(path, "/")) && !query && !user && *host) {
			*scheme = arena_strdup(a, sc);
			*hostport = port ? arena_printf(a, "%s:%s", host, port) : arena_strdup(a, host);
			rc = 0;
		}
	}
	curl_free(sc);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

char *s3_url(struct arena *a, const struct s3_target *t, const char *key)
{
	const char *scheme, *hostport;
	if (!t->endpoint || endpoint_parts(a, t->endpoint, &scheme, &hostport))
		return NULL;
	const char *k = key ? key : "";
	if (t->virtual_host)
		return arena_printf(a, "%s://%s.%s/%s", scheme, t->bucket, hostport, k);
	return arena_printf(a, "%s://%s/%s%s%s", scheme, hostport, t->bucket, *k ? "/" : "", k);
}

int s3_call(struct arena *a, const struct s3_target *t, const char *method, const char *key, const char *body,
	    size_t len, const char *content_type, struct outbound_response *out)
{
	char *url = s3_url(a, t, key);
	if (!url) {
		memset(out, 0, sizeof(*out));
		out->error = OUTBOUND_FAILED;
		out->message = "the endpoint is not a valid URL";
		return -1;
	}
	/* S3 wants the payload's SHA-256 as a signed header (x-amz-content-sha256). */
	const char *hash = crypto_sha256_hex(a, body ? body : "", body ? len : 0);
	const char *headers[4] = {arena_printf(a, "x-amz-content-sha256: %s", hash), NULL, NULL, NULL};
	if (content_type)
		headers[1] = arena_printf(a, "Content-Type: %s", content_type);
	bool put = !strcmp(method, "PUT");
	struct outbound_request rq = {
		.method = method,
		.url = url,
		.headers = headers,
		.body = put ? (body ? body : "") : NULL,
		.body_len = put ? len : 0,
		.user_supplied = true,
		.idempotent = true, /* every call here is: a PUT of a whole object, GET, DELETE, HEAD */
		.aws_sigv4 = arena_printf(a, "aws:amz:%s:s3", t->region),
		.aws_key_id = t->access_key_id,
		.aws_secret = t->secret_access_key,
		.max_response = put ? 64 * 1024 : 0,
		.timeout_ms = t->timeout_ms,
	};
	return outbound_do(a, &rq, out);
}

/* The text of <tag>...</tag> in an S3 error document, or NULL. */
static const char *xml_text(struct arena *a, const char *doc, const char *tag)
{
	const char *open = arena_printf(a, "<%s>", tag), *close = arena_printf(a, "</%s>", tag);
	const char *p = doc ? strstr(doc, open) : NULL;
	if (!p)
		return NULL;
	p += strlen(open);
	const char *e = strstr(p, close);
	if (!e || e - p > 300)
		return NULL;
	char *s = arena_strndup(a, p, (size_t)(e - p));
	for (char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	return s;
}

const char *s3_failure(struct arena *a, const struct outbound_response *r)
{
	if (r->error != OUTBOUND_OK)
		return r->message ? r->message : "the storage service could not be reached";
	const char *code = xml_text(a, r->body, "Code"), *msg = xml_text(a, r->body, "Message");
	if (code)
		return arena_printf(a, "the storage service answered %ld %s%s%s", r->status, code, msg ? ": " : "",
				    msg ? msg : "");
	return arena_printf(a, "the storage service answered %ld", r->status);
}

const char *s3_check_endpoint(const char *url, bool allow_http)
{
	bool https = !strncasecmp(url, "https://", 8), http = !strncasecmp(url, "http://", 7);
	if (!https && !(http && allow_http))
		return allow_http ? "must be an http:// or https:// URL" : "must be an https:// URL";
	struct arena *a = arena_new();
	const char *scheme, *hostport;
	int rc = endpoint_parts(a, url, &scheme, &hostport);
	arena_free(a);
	return rc ? "must be scheme://host[:port] with no path, query or credentials" : NULL;
}

const char *s3_check_bucket(const char *b)
{
	size_t n = strlen(b);
	if (n < 3 || n > 63)
		return "must be 3 to 63 characters";
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)b[i]) && !isdigit((unsigned char)b[i]) && b[i] != '-' && b[i] != '.')
			return "must be lowercase letters, digits, dots and hyphens";
	if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]) || strstr(b, ".."))
		return "must start and end with a letter or digit and have no \"..\"";
	return NULL;
}

const char *s3_check_region(const char *r)
{
	size_t n = strlen(r);
	if (n < 1 || n > 40)
		return "must be 1 to 40 characters";
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)r[i]) && !isdigit((unsigned char)r[i]) && r[i] != '-')
			return "must be lowercase letters, digits and hyphens, like eu-central-1";
	return NULL;
}

const char *s3_check_key(const char *k)
{
	if (strlen(k) > 900)
		return "must be at most 900 characters";
	if (k[0] == '/' || strstr(k, "//") || strstr(k, ".."))
		return "must not start with /, nor contain // or ..";
	for (const char *c = k; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("-_.~/", *c))
			return "must be letters, digits and - _ . ~ /";
	return NULL;
}
