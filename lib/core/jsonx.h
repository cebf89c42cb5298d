/* Small json-c conveniences shared by handlers. */
#ifndef SB_JSONX_H
#define SB_JSONX_H

#include <json-c/json.h>

/* Arena cleanup that drops one reference to a json_object (see arena_defer). */
void jsonx_put(void *obj);

/* A JSON string, or JSON null when s is NULL. */
struct json_object *jsonx_string_or_null(const char *s);
/* A duration in milliseconds, serialised with two decimals; JSON null when ms < 0. */
struct json_object *jsonx_ms(double ms);

/* The string member name of obj, or NULL when absent or not a string. */
const char *jsonx_get_string(struct json_object *obj, const char *name);
/* The boolean member, or def when absent or not a boolean. */
int jsonx_get_bool(struct json_object *obj, const char *name, int def);

#endif
