/* Arduino Cloud: PUT exchanges the client credentials for a token before anything is
 * saved; GET shows the saved integration with its devices and things, live. */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/validate.h"
#include "db/db.h"
#include "events/audit.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"
#include "integrations/integration.h"
#include "integrations/providers/arduino.h"
#include "integrations/providers/provider.h"

#define PROVIDER "arduino_cloud"

/* devices and things from Arduino with token, or devices_error (and empty lists);
 * without a token and without token_error (disabled), empty lists. Returns the outcome
 * of the lists (ARDUINO_REFUSED when Arduino refused the token). */
static enum arduino_result add_live(struct request *rq, struct json_object *v, const char *token,
				    const char *token_error)
{
	struct json_object *devices = NULL, *things = NULL;
	const char *reason = token_error;
	int hs = 0;
	enum arduino_result r = ARDUINO_UNAVAILABLE;
	if (token && (r = arduino_list(rq->arena, token, "devices", &devices, &reason, &hs)) == ARDUINO_OK)
		r = arduino_list(rq->arena, token, "things", &things, &reason, &hs);
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

/* 200 ArduinoCloudResponse | 401 | 404 | 500 | 503
 * When Arduino Cloud cannot be reached the view still answers, with devices_error. */
int handle_arduino_get(struct request *rq, const struct provider *p)
{
	struct integration row;
	bool found;
	enum db_status s = integration_load(rq->arena, rq->user_id, PROVIDER, false, &row, &found);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!found)
		return reply_error(rq, 404, "not_found", "This integration is not configured");
	if (!row.enabled) {
		struct json_object *v = p->view(rq->arena, &row);
		add_live(rq, v, NULL, NULL);
		return reply_ok(rq, 200, v, NULL);
	}
	struct arduino_token t;
	enum arduino_result r = arduino_row_token(rq->arena, &row, &t);
	if (r == ARDUINO_DB)
		return reply_db_failure(rq, DB_UNAVAILABLE);
	if (r == ARDUINO_SECRET)
		return reply_error(rq, 500, "secret_unavailable",
				   "A stored secret could not be decrypted; save the integration again");
	/* A new token may have been stored: show the row as it is now. */
	s = integration_load(rq->arena, rq->user_id, PROVIDER, false, &row, &found);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!found)
		return reply_error(rq, 404, "not_found", "This integration is not configured");
	struct json_object *v = p->view(rq->arena, &row);
	if (add_live(rq, v, r == ARDUINO_OK ? t.access_token : NULL, t.reason) == ARDUINO_REFUSED) {
		/* Refused before its expiry (revoked at Arduino): exchange once more. */
		if (arduino_forget_token(rq->arena, rq->user_id))
			return reply_db_failure(rq, DB_UNAVAILABLE);
		r = arduino_row_token(rq->arena, &row, &t);
		if (r == ARDUINO_SECRET)
			return reply_error(rq, 500, "secret_unavailable",
					   "A stored secret could not be decrypted; save the integration again");
		add_live(rq, v, r == ARDUINO_OK ? t.access_token : NULL, r == ARDUINO_OK ? NULL : t.reason);
	}
	return reply_ok(rq, 200, v, NULL);
}

/* 200 view (saved, with devices and things) | 400 | 401 | 415 | 422 (invalid fields,
 * refused credentials) | 500 | 502/504 (Arduino Cloud down or slow) | 503
 * The credentials are exchanged for a token first; nothing is saved when that fails. */
