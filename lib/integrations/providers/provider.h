/* The provider framework: one ops table per kind of integration (the integration-class
 * pattern of spec 004, in C). It is the only dispatch: the integrations responder has
 * one generic route set and calls the ops of the provider named in the URL; a NULL op
 * takes the default of integrations/integration_ops.c. A new provider is a new file
 * here and one line in provider.c (docs/providers.md says what the file implements). */
#ifndef SB_PROVIDER_H
#define SB_PROVIDER_H

#include <stdbool.h>

#include "integrations/providers/provider_result.h"

struct actor;
struct arena;
struct field;
struct integration;
struct json_object;
struct request;
struct oauth_provider;
struct provider;

/* An operation of a provider: fills *r (provider_result.h) and returns its outcome. */
typedef int (*provider_op)(const struct provider_call *c, const struct provider *p, struct provider_result *r);

/* POST /users/me/integrations/{provider}/{action}: a provider-specific operation. */
struct provider_action {
	const char *name;	    /* the URL segment(s) after the provider: "test", "drive/export" */
	bool body_required;	    /* false: an empty body is allowed (c->body NULL) */
	const struct field *fields; /* checked (all failing fields at once) before run; may be NULL */
	provider_op run;
	const char *method; /* NULL: POST; "GET": a read, name ending in a star segment takes c->param */
	/* Other tables whose members the body may carry (run checks them itself),
	 * NULL-terminated; NULL: none. Members in neither are refused as unknown. */
	const struct field *const *accepts;
};

enum provider_auth { PROVIDER_AUTH_CONFIG, PROVIDER_AUTH_OAUTH2, PROVIDER_AUTH_API_KEY, PROVIDER_AUTH__MAX };

/* What a health check found, in the provider's own stored status words. */
struct provider_health {
	const char *status; /* connected/active, error, expired */
	const char *error;  /* why not, or NULL */
	bool secret_failed; /* a stored secret could not be opened (status left NULL) */
};

struct provider {
	const char *name;	  /* URL segment and user_integrations.provider: "mqtt" */
	const char *url_name;	  /* another URL segment for it ("arduino-cloud"), or NULL */
	const char *display_name; /* "MQTT Broker" */
	const char *description;
	enum provider_auth auth;
	/* PUT body: the field table, then the rules across fields. */
	const struct field *config_fields;
	void (*validate)(struct json_object *body, struct json_object *errors);
	/* Rules that need the saved row (prev NULL when new), run under the row's lock just
	 * before config_build; adds {field: message} to errors. May be NULL. */
	void (*validate_saved)(struct json_object *body, const struct integration *prev, struct json_object *errors);
	/* The stored status of a configuration just saved, before any check: NULL is
	 * "pending" (the health word); MQTT says "disconnected" (spec 000's words). */
	const char *saved_status;
	/* Names of write-only fields: sealed into "<name>_encrypted", never shown. */
	const char *const *secret_fields;
	/* The saved config from a valid body and the previous row (NULL when new): keeps a
	 * stored secret the body leaves out. Secrets are sealed here. Returns 0 or -1. */
	int (*config_build)(struct arena *a, const char *user_id, struct json_object *body,
			    const struct integration *prev, struct json_object **config);
	/* The public view of a row: the provider's shape of spec 001, never a secret. */
	struct json_object *(*view)(struct arena *a, const struct integration *row);
	/* Extra catalog members (e.g. MQTT's default broker). May be NULL. */
	void (*catalog)(struct json_object *entry);
	/* OAuth2 providers: the providers-file entry (struct oauth_provider), else NULL. */
	const void *oauth;
	/* False when the operator has not configured it (listed as unavailable). NULL: always. */
	bool (*available)(const struct provider *p);
	/* Checks an enabled row now (a real connection, a token, a call) and fills *out; no
	 * transaction is open. who acts (a token refresh on the way is audited as who). */
	void (*health)(struct arena *a, const struct actor *who, const struct provider *p,
		       const struct integration *row, struct provider_health *out);
	/* GET, PUT, DELETE, PATCH /users/me/integrations/{provider} and POST
	 * .../{provider}/refresh-token. NULL: the default (integration_ops.h). */
	provider_op get, put, del, patch, refresh;
	/* Settings PATCH may change besides enabled (kept in config); NULL: none. */
	const struct field *settings;
	/* Called in DELETE's transaction after the row went: removes the provider's own rows. */
	enum db_status (*forget)(struct arena *a, const char *user_id);
	/* Provider-specific operations, NULL-name-terminated; NULL: none. */
	const struct provider_action *actions;
};

/* Loads the providers file and adds one OAuth2 provider per entry (github and google
 * with their own views). Call once per process (child_init). Returns 0 or -1. */
int provider_registry_init(void);
/* The provider called name (or whose url_name it is), or NULL. */
const struct provider *provider_find(const char *name);
/* Every provider, in catalog order; *n receives the count. */
const struct provider *const *provider_all(unsigned *n);
/* The catalog entry of p: name, display name, auth kind, config fields. */
struct json_object *provider_catalog_entry(const struct provider *p);
const char *provider_auth_name(enum provider_auth a);

/* The action of p called name, or NULL. */
const struct provider_action *provider_action_find(const struct provider *p, const char *name);

/* OAuth2 providers (oauth2_generic.c; github.c and google.c add to it). */
/* The wrapper of a providers-file entry: the generic OAuth2 ops, with the members a
 * built-in specialisation (special, may be NULL) sets replacing them. */
void provider_oauth_fill(struct provider *out, const struct oauth_provider *op, const struct provider *special);
/* The OAuthIntegrationResponse of spec 000 (+ status, username, last_error, expiry). */
struct json_object *oauth_view(struct arena *a, const struct integration *row);
/* The granted scopes and profile field of a row's metadata. */
struct json_object *oauth_row_scopes(const struct integration *row);
const char *oauth_row_profile(const struct integration *row, const char *field);
/* True when the row holds a token and its status is active. */
bool oauth_row_connected(const struct integration *row);

#endif
