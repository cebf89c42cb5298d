/* Arduino Cloud's operations: PUT exchanges the client credentials for a token before
 * anything is saved; GET shows the saved integration with its devices and things, live;
 * refresh-token is a new client_credentials exchange (there is no refresh token). */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "events/audit.h"
#include "integrations/integration_events.h"
#include "integrations/integration_ops.h"
#include "integrations/providers/arduino.h"
#include "integrations/providers/provider.h"

#define PROVIDER "arduino_cloud"

/* devices and things from Arduino with token, or devices_error (and empty lists);
 * without a token and without token_error (disabled), empty lists. Returns the outcome
 * of the lists (ARDUINO_REFUSED when Arduino refused the token). */
static enum arduino_result add_live(struct arena *a, struct json_object *v, const char *token, const char *org,
				    const char *token_error)
{
	struct json_object *devices = NULL, *things = NULL;
	const char *reason = token_error;
	int hs = 0;
	enum arduino_result r = ARDUINO_UNAVAILABLE;
	if (token && (r = arduino_list(a, token, org, "devices", &devices, &reason, &hs)) == ARDUINO_OK)
		r = arduino_list(a, token, org, "things", &things, &reason, &hs);
	json_object_object_del(v, "devices_error");
	if (devices && things) {
		json_object_object_add(v, "devices", devices);
		json_object_object_add(v, "things", things);
		return ARDUINO_OK;
	}
	json_object_put(devices);
	json_object_object_add(v, "devices", json_object_new_array());
	json_object_object_add(v, "things", json_object_new_array());
	if (token || token_error)
		json_object_object_add(v, "devices_error",
				       json_object_new_string(reason ? reason : "Arduino Cloud could not be reached"));
	return r;
}

static int secret_failed(struct provider_result *r)
{
	return provider_secret(r, "A stored secret could not be decrypted; save the integration again");
}

/* The view with devices and things; when Arduino Cloud cannot be reached the view still
 * answers, with devices_error. */
int arduino_get(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct integration row;
	if (integration_load_or_fail(c, PROVIDER, &row, r))
		return r->outcome;
	if (!row.enabled) {
		struct json_object *v = p->view(c->a, &row);
		add_live(c->a, v, NULL, NULL, NULL);
		return provider_ok(r, v, NULL);
	}
	struct arduino_token t;
	enum arduino_result ar = arduino_row_token(c->a, &row, &t);
	if (ar == ARDUINO_DB)
		return provider_db(c->a, r, DB_UNAVAILABLE);
	if (ar == ARDUINO_SECRET)
		return secret_failed(r);
	/* A new token may have been stored: show the row as it is now. */
	if (integration_load_or_fail(c, PROVIDER, &row, r))
		return r->outcome;
	struct json_object *v = p->view(c->a, &row);
	const char *org = arduino_row_org(&row);
	if (add_live(c->a, v, ar == ARDUINO_OK ? t.access_token : NULL, org, t.reason) == ARDUINO_REFUSED) {
		/* Refused before its expiry (revoked at Arduino): exchange once more. */
		if (arduino_forget_token(c->a, c->user_id)) {
			json_object_put(v);
			return provider_db(c->a, r, DB_UNAVAILABLE);
		}
		ar = arduino_row_token(c->a, &row, &t);
		if (ar == ARDUINO_SECRET) {
			json_object_put(v);
			return secret_failed(r);
		}
		add_live(c->a, v, ar == ARDUINO_OK ? t.access_token : NULL, org, ar == ARDUINO_OK ? NULL : t.reason);
	}
	return provider_ok(r, v, NULL);
}

/* The client secret to exchange: the body's, or the stored one (*kept_sealed set) when
 * the body leaves it out. 0, or the outcome filled in *r. */
static int put_secret(const struct provider_call *c, const struct integration *prev, const char **secret,
		      const char **kept_sealed, struct provider_result *r)
{
	*secret = jsonx_get_string(c->body, "client_secret");
	*kept_sealed = NULL;
	if (*secret)
		return 0;
	char *stored = NULL;
	int o = prev ? integration_open(c->a, prev->config, c->user_id, PROVIDER, "client_secret", &stored) : 0;
	if (o < 0)
		return provider_secret(r, "The stored client secret could not be decrypted; send it again");
	if (o == 0)
		return provider_invalid_field(r, "client_secret", "is required");
	*secret = stored;
	*kept_sealed = jsonx_get_string(prev->config, "client_secret_encrypted");
	return 0;
}

static int exchange_failed(enum arduino_result ar, const struct arduino_token *t, struct provider_result *r)
{
	if (ar == ARDUINO_REFUSED)
		return provider_invalid_field(r, "client_secret",
					      "Arduino Cloud refused these credentials (check client_id and "
					      "client_secret)");
	return provider_upstream(r, t->http_status, t->reason);
}

/* Saves config with the exchanged token, in one transaction. */
static enum db_status put_save(const struct provider_call *c, struct json_object *config, bool enabled,
			       const struct arduino_token *t, bool *internal)
{
	struct integration prev, saved;
	bool found;
	*internal = false;
	enum db_status s = db_begin(c->a);
	if (s == DB_OK)
		s = integration_lock(c->a, c->user_id, PROVIDER, &prev, &found);
	if (s == DB_OK)
		s = integration_upsert_config(c->a, c->user_id, PROVIDER, enabled, config, "active", &saved);
	if (s == DB_OK) {
		int st = arduino_store_token(c->a, c->user_id, t->access_token, t->expires_in);
		*internal = st == -1;
		s = st ? DB_UNAVAILABLE : DB_OK;
	}
	if (s == DB_OK)
		s = integration_mark_connected(c->a, c->user_id, PROVIDER, !found);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "enabled", json_object_new_boolean(enabled));
		json_object_object_add(d, "client_id", jsonx_string_or_null(jsonx_get_string(config, "client_id")));
		s = integration_saved(c->a, c->who, &saved, !found, d);
	}
	return db_finish(c->a, s);
}

