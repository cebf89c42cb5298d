/* OAuth-style scopes: which scopes exist, and whether a set granted to a key or a token
 * covers the scope a route declares. A scope set is text: names separated by spaces. */
#ifndef SB_SCOPE_H
#define SB_SCOPE_H

#include <stdbool.h>

struct arena;
struct json_object;

/* Every scope a key or client may hold, NULL-terminated (for validation and RFC 8414). */
extern const char *const scope_names[];

/* True when name is one of scope_names. */
bool scope_known(const char *name);

/* True when the granted set (space-separated; NULL means "everything": a user's own JWT)
 * covers required (NULL or "" : nothing is required). The hierarchy:
 *   admin covers every scope;
 *   write covers read and every "<area>:write" and "<area>:read";
 *   read covers every "<area>:read";
 *   "<area>:write" covers "<area>:read".
 * offline_access is covered only by itself (or admin). */
bool scope_allows(const char *granted, const char *required);

/* True when every scope of the set requested is covered by granted (NULL = everything). */
bool scope_subset(const char *requested, const char *granted);

/* Normalises a space-separated set: rejects unknown names (returns NULL and, when bad is
 * not NULL, points it at a copy of the first unknown name), drops duplicates, keeps order.
 * "" or only spaces gives "". The result is in the arena. */
char *scope_normalise(struct arena *a, const char *set, const char **bad);

/* Field checks (validate.h) of a JSON array of scope names: every item a known scope
 * name, no duplicates. The _key variant refuses offline_access, which means nothing
 * without refresh tokens. */
const char *check_scope_array(struct json_object *v);
const char *check_scope_array_key(struct json_object *v);

/* True when the set (space-separated, may be NULL) names word itself: a literal member,
 * not the hierarchy (scope_has("write", "read") is false). */
bool scope_has(const char *set, const char *word);

/* The set without the member word, order kept, single spaces, in the arena. */
char *scope_without(struct arena *a, const char *set, const char *word);

/* The items of a checked JSON array of scopes joined by spaces, in the arena. */
char *scope_join(struct arena *a, struct json_object *array);

#endif
