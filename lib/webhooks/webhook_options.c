/* Per-webhook delivery options; see webhook_options.h. */
#include "webhooks/webhook_options.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/validate.h"

/* --- JSON pointers --------------------------------------------------------------------- */

/* Splits pointer p ("/a/b~1c") into at most max unescaped segments in the arena-free
 * buffer buf (segments point into it). Returns the count, or -1 when p is malformed. */
static int pointer_split(const char *p, char *buf, size_t bufsize, const char **seg, int max)
{
	size_t n = strlen(p);
	if (n == 0 || p[0] != '/' || n >= bufsize)
		return -1;
	int k = 0;
	char *o = buf;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '/') {
			if (k == max)
				return -1;
			if (k)
				*o++ = '\0';
			seg[k++] = o;
		} else if (p[i] == '~') {
			if (p[i + 1] != '0' && p[i + 1] != '1')
				return -1;
			*o++ = p[++i] == '0' ? '~' : '/';
		} else {
			*o++ = p[i];
		}
	}
	*o = '\0';
	return k;
}

#define MAX_SEGMENTS 32

const char *webhook_pointers_check(struct json_object *v)
{
	if (!json_object_is_type(v, json_type_array))
		return "must be an array of JSON pointers";
	if (json_object_array_length(v) > WEBHOOK_MAX_POINTERS)
		return "must hold at most 20 JSON pointers";
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string))
			return "must be an array of JSON pointers (strings like \"/order/id\")";
		const char *s = json_object_get_string(e);
		char buf[WEBHOOK_MAX_POINTER_LEN + 1];
		const char *seg[MAX_SEGMENTS];
		if (strlen(s) > WEBHOOK_MAX_POINTER_LEN)
			return "has a JSON pointer longer than 256 characters";
		if (!text_printable(s, false) || pointer_split(s, buf, sizeof(buf), seg, MAX_SEGMENTS) < 1)
			return "must hold RFC 6901 JSON pointers like \"/order/id\" (\"~0\" for ~, \"~1\" for /)";
	}
	return NULL;
}

/* The index an array segment names (RFC 6901: digits, no leading zero), or -1. */
static long segment_index(const char *s)
{
	if (!*s || strspn(s, "0123456789") != strlen(s) || (s[0] == '0' && s[1]) || strlen(s) > 9)
		return -1;
	return atol(s);
}

/* Copies the member at pointer p of src into dst at the same path (objects only). */
static void include_one(struct json_object *src, struct json_object *dst, const char *p)
{
	char buf[WEBHOOK_MAX_POINTER_LEN + 1];
	const char *seg[MAX_SEGMENTS];
	int n = pointer_split(p, buf, sizeof(buf), seg, MAX_SEGMENTS);
	if (n < 1)
		return;
	struct json_object *at = src;
	for (int i = 0; i < n; i++)
		if (!json_object_is_type(at, json_type_object) || !json_object_object_get_ex(at, seg[i], &at))
			return; /* absent: nothing to keep */
	struct json_object *to = dst;
	for (int i = 0; i < n - 1; i++) {
		struct json_object *next;
		if (!json_object_object_get_ex(to, seg[i], &next) || !json_object_is_type(next, json_type_object)) {
			next = json_object_new_object();
			json_object_object_add(to, seg[i], next);
		}
		to = next;
	}
	struct json_object *copy = NULL;
	if (at)
		json_object_deep_copy(at, &copy, NULL);
	json_object_object_add(to, seg[n - 1], copy);
}

/* Removes the member or array item at pointer p of obj, when there. */
static void exclude_one(struct json_object *obj, const char *p)
{
	char buf[WEBHOOK_MAX_POINTER_LEN + 1];
	const char *seg[MAX_SEGMENTS];
	int n = pointer_split(p, buf, sizeof(buf), seg, MAX_SEGMENTS);
	struct json_object *at = obj;
	for (int i = 0; i < n && at; i++) {
		bool last = i == n - 1;
		if (json_object_is_type(at, json_type_object)) {
			if (last) {
				json_object_object_del(at, seg[i]);
				return;
			}
			if (!json_object_object_get_ex(at, seg[i], &at))
				return;
		} else if (json_object_is_type(at, json_type_array)) {
			long idx = segment_index(seg[i]);
			if (idx < 0 || (size_t)idx >= json_object_array_length(at))
				return;
			if (last) {
				json_object_array_del_idx(at, (size_t)idx, 1);
				return;
			}
			at = json_object_array_get_idx(at, (size_t)idx);
		} else {
			return;
		}
	}
}

struct json_object *webhook_filter_data(struct json_object *data, struct json_object *include,
					struct json_object *exclude)
{
	struct json_object *out = NULL;
	if (include && json_object_is_type(include, json_type_array) && json_object_array_length(include) > 0) {
		out = json_object_new_object();
		for (size_t i = 0; i < json_object_array_length(include); i++)
			include_one(data, out, json_object_get_string(json_object_array_get_idx(include, i)));
	} else {
		json_object_deep_copy(data, &out, NULL);
	}
	if (exclude && json_object_is_type(exclude, json_type_array))
		for (size_t i = 0; i < json_object_array_length(exclude); i++)
			exclude_one(out, json_object_get_string(json_object_array_get_idx(exclude, i)));
	return out;
}

/* --- the body ---------------------------------------------------------------------------- */

/* A parsed JSON array of pointers that filters something, or NULL ("[]", NULL, junk). */
static struct json_object *filter_list(const char *json)
{
	if (!json || !strcmp(json, "[]"))
		return NULL;
	struct json_object *v = json_tokener_parse(json);
	if (v && (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)) {
		json_object_put(v);
		v = NULL;
	}
	return v;
}

