/* Field-table validation; see validate.h. */
#include "core/validate.h"

#include "core/arena.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long utf8_length(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	long count = 0;
	while (p < end) {
		unsigned c = *p;
		size_t len;
		unsigned min;
		if (c == 0)
			return -1;
		if (c < 0x80) {
			len = 1, min = 0;
		} else if ((c & 0xE0) == 0xC0) {
			len = 2, min = 0x80, c &= 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3, min = 0x800, c &= 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4, min = 0x10000, c &= 0x07;
		} else {
			return -1;
		}
		if ((size_t)(end - p) < len)
			return -1;
		for (size_t i = 1; i < len; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return -1;
			c = c << 6 | (p[i] & 0x3F);
		}
		/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
		if (c < min || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
			return -1;
		p += len;
		count++;
	}
	return count;
}

/* Length of the valid UTF-8 sequence at p (up to end), 0 when invalid, -1 when cut short. */
static long utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = *p, min;
	size_t len;
	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0)
		len = 2, min = 0x80, c &= 0x1F;
	else if ((c & 0xF0) == 0xE0)
		len = 3, min = 0x800, c &= 0x0F;
	else if ((c & 0xF8) == 0xF0)
		len = 4, min = 0x10000, c &= 0x07;
	else
		return 0;
	for (size_t i = 1; i < len; i++) {
		if (p + i >= end)
			return -1;
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3F);
	}
	if (c < min || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		return 0;
	return (long)len;
}

char *utf8_sanitize(struct arena *a, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	char *out = arena_alloc(a, n * 3 + 1), *o = out;
	while (p < end) {
		long len = utf8_seq(p, end);
		if (len < 0)
			break; /* cut off by truncation: drop it */
		if (len == 0) {
			memcpy(o, "\xEF\xBF\xBD", 3);
			o += 3;
			p++;
			continue;
		}
		memcpy(o, p, (size_t)len);
		o += len;
		p += len;
	}
	*o = '\0';
	return out;
}

static const char *type_message(enum field_type t)
{
	static const char *const names[FIELD_TYPE__MAX] = {
		[FIELD_STRING] = "must be a string",	[FIELD_INT] = "must be an integer",
		[FIELD_BOOL] = "must be true or false", [FIELD_OBJECT] = "must be an object",
		[FIELD_ARRAY] = "must be an array",
	};
	return names[t];
}

static bool type_ok(struct json_object *v, enum field_type t)
{
	switch (t) {
	case FIELD_STRING:
		return json_object_is_type(v, json_type_string);
	case FIELD_INT:
		return json_object_is_type(v, json_type_int);
	case FIELD_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case FIELD_OBJECT:
		return json_object_is_type(v, json_type_object);
	case FIELD_ARRAY:
		return json_object_is_type(v, json_type_array);
	default:
		return false;
	}
}

/* Returns NULL or a message; buf holds messages that carry numbers. */
static const char *check_field(const struct field *f, struct json_object *v, char *buf, size_t cap)
{
	if (!type_ok(v, f->type))
		return type_message(f->type);
	bool bounded = f->min || f->max;
	if (f->type == FIELD_STRING) {
		long len = utf8_length(json_object_get_string(v), (size_t)json_object_get_string_len(v));
		if (len < 0)
			return "must be valid UTF-8 text without NUL characters";
		if (bounded && len < f->min) {
			snprintf(buf, cap, f->min == 1 ? "must not be empty" : "must be at least %ld characters",
				 f->min);
			return buf;
		}
		if (bounded && f->max && len > f->max) {
			snprintf(buf, cap, "must be at most %ld characters", f->max);
			return buf;
		}
	} else if (f->type == FIELD_INT && bounded) {
		errno = 0;
		int64_t n = json_object_get_int64(v);
		if (errno || n < f->min || n > f->max) {
			snprintf(buf, cap, "must be between %ld and %ld", f->min, f->max);
			return buf;
		}
	} else if (f->type == FIELD_ARRAY && bounded) {
		long n = (long)json_object_array_length(v);
		if (n < f->min || (f->max && n > f->max)) {
			snprintf(buf, cap, "must have between %ld and %ld items", f->min, f->max);
			return buf;
		}
	}
	return f->check ? f->check(v) : NULL;
}

