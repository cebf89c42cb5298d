/* OAuth connections; see oauth_connection.h. */
#include "integrations/oauth_connection.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "events/audit.h"
#include "integrations/integration.h"
#include "integrations/integration_events.h"
#include "oauth/oauth_client.h"

enum db_status oauth_connection_store(struct arena *a, const struct actor *who, const struct oauth_provider *p,
				      const struct oauth_tokens *t, struct json_object *profile, bool *reconnected)
{
	const char *user_id = who->user_id;
	char *access, *refresh = NULL;
	if (crypto_seal(a, t->access_token, strlen(t->access_token),
			integration_token_aad(a, user_id, p->name, "access_token"), &access) ||
	    (t->refresh_token && crypto_seal(a, t->refresh_token, strlen(t->refresh_token),
					     integration_token_aad(a, user_id, p->name, "refresh_token"), &refresh)))
		return DB_ERROR;
	struct json_object *meta = arena_defer(a, jsonx_put, json_object_new_object());
	json_object_object_add(meta, "profile", json_object_get(profile));
	json_object_object_add(meta, "scopes", oauth_scope_list(t->scope ? t->scope : p->scopes));
	json_object_object_add(meta, "token_type", jsonx_string_or_null(t->token_type));
	char expires_in[24];
	snprintf(expires_in, sizeof(expires_in), "%ld", t->expires_in);
	const char *params[] = {user_id, p->name, json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PLAIN),
				access,	 refresh, expires_in};
	PGresult *res;
	enum db_status s = db_exec(
		a, &res,
		"INSERT INTO user_integrations AS ui (user_id, provider, enabled, metadata, access_token, "
		"refresh_token, "
		"token_expires_at, status, connected_at, last_used_at) "
		"VALUES ($1, $2, true, $3::jsonb, $4, $5, "
		"CASE WHEN $6::bigint > 0 THEN now() + make_interval(secs => $6::bigint) END, 'active', now(), now()) "
		"ON CONFLICT (user_id, provider) DO UPDATE SET enabled = true, metadata = EXCLUDED.metadata, "
		"access_token = EXCLUDED.access_token, refresh_token = EXCLUDED.refresh_token, "
		"token_expires_at = EXCLUDED.token_expires_at, status = 'active', last_error = NULL, "
		"connected_at = now(), last_used_at = now(), updated_at = now() "
		"RETURNING (xmax <> 0)",
		6, params);
	if (s != DB_OK)
		return s;
	*reconnected = PQgetvalue(res, 0, 0)[0] == 't';
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "account", jsonx_string_or_null(jsonx_get_string(profile, "username")));
	json_object_object_add(d, "scopes", oauth_scope_list(t->scope ? t->scope : p->scopes));
	json_object_object_add(d, "reconnected", json_object_new_boolean(*reconnected));
	s = audit_record(a, who, "integration.connected", p->name, d);
	if (s != DB_OK)
		return s;
	struct json_object *scopes = arena_defer(a, jsonx_put, oauth_scope_list(t->scope ? t->scope : p->scopes));
	return integration_event_connected(a, user_id, p->name, "active", jsonx_get_string(profile, "username"),
					   scopes);
}
