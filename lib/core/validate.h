/* Input validation declared as data: a table of fields checked once, every failing
 * field reported at once as {name: message}. */
#ifndef SB_VALIDATE_H
#define SB_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

enum field_type { FIELD_STRING, FIELD_INT, FIELD_BOOL, FIELD_OBJECT, FIELD_ARRAY, FIELD_TYPE__MAX };

/* A check returns NULL when the value is acceptable, else the message to report. */
typedef const char *(*field_check)(struct json_object *value);

struct field {
	const char *name;
	enum field_type type;
	bool required;
	long min, max;	   /* string: length in characters; int: value; array: items. 0,0 = no bound */
	field_check check; /* optional, runs after type and bounds */
};

/* Checks obj (a JSON object) against the NULL-name-terminated table. Returns the number
 * of failing fields; when non-zero, *errors receives a new object {field: message}
 * owned by the caller. Strings must be valid UTF-8 without NUL characters. */
int validate_object(struct json_object *obj, const struct field *fields, struct json_object **errors);

/* Adds "unknown field" to *errors (created when NULL, owned by the caller) for each
 * member of obj named in none of the NULL-terminated list of field tables (a NULL list
 * declares no field at all). Returns the number of unknown members. Only the names of
 * the tables are read: a typo such as "expires_in_day" is refused instead of ignored. */
int validate_unknown(struct json_object *obj, const struct field *const *tables, struct json_object **errors);

/* Reusable checks. */
const char *check_email(struct json_object *v);
const char *check_not_blank(struct json_object *v);
/* A string without control characters (below 0x20, and DEL). */
const char *check_printable(struct json_object *v);
/* The same test on plain text, with tab allowed when allow_tab. */
bool text_printable(const char *s, bool allow_tab);
/* True when s is a UUID in its 8-4-4-4-12 hex form (either case). */
bool text_is_uuid(const char *s);

/* Number of UTF-8 characters in s[0..n), or -1 when s is not valid UTF-8. */
long utf8_length(const char *s, size_t n);

struct arena;
/* A copy of s[0..n) that is valid UTF-8 text for PostgreSQL: invalid bytes and NUL
 * become U+FFFD, a sequence cut off at the end (a truncated buffer) is dropped. */
char *utf8_sanitize(struct arena *a, const char *s, size_t n);

/* Parses a decimal query parameter: def when s is NULL; -1 return when it is not an
 * integer within [min, max], 0 otherwise with *out set. */
int validate_query_int(const char *s, long def, long min, long max, long *out);

/* NULL when s is an RFC 3339 date-time with a zone (2026-01-15T10:30:00Z, a fraction of
 * up to 9 digits, Z or +hh:mm / -hh:mm) naming a real calendar day and time; else the
 * message to report. PostgreSQL's timestamptz accepts every string this accepts. */
const char *validate_rfc3339(const char *s);

#endif
