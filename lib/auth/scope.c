/* Scope sets and the scope hierarchy; see scope.h. */
#include "auth/scope.h"

#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"

const char *const scope_names[] = {
	"read",
	"write",
	"admin",
	"offline_access",
	"integrations:read",
	"integrations:write",
	"webhooks:read",
	"webhooks:write",
	"events:read",
	"events:write",
	"transfer:read",
	"transfer:write",
	NULL,
};

bool scope_known(const char *name)
{
	for (size_t i = 0; scope_names[i]; i++)
		if (!strcmp(scope_names[i], name))
			return true;
	return false;
}

/* The "<area>:<level>" split of s[0..n): *area_len is 0 when s has no colon. */
static const char *level_of(const char *s, size_t n, size_t *area_len)
{
	const char *c = memchr(s, ':', n);
	*area_len = c ? (size_t)(c - s) : 0;
	return c ? c + 1 : s;
}

static bool word_eq(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && !memcmp(s, w, n);
}

/* Does the single granted scope g[0..gn) cover r[0..rn)? */
static bool one_covers(const char *g, size_t gn, const char *r, size_t rn)
{
	if (gn == rn && !memcmp(g, r, gn))
		return true;
	if (word_eq(g, gn, "admin"))
		return true;
	if (word_eq(r, rn, "offline_access"))
		return false;
	size_t rarea, garea;
	const char *rlevel = level_of(r, rn, &rarea);
	size_t rlevel_n = rn - (rarea ? rarea + 1 : 0);
	bool r_is_read = word_eq(rlevel, rlevel_n, "read");
	bool r_is_write = word_eq(rlevel, rlevel_n, "write");
	if (!r_is_read && !r_is_write)
		return false;
	if (word_eq(g, gn, "write"))
		return true; /* write covers read, and any area's read or write */
	if (word_eq(g, gn, "read"))
		return r_is_read;
	const char *glevel = level_of(g, gn, &garea);
	size_t glevel_n = gn - (garea ? garea + 1 : 0);
	/* An area scope covers only its own area, write covering read. */
	if (!garea || garea != rarea || memcmp(g, r, garea))
		return false;
	return word_eq(glevel, glevel_n, "write") && r_is_read;
}

/* Calls back over the words of a space-separated set; stops when fn returns false. */
static bool each_word(const char *set, bool (*fn)(const char *w, size_t n, const void *ctx), const void *ctx)
{
	const char *p = set;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		size_t n = strcspn(p, " ");
		if (!fn(p, n, ctx))
			return false;
		p += n;
	}
	return true;
}

struct want {
	const char *r;
	size_t rn;
	bool found;
};

static bool covers_cb(const char *w, size_t n, const void *ctx)
{
	struct want *want = (struct want *)ctx;
	if (one_covers(w, n, want->r, want->rn)) {
		want->found = true;
		return false;
	}
	return true;
}

static bool allows_n(const char *granted, const char *r, size_t rn)
{
	if (!granted)
		return true;
	struct want w = {r, rn, false};
	each_word(granted, covers_cb, &w);
	return w.found;
}

bool scope_allows(const char *granted, const char *required)
{
	if (!required || !*required)
		return true;
	return allows_n(granted, required, strlen(required));
}

static bool subset_cb(const char *w, size_t n, const void *ctx)
{
	return allows_n((const char *)ctx, w, n);
}

bool scope_subset(const char *requested, const char *granted)
{
	if (!granted)
		return true;
	return each_word(requested ? requested : "", subset_cb, granted);
}

char *scope_normalise(struct arena *a, const char *set, const char **bad)
{
	size_t len = strlen(set);
	char *out = arena_alloc(a, len + 1), *o = out;
	const char *p = set;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		size_t n = strcspn(p, " ");
		char *w = arena_strndup(a, p, n);
		if (!scope_known(w)) {
			if (bad)
				*bad = w;
			return NULL;
		}
		/* Skip a duplicate already written. */
		bool dup = false;
		for (const char *q = out; q < o;) {
			size_t qn = strcspn(q, " ");
			if (qn == n && !memcmp(q, w, n))
				dup = true;
			q += qn + (q[qn] == ' ');
		}
		if (!dup) {
			if (o != out)
				*o++ = ' ';
			memcpy(o, w, n);
			o += n;
		}
		p += n;
	}
	*o = '\0';
	return out;
}

static const char *check_array(struct json_object *v, bool allow_offline)
{
	size_t n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(v, i);
		if (!json_object_is_type(it, json_type_string) || !scope_known(json_object_get_string(it)))
			return "must list known scopes (read, write, admin, integrations:read, ...)";
		if (!allow_offline && !strcmp(json_object_get_string(it), "offline_access"))
			return "offline_access is for OAuth clients, not API keys";
		for (size_t j = 0; j < i; j++)
			if (!strcmp(json_object_get_string(it),
				    json_object_get_string(json_object_array_get_idx(v, j))))
				return "must not repeat a scope";
	}
	return NULL;
}

const char *check_scope_array(struct json_object *v)
{
	return check_array(v, true);
}

const char *check_scope_array_key(struct json_object *v)
{
	return check_array(v, false);
}

char *scope_join(struct arena *a, struct json_object *array)
{
	char *out = arena_strdup(a, "");
	size_t n = array ? json_object_array_length(array) : 0;
	for (size_t i = 0; i < n; i++)
		out = arena_printf(a, "%s%s%s", out, i ? " " : "",
				   json_object_get_string(json_object_array_get_idx(array, i)));
	return out;
}

bool scope_has(const char *set, const char *word)
{
	size_t n = strlen(word);
	if (!set || !n)
		return false;
	for (const char *p = set; (p = strstr(p, word)); p += n)
		if ((p == set || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

char *scope_without(struct arena *a, const char *set, const char *word)
{
	char *out = arena_strdup(a, ""), *copy = arena_strdup(a, set ? set : ""), *save = NULL;
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (strcmp(w, word))
			out = arena_printf(a, "%s%s%s", out, *out ? " " : "", w);
	return out;
}
