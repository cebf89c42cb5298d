/* OAuth2 providers from the providers file, behind the provider framework: the catalog
 * entry, availability, and the OAuthIntegrationResponse view (spec 000). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "integrations/integration.h"
#include "integrations/providers/provider.h"
#include "oauth/oauth_client.h"

struct json_object *github_view(struct arena *a, const struct integration *row);

static bool oauth_available(const struct provider *p)
{
	return oauth_provider_available(p->oauth);
}

static void oauth_catalog(struct json_object *entry)
{
	const char *name = jsonx_get_string(entry, "provider");
	const struct oauth_provider *op = oauth_provider_find(name);
	if (!op)
		return;
	json_object_object_add(entry, "scopes", oauth_scope_list(op->scopes));
	json_object_object_add(entry, "supports_refresh", json_object_new_boolean(op->refresh));
	json_object_object_add(entry, "supports_revocation", json_object_new_boolean(op->revoke != OAUTH_REVOKE_NONE));
	json_object_object_add(entry, "sign_in", json_object_new_boolean(op->sign_in));
	char buf[128];
	snprintf(buf, sizeof(buf), "/api/v1/auth/%s/connect", op->name);
	json_object_object_add(entry, "connect_url", json_object_new_string(buf));
}

struct json_object *oauth_row_scopes(const struct integration *row)
{
	struct json_object *s;
	if (row->metadata && json_object_object_get_ex(row->metadata, "scopes", &s) &&
	    json_object_is_type(s, json_type_array))
		return json_object_get(s);
	return json_object_new_array();
}

const char *oauth_row_profile(const struct integration *row, const char *field)
{
	struct json_object *prof;
	if (!row->metadata || !json_object_object_get_ex(row->metadata, "profile", &prof))
		return NULL;
	return jsonx_get_string(prof, field);
}

bool oauth_row_connected(const struct integration *row)
{
	return row->access_token && row->status &&
	       (!strcmp(row->status, "active") || !strcmp(row->status, "connected"));
}

struct json_object *oauth_view(struct arena *a, const struct integration *row)
{
	(void)a;
	struct json_object *v = json_object_new_object();
	json_object_object_add(v, "provider", json_object_new_string(row->provider));
	json_object_object_add(v, "connected", json_object_new_boolean(oauth_row_connected(row)));
	json_object_object_add(v, "username", jsonx_string_or_null(oauth_row_profile(row, "username")));
	json_object_object_add(v, "email", jsonx_string_or_null(oauth_row_profile(row, "email")));
	json_object_object_add(v, "name", jsonx_string_or_null(oauth_row_profile(row, "name")));
	json_object_object_add(v, "avatar_url", jsonx_string_or_null(oauth_row_profile(row, "avatar_url")));
	json_object_object_add(v, "connected_at", jsonx_string_or_null(row->connected_at));
	json_object_object_add(v, "scopes", oauth_row_scopes(row));
	json_object_object_add(v, "enabled", json_object_new_boolean(row->enabled));
	json_object_object_add(v, "status", jsonx_string_or_null(row->status));
	json_object_object_add(v, "last_error", jsonx_string_or_null(row->last_error));
	json_object_object_add(v, "token_expires_at", jsonx_string_or_null(row->token_expires_at));
	json_object_object_add(v, "last_used_at", jsonx_string_or_null(row->last_used_at));
	return v;
}

static const char *describe(const struct oauth_provider *op)
{
	if (!strcmp(op->name, "github"))
		return "Back up and version projects in your GitHub repositories; sign in with GitHub";
	if (!strcmp(op->name, "google"))
		return "Export projects to Google Drive; sign in with Google";
	return "Connect your account through OAuth2";
}

void provider_oauth_fill(struct provider *out, const struct oauth_provider *op)
{
	memset(out, 0, sizeof(*out));
	out->name = op->name;
	out->display_name = op->display_name;
	out->description = describe(op);
	out->auth = PROVIDER_AUTH_OAUTH2;
	out->view = !strcmp(op->name, "github") ? github_view : oauth_view;
	out->catalog = oauth_catalog;
	out->oauth = op;
	out->available = oauth_available;
}
