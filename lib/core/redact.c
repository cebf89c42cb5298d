/* Redaction for the request log; see redact.h. */
#include "core/redact.h"

#include <ctype.h>
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/urlenc.h"
#include "core/validate.h"

/* As deep as the request parser accepts (lib/http/dispatch.c), so every body it took parses. */
#define REDACT_JSON_DEPTH 32

/* name lower-cased without '-' and '_', at most 63 bytes (longer names are cut). */
static void fold(const char *name, char out[64])
{
	size_t n = 0;
	for (; *name && n < 63; name++)
		if (*name != '-' && *name != '_')
			out[n++] = (char)tolower((unsigned char)*name);
	out[n] = '\0';
}

bool redact_is_secret_name(const char *name)
{
	static const char *const parts[] = {"password", "passwd",     "secret",	 "token",   "apikey",	 "authorization",
					    "credential", "privatekey", "cookie", "session", "signature"};
	static const char *const whole[] = {"code", "codeverifier", "key", "otp", "pin", "assertion", "clientassertion"};
	char f[64];
	fold(name, f);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (strstr(f, parts[i]))
			return true;
	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
		if (!strcmp(f, whole[i]))
			return true;
	return false;
}

void redact_json(struct json_object *v)
{
	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);
		for (size_t i = 0; i < n; i++)
			redact_json(json_object_array_get_idx(v, i));
		return;
	}
	if (!json_object_is_type(v, json_type_object))
		return;
	json_object_object_foreach(v, name, member)
	{
		if (redact_is_secret_name(name))
			json_object_object_add(v, name, json_object_new_string(REDACTED));
		else
			redact_json(member);
	}
}

/* s cut to at most cap bytes without splitting a UTF-8 sequence. */
static char *cap_text(struct arena *a, const char *s, size_t cap, bool *truncated)
{
	size_t len = strlen(s);
	if (len <= cap)
		return arena_strdup(a, s);
	*truncated = true;
	size_t n = cap;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return arena_strndup(a, s, n);
}

static char *redact_form(struct arena *a, const char *body, size_t len)
{
	char *out = arena_alloc(a, len + 1 + (len / 2 + 1) * (sizeof(REDACTED) - 1)), *o = out;
	if (!out)
		return NULL;
	const char *p = body, *end = body + len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		const char *name_end = eq ? eq : stop;
		const char *name = url_decode(a, p, (size_t)(name_end - p), true);
		if (eq && (!name || redact_is_secret_name(name))) {
			size_t k = (size_t)(eq + 1 - p);
			memcpy(o, p, k);
			memcpy(o + k, REDACTED, sizeof(REDACTED) - 1);
			o += k + sizeof(REDACTED) - 1;
		} else {
			memcpy(o, p, (size_t)(stop - p));
			o += stop - p;
		}
		if (amp)
			*o++ = '&';
		p = amp ? amp + 1 : end;
	}
	*o = '\0';
	return out;
}

char *redact_body_note(struct arena *a, size_t len, const char *type)
{
	return arena_printf(a, "[%zu bytes of %s not logged]", len, type);
}

char *redact_body(struct arena *a, const char *body, size_t len, bool json, size_t cap, bool *truncated)
{
	*truncated = false;
	if (!body || len == 0)
		return NULL;
	if (memchr(body, '\0', len) || utf8_length(body, len) < 0)
		return redact_body_note(a, len, json ? "JSON that is not UTF-8 text" : "a form that is not UTF-8 text");
	if (!json)
		return cap_text(a, redact_form(a, body, len), cap, truncated);
	struct json_tokener *tok = json_tokener_new_ex(REDACT_JSON_DEPTH);
	if (!tok)
		return NULL;
	struct json_object *v = json_tokener_parse_ex(tok, body, (int)len);
	size_t used = json_tokener_get_parse_end(tok);
	bool whole = v && json_tokener_get_error(tok) == json_tokener_success;
	json_tokener_free(tok);
	while (whole && used < len && strchr(" \t\r\n", body[used]))
		used++;
	whole = whole && used == len;
	if (!whole) {
		json_object_put(v);
		return redact_body_note(a, len, "unparsable JSON");
	}
	redact_json(v);
	char *out = cap_text(a, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), cap, truncated);
	json_object_put(v);
	return out;
}
