/* json-c conveniences; see jsonx.h. */
#include "core/jsonx.h"

#include <stdio.h>

void jsonx_put(void *obj)
{
	json_object_put(obj);
}

struct json_object *jsonx_string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

struct json_object *jsonx_ms(double ms)
{
	char buf[32];
	if (ms < 0)
		return NULL;
	snprintf(buf, sizeof(buf), "%.2f", ms);
	return json_object_new_double_s(ms, buf);
}

const char *jsonx_get_string(struct json_object *obj, const char *name)
{
	struct json_object *v;
	if (!obj || !json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int jsonx_get_bool(struct json_object *obj, const char *name, int def)
{
	struct json_object *v;
	if (!obj || !json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_boolean))
		return def;
	return json_object_get_boolean(v);
}