static const char *plain(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

char *webhook_body_build(struct arena *a, const char *format, const char *type, const char *message_id,
			 const char *timestamp, const char *data_json, const char *include_json,
			 const char *exclude_json)
{
	struct json_object *inc = filter_list(include_json), *exc = filter_list(exclude_json);
	const char *data = data_json;
	struct json_object *filtered = NULL, *parsed = NULL;
	if (inc || exc) {
		parsed = json_tokener_parse(data_json);
		if (parsed) {
			filtered = webhook_filter_data(parsed, inc, exc);
			data = plain(filtered);
		}
	}
	struct json_object *t = json_object_new_string(type), *ts = json_object_new_string(timestamp);
	char *body;
	if (format && !strcmp(format, "envelope")) {
		struct json_object *id = json_object_new_string(message_id);
		body = arena_printf(a, "{\"id\":%s,\"event\":%s,\"created_at\":%s,\"data\":%s}", plain(id), plain(t),
				    plain(ts), data);
		json_object_put(id);
	} else {
		body = arena_printf(a, "{\"type\":%s,\"timestamp\":%s,\"data\":%s}", plain(t), plain(ts), data);
	}
	json_object_put(t);
	json_object_put(ts);
	json_object_put(filtered);
	json_object_put(parsed);
	json_object_put(inc);
	json_object_put(exc);
	return body;
}

/* --- headers ------------------------------------------------------------------------------ */

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Names Switchboard sets itself, or that would change how the message is framed. */
static bool header_reserved(const char *name)
{
	static const char *const reserved[] = {
		"content-type", "content-length", "host",	"user-agent", "transfer-encoding", "connection",
		"keep-alive",	"te",		  "trailer",	"upgrade",    "expect",		   "proxy-authorization",
		"proxy-connection", NULL};
	if (!strncasecmp(name, "webhook-", 8))
		return true;
	for (int i = 0; reserved[i]; i++)
		if (!strcasecmp(name, reserved[i]))
			return true;
	return false;
}

const char *webhook_headers_check(struct json_object *v)
{
	if (!json_object_is_type(v, json_type_object))
		return "must be an object of header names to values";
	if (json_object_object_length(v) > WEBHOOK_MAX_HEADERS)
		return "must hold at most 10 headers";
	json_object_object_foreach(v, name, value)
	{
		size_t n = strlen(name);
		if (n == 0 || n > WEBHOOK_MAX_HEADER_NAME)
			return "has a header name that is empty or longer than 64 characters";
		for (size_t i = 0; i < n; i++)
			if (!is_tchar((unsigned char)name[i]))
				return "has a header name that is not an HTTP token (letters, digits and !#$%&'*+-.^_`|~)";
		if (header_reserved(name))
			return "must not set webhook-*, content-type, content-length, host, user-agent or hop-by-hop "
			       "headers";
		json_object_object_foreach(v, other, ov)
		{
			(void)ov;
			if (other != name && !strcasecmp(other, name))
				return "names the same header twice";
		}
		if (!json_object_is_type(value, json_type_string))
			return "must have string header values";
		const char *s = json_object_get_string(value);
		long chars = utf8_length(s, strlen(s));
		if (chars < 0 || chars > WEBHOOK_MAX_HEADER_VALUE)
			return "has a header value longer than 1024 characters";
		if (!text_printable(s, true))
			return "has a header value with a control character (CR and LF are not allowed)";
	}
	return NULL;
}

/* --- allowed addresses -------------------------------------------------------------------- */

int webhook_cidr_parse(const char *s, struct webhook_cidr *out)
{
	memset(out, 0, sizeof(*out));
	char buf[64];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	int max;
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	out->prefix = max;
	if (slash) {
		const char *p = slash + 1;
		if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 3 || atoi(p) > max)
			return -1;
		out->prefix = atoi(p);
	}
	/* Host bits set ("10.0.0.1/8") are a likely mistake: refused rather than guessed. */
	for (int bit = out->prefix; bit < max; bit++)
		if (out->addr[bit / 8] & (0x80 >> (bit % 8)))
			return -1;
	return 0;
}

bool webhook_cidr_contains(const struct webhook_cidr *c, const struct sockaddr *sa)
{
	const unsigned char *b;
	int family;
	if (sa->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
		family = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		b = a6->s6_addr;
		family = AF_INET6;
		if (IN6_IS_ADDR_V4MAPPED(a6) && c->family == AF_INET) {
			b += 12;
			family = AF_INET;
		}
	} else {
		return false;
	}
	if (family != c->family)
		return false;
	for (int bit = 0; bit < c->prefix; bit++) {
		unsigned char m = (unsigned char)(0x80 >> (bit % 8));
		if ((b[bit / 8] & m) != (c->addr[bit / 8] & m))
			return false;
	}
	return true;
}

const char *webhook_allowed_ips_check(struct json_object *v)
{
	if (!json_object_is_type(v, json_type_array))
		return "must be an array of IP addresses or CIDR networks";
	if (json_object_array_length(v) > WEBHOOK_MAX_ALLOWED_IPS)
		return "must hold at most 20 networks";
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		struct webhook_cidr c;
		if (!json_object_is_type(e, json_type_string) || webhook_cidr_parse(json_object_get_string(e), &c))
			return "must hold IPv4 or IPv6 addresses or CIDR networks like \"203.0.113.0/24\" or "
			       "\"2001:db8::/32\", with no host bits set after the prefix";
	}
	return NULL;
}
