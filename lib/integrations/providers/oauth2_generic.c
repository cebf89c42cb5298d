/* OAuth2 providers from the providers file, behind the provider framework: the catalog
 * entry, availability, the OAuthIntegrationResponse view (spec 000), health, forced
 * refresh and disconnect with revocation. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "events/audit.h"
#include "integrations/integration.h"
#include "integrations/integration_events.h"
#include "integrations/integration_ops.h"
#include "integrations/oauth_token.h"
#include "integrations/providers/provider.h"
#include "oauth/oauth_client.h"

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

/* The token (refreshed when due, as who) and a profile call with it. */
static void oauth_health(struct arena *a, const struct actor *who, const struct provider *p,
			 const struct integration *row, struct provider_health *o)
{
	struct oauth_token_use use;
	enum oauth_token_status st = oauth_token_get(a, who, row->provider, false, &use);
	if (st == OAUTH_TOKEN_SECRET) {
		o->secret_failed = true;
		return;
	}
	if (st == OAUTH_TOKEN_EXPIRED || st == OAUTH_TOKEN_NO_REFRESH) {
		o->status = "expired";
		o->error = use.reason ? use.reason : "the provider refused to renew access: reconnect";
		return;
	}
	if (st != OAUTH_TOKEN_OK) {
		o->status = "error";
		o->error = use.reason ? use.reason : "the token could not be used";
		return;
	}
	struct json_object *profile;
	const char *reason = NULL;
	int http;
	if (oauth_fetch_profile(a, p->oauth, use.access_token, &profile, &reason, &http) != OAUTH_OK) {
		o->status = "error";
		o->error = reason ? reason : "the provider's profile endpoint did not answer";
		return;
	}
	o->status = "active";
}

/* 200 {provider, refreshed, token_expires_at, status}: a refresh now, whatever the expiry. */
static int oauth_refresh_now(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct oauth_token_use use;
	enum oauth_token_status st = oauth_token_get(c->a, c->who, p->name, true, &use);
	if (st != OAUTH_TOKEN_OK)
		return provider_token_failure(c->a, r, st, &use);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "provider", json_object_new_string(p->name));
	json_object_object_add(d, "refreshed", json_object_new_boolean(use.refreshed));
	json_object_object_add(d, "token_expires_at", jsonx_string_or_null(use.expires_at));
	json_object_object_add(d, "status", json_object_new_string("active"));
	return provider_ok(r, d, use.refreshed ? "Token refreshed" : "Token already renewed by another request");
}

/* Revokes the row's token at the provider when it offers revocation: true when done,
 * else false with *error (NULL when there was nothing to revoke). */
static bool revoke(struct arena *a, const struct provider *p, const struct integration *row, const char **error)
{
	const struct oauth_provider *op = p->oauth;
	*error = NULL;
	if (op->revoke == OAUTH_REVOKE_NONE || !row->access_token)
		return false;
	/* An RFC 7009 server ends the whole grant when given the refresh token. */
	bool use_refresh = op->revoke == OAUTH_REVOKE_RFC7009 && row->refresh_token;
	const char *col = use_refresh ? "refresh_token" : "access_token";
	char *token;
	bool revoked = false;
	if (crypto_open(a, use_refresh ? row->refresh_token : row->access_token,
			integration_token_aad(a, row->user_id, p->name, col), &token, NULL))
		*error = "the stored token could not be decrypted";
	else if (oauth_revoke_token(a, op, token, error) == OAUTH_OK) {
		revoked = true;
		*error = NULL;
	}
	if (*error)
		log_msg(LOG_WARN, "revocation at %s failed: %s", p->name, *error);
	return revoked;
}

/* Revocation at the provider when it offers it, then the row goes: a provider that
 * cannot be reached does not keep the user connected; the answer says revoked: false
 * with the reason. */
static int oauth_disconnect(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct integration row;
	if (integration_load_or_fail(c, p->name, &row, r))
		return r->outcome;
	const char *revoke_error;
	bool revoked = revoke(c->a, p, &row, &revoke_error), deleted;
	enum db_status s = db_begin(c->a);
	if (s == DB_OK)
		s = integration_delete(c->a, c->user_id, p->name, &deleted);
	if (s == DB_OK && deleted) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "revoked", json_object_new_boolean(revoked));
		if (revoke_error)
			json_object_object_add(d, "revoke_error", json_object_new_string(revoke_error));
		s = audit_record(c->a, c->who, "integration.disconnected", p->name, d);
	}
	if (s == DB_OK && deleted)
		s = integration_event_disconnected(c->a, c->user_id, p->name, revoked);
	if (s == DB_OK && deleted && p->forget)
		s = p->forget(c->a, c->user_id);
	if (s == DB_OK)
		s = deleted ? db_commit(c->a) : (db_rollback(c->a), DB_OK);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (!deleted)
		return provider_not_configured(r);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "provider", json_object_new_string(p->name));
	json_object_object_add(d, "revoked", json_object_new_boolean(revoked));
	json_object_object_add(
		d, "revocation_supported",
		json_object_new_boolean(((const struct oauth_provider *)p->oauth)->revoke != OAUTH_REVOKE_NONE));
	json_object_object_add(d, "revoke_error", jsonx_string_or_null(revoke_error));
	return provider_ok(r, d, "Integration removed");
}

/* A member of special when it sets one, else the generic. */
#define PICK(m, generic) (special && special->m ? special->m : (generic))

void provider_oauth_fill(struct provider *out, const struct oauth_provider *op, const struct provider *special)
{
	memset(out, 0, sizeof(*out));
	out->name = op->name;
	out->display_name = op->display_name;
	out->description = PICK(description, "Connect your account through OAuth2");
	out->auth = PROVIDER_AUTH_OAUTH2;
	out->view = PICK(view, oauth_view);
	out->catalog = oauth_catalog;
	out->oauth = op;
	out->available = oauth_available;
	out->health = PICK(health, oauth_health);
	out->get = PICK(get, NULL);
	out->del = PICK(del, oauth_disconnect);
	out->refresh = PICK(refresh, oauth_refresh_now);
	out->settings = PICK(settings, NULL);
	out->forget = PICK(forget, NULL);
	out->actions = PICK(actions, NULL);
}