/* The credentials are exchanged for a token first; nothing is saved when that fails. */
int arduino_put(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct json_object *errors = NULL;
	if (validate_object(c->body, p->config_fields, &errors))
		return provider_invalid(r, errors);
	const char *client_id = jsonx_get_string(c->body, "client_id"), *secret, *kept_sealed;
	const char *org = jsonx_get_string(c->body, "organization_id");
	bool enabled = jsonx_get_bool(c->body, "enabled", 1), found;
	struct integration prev;
	enum db_status s = integration_load(c->a, c->user_id, PROVIDER, false, &prev, &found);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (put_secret(c, found ? &prev : NULL, &secret, &kept_sealed, r))
		return r->outcome;
	/* No transaction is open while Arduino is reached. */
	struct arduino_token t;
	enum arduino_result ar = arduino_exchange(c->a, client_id, secret, org, &t);
	if (ar != ARDUINO_OK)
		return exchange_failed(ar, &t, r);
	struct json_object *config = arena_defer(c->a, jsonx_put, json_object_new_object());
	json_object_object_add(config, "client_id", json_object_new_string(client_id));
	if (org)
		json_object_object_add(config, "organization_id", json_object_new_string(org));
	if (kept_sealed)
		json_object_object_add(config, "client_secret_encrypted", json_object_new_string(kept_sealed));
	else if (integration_seal(c->a, config, c->user_id, PROVIDER, "client_secret", secret))
		return provider_fail(r, PROVIDER_INTERNAL, "internal_error", "Internal error");
	bool internal;
	s = put_save(c, config, enabled, &t, &internal);
	if (internal)
		return provider_fail(r, PROVIDER_INTERNAL, "internal_error", "Internal error");
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	struct integration saved;
	if (integration_load_or_fail(c, PROVIDER, &saved, r))
		return provider_db(c->a, r, r->outcome == PROVIDER_DB ? r->db : DB_UNAVAILABLE);
	struct json_object *v = p->view(c->a, &saved);
	add_live(c->a, v, enabled ? t.access_token : NULL, org, NULL);
	return provider_ok(r, v, "Configuration saved");
}

/* Stores the exchanged token with its audit entry and event. */
static enum db_status refresh_save(const struct provider_call *c, const struct integration *row,
				   const struct arduino_token *t, bool *internal)
{
	*internal = false;
	enum db_status s = db_begin(c->a);
	if (s == DB_OK) {
		int st = arduino_store_token(c->a, c->user_id, t->access_token, t->expires_in);
		*internal = st == -1;
		s = st ? DB_UNAVAILABLE : DB_OK;
	}
	if (s == DB_OK)
		s = audit_record(c->a, c->who, "integration.token_refreshed", PROVIDER, NULL);
	if (s == DB_OK)
		s = integration_event_token_refreshed(c->a, c->user_id, PROVIDER, row->status, NULL);
	return db_finish(c->a, s);
}

/* A forced refresh: a new exchange with the stored credentials (credentials refused:
 * conflict, and the row's status becomes error). */
int arduino_refresh(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)p;
	struct integration row;
	int rc = integration_load_or_fail(c, PROVIDER, &row, r);
	if (rc == PROVIDER_NOT_FOUND)
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "This integration is not connected");
	if (rc)
		return rc;
	const char *client_id = jsonx_get_string(row.config, "client_id");
	char *secret = NULL;
	int o = integration_open(c->a, row.config, c->user_id, PROVIDER, "client_secret", &secret);
	if (o < 0)
		return provider_secret(r,
				       "The stored client secret could not be decrypted; save the integration again");
	if (o == 0 || !client_id)
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "This integration has no saved credentials");
	struct arduino_token t;
	enum arduino_result ar = arduino_exchange(c->a, client_id, secret, arduino_row_org(&row), &t);
	if (ar == ARDUINO_REFUSED) {
		enum db_status s = integration_record_check(c->a, c->user_id, PROVIDER, "error", t.reason, false);
		if (s != DB_OK)
			return provider_db(c->a, r, s);
		return provider_fail(r, PROVIDER_CONFLICT, "credentials_refused",
				     "Arduino Cloud refused the saved credentials: save new ones with PUT");
	}
	if (ar != ARDUINO_OK)
		return provider_upstream(r, t.http_status, t.reason);
	bool internal;
	enum db_status s = refresh_save(c, &row, &t, &internal);
	if (internal)
		return provider_fail(r, PROVIDER_INTERNAL, "internal_error", "Internal error");
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (integration_load_or_fail(c, PROVIDER, &row, r))
		return provider_db(c->a, r, r->outcome == PROVIDER_DB ? r->db : DB_UNAVAILABLE);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "provider", json_object_new_string(PROVIDER));
	json_object_object_add(d, "refreshed", json_object_new_boolean(true));
	json_object_object_add(d, "token_expires_at", jsonx_string_or_null(row.token_expires_at));
	json_object_object_add(d, "status", jsonx_string_or_null(row.status));
	return provider_ok(r, d, "Token refreshed");
}
