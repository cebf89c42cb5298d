/* URL and form encoding (RFC 3986 unreserved set, application/x-www-form-urlencoded)
 * for building authorization URLs, token requests and query strings. */
#ifndef SB_URLENC_H
#define SB_URLENC_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* Percent-encodes every byte of s outside ALPHA / DIGIT / "-" / "." / "_" / "~"
 * (so a space is %20). The result is in the arena. */
char *url_encode(struct arena *a, const char *s);

/* A growing "name=value&name=value" string, each part percent-encoded. */
struct form {
	struct arena *arena;
	char *text; /* NUL-terminated, "" when empty; owned by the arena */
};

void form_init(struct form *f, struct arena *a);
/* Appends name=value; value NULL is skipped (optional parameters). */
void form_add(struct form *f, const char *name, const char *value);

/* base_url with the form appended as its query: '?' or '&' as base_url needs. */
char *url_with_query(struct arena *a, const char *base_url, const struct form *f);

/* Decodes one application/x-www-form-urlencoded body into the value of name ('+' is a
 * space), or NULL when absent or malformed. Used for token responses that come back as
 * a form (GitHub without Accept: application/json). */
char *form_get(struct arena *a, const char *body, const char *name);

/* Decodes %XX escapes (and '+' as space when plus_is_space) of s[0..n) into the arena.
 * Returns NULL for a malformed escape or an encoded NUL. */
char *url_decode(struct arena *a, const char *s, size_t n, bool plus_is_space);

#endif
