/* The provider registry and catalog; see provider.h. */
#include "integrations/providers/provider.h"

#include <json-c/json.h>
#include <string.h>

#include "core/validate.h"
#include "oauth/oauth_client.h"

/* The registry: one line per provider file. */
extern const struct provider provider_mqtt;
extern const struct provider provider_arduino_cloud;
extern const struct provider provider_blynk;
extern const struct provider provider_s3;
extern const struct provider provider_azure_blob;
extern const struct provider provider_smtp;
extern const struct provider provider_sendgrid;
extern const struct provider provider_ses;
extern const struct provider provider_twilio;
extern const struct provider provider_sns;
extern const struct provider provider_thingsboard;
extern const struct provider provider_github;
extern const struct provider provider_google;
extern const struct provider provider_microsoft;

/* Providers that are C code only. */
static const struct provider *const builtin[] = {
	&provider_mqtt,
	&provider_arduino_cloud,
	&provider_blynk,
	&provider_s3,
	&provider_azure_blob,
	&provider_smtp,
	&provider_sendgrid,
	&provider_ses,
	&provider_twilio,
	&provider_sns,
	&provider_thingsboard,
};
/* Providers-file (OAuth2) entries with C beyond the generic OAuth2 ops: found by name,
 * the members they set replace the generic ones. */
static const struct provider *const oauth_special[] = {
	&provider_github,
	&provider_google,
	&provider_microsoft,
};
#define NBUILTIN  (sizeof(builtin) / sizeof(builtin[0]))
#define MAX_OAUTH 64

/* Built-in providers first, then one per providers-file entry. */
static const struct provider *registry[NBUILTIN + MAX_OAUTH];
static struct provider oauth_wrappers[MAX_OAUTH];
static unsigned nregistry;

static void registry_builtin(void)
{
	if (nregistry)
		return;
	for (size_t i = 0; i < NBUILTIN; i++)
		registry[nregistry++] = builtin[i];
}

int provider_registry_init(void)
{
	if (oauth_providers_load())
		return -1;
	nregistry = 0;
	registry_builtin();
	const struct oauth_provider *op;
	for (unsigned i = 0; i < MAX_OAUTH && (op = oauth_provider_at(i)); i++) {
		if (provider_find(op->name))
			continue; /* a built-in name wins */
		const struct provider *special = NULL;
		for (size_t k = 0; k < sizeof(oauth_special) / sizeof(oauth_special[0]); k++)
			if (!strcmp(oauth_special[k]->name, op->name))
				special = oauth_special[k];
		provider_oauth_fill(&oauth_wrappers[i], op, special);
		registry[nregistry++] = &oauth_wrappers[i];
	}
	return 0;
}

const struct provider *provider_find(const char *name)
{
	registry_builtin();
	for (unsigned i = 0; name && i < nregistry; i++)
		if (!strcmp(registry[i]->name, name) || (registry[i]->url_name && !strcmp(registry[i]->url_name, name)))
			return registry[i];
	return NULL;
}

const struct provider *const *provider_all(unsigned *n)
{
	registry_builtin();
	*n = nregistry;
	return registry;
}

const char *provider_auth_name(enum provider_auth a)
{
	static const char *const names[PROVIDER_AUTH__MAX] = {[PROVIDER_AUTH_CONFIG] = "config",
							      [PROVIDER_AUTH_OAUTH2] = "oauth2",
							      [PROVIDER_AUTH_API_KEY] = "api_key"};
	return a < PROVIDER_AUTH__MAX ? names[a] : "unknown";
}

static const char *field_type_name(enum field_type t)
{
	static const char *const names[FIELD_TYPE__MAX] = {[FIELD_STRING] = "string",
							   [FIELD_INT] = "integer",
							   [FIELD_BOOL] = "boolean",
							   [FIELD_OBJECT] = "object",
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
	json_object_object_add(e, "available", json_object_new_boolean(!p->available || p->available(p)));
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
	/* The provider's own operations (POST .../{provider}/{action}), so a frontend can
	 * offer "test" and the like without knowing the provider. */
	struct json_object *actions = json_object_new_array();
	for (const struct provider_action *x = p->actions; x && x->name; x++)
		if (!x->method)
			json_object_array_add(actions, json_object_new_string(x->name));
	json_object_object_add(e, "actions", actions);
	if (p->catalog)
		p->catalog(e);
	return e;
}

const struct provider_action *provider_action_find(const struct provider *p, const char *name)
{
	for (const struct provider_action *x = p->actions; x && x->name && name; x++)
		if (!strcmp(x->name, name))
			return x;
	return NULL;
}