int validate_object(struct json_object *obj, const struct field *fields, struct json_object **errors)
{
	int failed = 0;
	*errors = NULL;
	for (const struct field *f = fields; f && f->name; f++) {
		struct json_object *v = NULL;
		const char *msg = NULL;
		char buf[96];
		bool present = json_object_object_get_ex(obj, f->name, &v) && v != NULL;
		if (!present)
			msg = f->required ? "is required" : NULL;
		else
			msg = check_field(f, v, buf, sizeof(buf));
		if (!msg)
			continue;
		if (!*errors)
			*errors = json_object_new_object();
		json_object_object_add(*errors, f->name, json_object_new_string(msg));
		failed++;
	}
	return failed;
}

static bool field_declared(const struct field *const *tables, const char *name)
{
	for (const struct field *const *t = tables; t && *t; t++)
		for (const struct field *f = *t; f->name; f++)
			if (!strcmp(f->name, name))
				return true;
	return false;
}

int validate_unknown(struct json_object *obj, const struct field *const *tables, struct json_object **errors)
{
	int unknown = 0;
	json_object_object_foreach(obj, k, v)
	{
		(void)v;
		if (field_declared(tables, k))
			continue;
		if (!*errors)
			*errors = json_object_new_object();
		json_object_object_add(*errors, k, json_object_new_string("unknown field"));
		unknown++;
	}
	return unknown;
}

const char *check_not_blank(struct json_object *v)
{
	for (const char *s = json_object_get_string(v); *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return NULL;
	return "must not be blank";
}

/* A pragmatic address check: one '@', a non-empty local part without spaces or
 * control characters, a domain of dot-separated labels with a dot in it. */
const char *check_email(struct json_object *v)
{
	static const char *const msg = "must be a valid email address";
	const char *s = json_object_get_string(v);
	size_t n = strlen(s);
	const char *at = strchr(s, '@');
	if (n > 254 || !at || at == s || strchr(at + 1, '@') || at - s > 64)
		return msg;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '"' || *c == '<' || *c == '>' || *c == '\\' ||
		    *c == ',' || *c == ';')
			return msg;
	const char *d = at + 1;
	if (!*d || *d == '.' || d[strlen(d) - 1] == '.' || !strchr(d, '.') || strstr(d, ".."))
		return msg;
	for (const char *c = d; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
		      *c == '.' || (unsigned char)*c >= 0x80))
			return msg;
	return NULL;
}

int validate_query_int(const char *s, long def, long min, long max, long *out)
{
	if (!s) {
		*out = def;
		return 0;
	}
	if (!*s || strlen(s) > 18)
		return -1;
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (errno || *end || n < min || n > max || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
		return -1;
	*out = n;
	return 0;
}

bool text_printable(const char *s, bool allow_tab)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if ((*c < 0x20 && !(allow_tab && *c == '\t')) || *c == 0x7f)
			return false;
	return true;
}

const char *check_printable(struct json_object *v)
{
	return text_printable(json_object_get_string(v), false) ? NULL : "must not contain control characters";
}

bool text_is_uuid(const char *s)
{
	static const size_t dash[] = {8, 13, 18, 23};
	if (!s || strlen(s) != 36)
		return false;
	for (size_t i = 0, d = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return false;
			d++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads exactly n digits of s into *out. */
static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

const char *validate_rfc3339(const char *s)
{
	static const char *msg = "must be an RFC 3339 date-time such as 2026-01-15T10:30:00Z";
	int y, mo, d, h, mi, sec;
	if (!s || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return msg;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
		return msg;
	const char *z = s + 19;
	if (*z == '.') {
		size_t n = strspn(z + 1, "0123456789");
		if (n == 0 || n > 9)
			return msg;
		z += 1 + n;
	}
	if ((z[0] == 'Z' || z[0] == 'z') && !z[1])
		return NULL;
	int oh, om;
	if ((z[0] == '+' || z[0] == '-') && digits(z + 1, 2, &oh) && z[3] == ':' && digits(z + 4, 2, &om) && !z[6] &&
	    oh <= 23 && om <= 59)
		return NULL;
	return msg;
}
