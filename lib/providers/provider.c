/* The provider registry and catalog; see provider.h. */
#include "provider.h"

#include <json-c/json.h>
#include <string.h>

#include "validate.h"

extern const struct provider provider_mqtt;

static const struct provider *const registry[] = {
	&provider_mqtt,
};

const struct provider *provider_find(const char *name)
{
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

const struct provider *const *provider_all(unsigned *n)
{
	*n = sizeof(registry) / sizeof(registry[0]);
	return registry;
}

const char *provider_auth_name(enum provider_auth a)
{
	static const char *const names[PROVIDER_AUTH__MAX] = {
		[PROVIDER_AUTH_CONFIG] = "config", [PROVIDER_AUTH_OAUTH2] = "oauth2", [PROVIDER_AUTH_API_KEY] = "api_key"};
	return a < PROVIDER_AUTH__MAX ? names[a] : "unknown";
}

static const char *field_type_name(enum field_type t)
{
	static const char *const names[FIELD_TYPE__MAX] = {[FIELD_STRING] = "string", [FIELD_INT] = "integer",
							   [FIELD_BOOL] = "boolean", [FIELD_OBJECT] = "object",
							   [FIELD_ARRAY] = "array"};
	return t < FIELD_TYPE__MAX ? names[t] : "unknown";
}

static bool is_secret(const struct provider *p, const char *name)
{
	for (const char *const *s = p->secret_fields; s && *s; s++)
		if (!strcmp(*s, name))
			return true;
	return false;
}

struct json_object *provider_catalog_entry(const struct provider *p)
{
	struct json_object *e = json_object_new_object(), *fields = json_object_new_array();
	json_object_object_add(e, "provider", json_object_new_string(p->name));
	json_object_object_add(e, "name", json_object_new_string(p->display_name));
	json_object_object_add(e, "description", json_object_new_string(p->description));
	json_object_object_add(e, "auth_type", json_object_new_string(provider_auth_name(p->auth)));
	json_object_object_add(e, "available", json_object_new_boolean(1));
	for (const struct field *f = p->config_fields; f && f->name; f++) {
		struct json_object *fo = json_object_new_object();
		json_object_object_add(fo, "name", json_object_new_string(f->name));
		json_object_object_add(fo, "type", json_object_new_string(field_type_name(f->type)));
		json_object_object_add(fo, "required", json_object_new_boolean(f->required));
		json_object_object_add(fo, "secret", json_object_new_boolean(is_secret(p, f->name)));
		if (f->type == FIELD_STRING && f->max)
			json_object_object_add(fo, "max_length", json_object_new_int64(f->max));
		json_object_array_add(fields, fo);
	}
	json_object_object_add(e, "config_fields", fields);
	if (p->catalog)
		p->catalog(e);
	return e;
}