int handle_arduino_put(struct request *rq, const struct provider *p)
{
	struct json_object *errors = NULL;
	validate_object(rq->json, p->config_fields, &errors);
	if (errors && json_object_object_length(errors) > 0)
		return reply_invalid(rq, errors);
	json_object_put(errors);

	const char *client_id = jsonx_get_string(rq->json, "client_id");
	const char *secret = jsonx_get_string(rq->json, "client_secret");
	bool enabled = jsonx_get_bool(rq->json, "enabled", 1);
	struct integration prev;
	bool found;
	enum db_status s = integration_load(rq->arena, rq->user_id, PROVIDER, false, &prev, &found);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	/* No secret in the body keeps the stored one. */
	const char *kept_sealed = NULL;
	if (!secret) {
		char *stored = NULL;
		int o = found ? integration_open(rq->arena, prev.config, rq->user_id, PROVIDER, "client_secret",
						 &stored)
			      : 0;
		if (o < 0)
			return reply_error(rq, 500, "secret_unavailable",
					   "The stored client secret could not be decrypted; send it again");
		if (o == 0)
			return reply_invalid_field(rq, "client_secret", "is required");
		secret = stored;
		kept_sealed = jsonx_get_string(prev.config, "client_secret_encrypted");
	}

	/* No transaction is open while Arduino is reached. */
	struct arduino_token t;
	enum arduino_result r = arduino_exchange(rq->arena, client_id, secret, &t);
	if (r == ARDUINO_REFUSED)
		return reply_invalid_field(
			rq, "client_secret",
			"Arduino Cloud refused these credentials (check client_id and client_secret)");
	if (r != ARDUINO_OK)
		return reply_error(rq, t.http_status == 504 ? 504 : 502,
				   t.http_status == 504 ? "provider_timeout" : "provider_unavailable", t.reason);

	struct json_object *config = arena_defer(rq->arena, jsonx_put, json_object_new_object());
	json_object_object_add(config, "client_id", json_object_new_string(client_id));
	if (kept_sealed)
		json_object_object_add(config, "client_secret_encrypted", json_object_new_string(kept_sealed));
	else if (integration_seal(rq->arena, config, rq->user_id, PROVIDER, "client_secret", secret))
		return reply_internal(rq);

	struct integration saved;
	const char *lk[] = {rq->user_id, PROVIDER};
	s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(rq->arena, NULL, "SELECT pg_advisory_xact_lock(hashtext($1 || ':' || $2))", 2, lk);
	if (s == DB_OK)
		s = integration_load(rq->arena, rq->user_id, PROVIDER, true, &prev, &found);
	if (s == DB_OK)
		s = integration_upsert_config(rq->arena, rq->user_id, PROVIDER, enabled, config, "active", &saved);
	if (s == DB_OK) {
		int st = arduino_store_token(rq->arena, rq->user_id, t.access_token, t.expires_in);
		if (st == -1) {
			db_rollback(rq->arena);
			return reply_internal(rq);
		}
		if (st)
			s = DB_UNAVAILABLE;
	}
	if (s == DB_OK) {
		const char *cp[] = {rq->user_id, PROVIDER};
		s = db_exec(rq->arena, NULL,
			    "UPDATE user_integrations SET last_checked_at = now(), last_used_at = now(), "
			    "connected_at = CASE WHEN $3::boolean THEN connected_at ELSE now() END "
			    "WHERE user_id = $1 AND provider = $2",
			    3, (const char *[]){cp[0], cp[1], found ? "true" : "false"});
	}
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "enabled", json_object_new_boolean(enabled));
		json_object_object_add(d, "client_id", json_object_new_string(client_id));
		s = audit_record(rq->arena, request_actor(rq, rq->user_id),
				 found ? "integration.updated" : "integration.connected", PROVIDER, d);
	}
	if (s == DB_OK)
		s = integration_event(rq, found ? "integration.updated" : "integration.connected", PROVIDER, "active");
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	s = integration_load(rq->arena, rq->user_id, PROVIDER, false, &saved, &found);
	if (s != DB_OK || !found)
		return reply_db_failure(rq, s != DB_OK ? s : DB_UNAVAILABLE);
	struct json_object *v = p->view(rq->arena, &saved);
	add_live(rq, v, enabled ? t.access_token : NULL, NULL);
	return reply_ok(rq, 200, v, "Configuration saved");
}

/* 200 {provider, refreshed, token_expires_at, status} | 401 | 404 | 409 (credentials
 * refused: status error) | 500 | 502/504 | 503
 * client_credentials has no refresh token: a forced refresh is a new exchange with the
 * stored credentials. */
int handle_arduino_refresh(struct request *rq)
{
	struct integration row;
	bool found;
	enum db_status s = integration_load(rq->arena, rq->user_id, PROVIDER, false, &row, &found);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!found)
		return reply_error(rq, 404, "not_found", "This integration is not connected");
	const char *client_id = jsonx_get_string(row.config, "client_id");
	char *secret = NULL;
	int o = integration_open(rq->arena, row.config, rq->user_id, PROVIDER, "client_secret", &secret);
	if (o < 0)
		return reply_error(rq, 500, "secret_unavailable",
				   "The stored client secret could not be decrypted; save the integration again");
	if (o == 0 || !client_id)
		return reply_error(rq, 404, "not_found", "This integration has no saved credentials");
	struct arduino_token t;
	enum arduino_result r = arduino_exchange(rq->arena, client_id, secret, &t);
	if (r == ARDUINO_REFUSED) {
		s = integration_record_check(rq->arena, rq->user_id, PROVIDER, "error", t.reason, false);
		if (s != DB_OK)
			return reply_db_failure(rq, s);
		return reply_error(rq, 409, "credentials_refused",
				   "Arduino Cloud refused the saved credentials: save new ones with PUT");
	}
	if (r != ARDUINO_OK)
		return reply_error(rq, t.http_status == 504 ? 504 : 502,
				   t.http_status == 504 ? "provider_timeout" : "provider_unavailable", t.reason);
	s = db_begin(rq->arena);
	if (s == DB_OK) {
		int st = arduino_store_token(rq->arena, rq->user_id, t.access_token, t.expires_in);
		if (st == -1) {
			db_rollback(rq->arena);
			return reply_internal(rq);
		}
		s = st ? DB_UNAVAILABLE : DB_OK;
	}
	if (s == DB_OK)
		s = audit_record(rq->arena, request_actor(rq, rq->user_id), "integration.token_refreshed", PROVIDER,
				 NULL);
	if (s == DB_OK)
		s = integration_event(rq, "integration.token_refreshed", PROVIDER, row.status);
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	s = integration_load(rq->arena, rq->user_id, PROVIDER, false, &row, &found);
	if (s != DB_OK || !found)
		return reply_db_failure(rq, s != DB_OK ? s : DB_UNAVAILABLE);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "provider", json_object_new_string(PROVIDER));
	json_object_object_add(d, "refreshed", json_object_new_boolean(true));
	json_object_object_add(d, "token_expires_at", jsonx_string_or_null(row.token_expires_at));
	json_object_object_add(d, "status", jsonx_string_or_null(row.status));
	return reply_ok(rq, 200, d, "Token refreshed");
}
