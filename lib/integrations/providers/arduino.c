/* Arduino Cloud: the token exchange, the stored token, devices and things, and the
 * provider's ops table; see arduino.h. */
#include "integrations/providers/arduino.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/urlenc.h"
#include "core/validate.h"
#include "db/db.h"
#include "integrations/integration.h"
#include "integrations/providers/provider.h"
#include "net/outbound.h"

#define PROVIDER "arduino_cloud"
#define AUDIENCE "https://api2.arduino.cc/iot"
/* A stored token is used while it has at least this long left. */
#define TOKEN_MARGIN "60 seconds"

const char *arduino_api_url(void)
{
	return config_str("ARDUINO_API_URL", "https://api2.arduino.cc");
}

static const char *base_url(struct arena *a)
{
	char *b = arena_strdup(a, arduino_api_url());
	size_t n = strlen(b);
	while (n && b[n - 1] == '/')
		b[--n] = '\0';
	return b;
}

const char *arduino_row_org(const struct integration *row)
{
	const char *o = jsonx_get_string(row->config, "organization_id");
	return o && *o ? o : NULL;
}

const char *arduino_org_header(struct arena *a, const char *org)
{
	return org ? arena_printf(a, "X-Organization: %s", org) : NULL;
}

enum arduino_result arduino_exchange(struct arena *a, const char *client_id, const char *client_secret,
				     const char *org, struct arduino_token *out)
{
	memset(out, 0, sizeof(*out));
	struct form f;
	form_init(&f, a);
	form_add(&f, "grant_type", "client_credentials");
	form_add(&f, "client_id", client_id);
	form_add(&f, "client_secret", client_secret);
	form_add(&f, "audience", AUDIENCE);
	if (org)
		form_add(&f, "organization_id", org);
	const char *body = f.text;
	static const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded",
					      "Accept: application/json", NULL};
	struct outbound_request rq = {.method = "POST",
				      .url = arena_printf(a, "%s/iot/v1/clients/token", base_url(a)),
				      .headers = headers,
				      .body = body,
				      .body_len = strlen(body)};
	struct outbound_response r;
	if (outbound_do(a, &rq, &r)) {
		out->reason = arena_printf(a, "Arduino Cloud token endpoint: %s", r.message);
		out->http_status = outbound_http_status(&r);
		return ARDUINO_UNAVAILABLE;
	}
	if (r.status == 400 || r.status == 401 || r.status == 403) {
		out->reason = "Arduino Cloud refused these client credentials";
		return ARDUINO_REFUSED;
	}
	struct json_object *j = r.status == 200 ? outbound_json(a, &r) : NULL;
	const char *token = j ? jsonx_get_string(j, "access_token") : NULL;
	if (!token || !*token) {
		out->reason = arena_printf(a, "Arduino Cloud token endpoint answered %ld without a token", r.status);
		out->http_status = 502;
		return ARDUINO_UNAVAILABLE;
	}
	struct json_object *e;
	long exp = json_object_object_get_ex(j, "expires_in", &e) ? (long)json_object_get_int64(e) : 0;
	out->access_token = arena_strdup(a, token);
	out->expires_in = exp > 0 && exp < 86400 * 365 ? exp : 300;
	return ARDUINO_OK;
}

int arduino_store_token(struct arena *a, const char *user_id, const char *token, long expires_in)
{
	char *sealed;
	if (crypto_seal(a, token, strlen(token), integration_token_aad(a, user_id, PROVIDER, "access_token"), &sealed))
		return -1;
	const char *p[] = {user_id, PROVIDER, sealed, arena_printf(a, "%ld", expires_in)};
	return db_exec(a, NULL,
		       "UPDATE user_integrations SET access_token = $3, refresh_token = NULL, "
		       "token_expires_at = now() + make_interval(secs => $4::int), updated_at = now() "
		       "WHERE user_id = $1 AND provider = $2",
		       4, p) == DB_OK
		       ? 0
		       : -2;
}

int arduino_forget_token(struct arena *a, const char *user_id)
{
	const char *p[] = {user_id, PROVIDER};
	return db_exec(a, NULL,
		       "UPDATE user_integrations SET token_expires_at = now() WHERE user_id = $1 AND provider = $2 "
		       "AND token_expires_at > now()",
		       2, p) == DB_OK
		       ? 0
		       : -1;
}

enum arduino_result arduino_row_token(struct arena *a, const struct integration *row, struct arduino_token *out)
{
	memset(out, 0, sizeof(*out));
	PGresult *res;
	const char *p[] = {row->user_id, PROVIDER};
	if (db_exec(a, &res,
		    "SELECT access_token FROM user_integrations WHERE user_id = $1 AND provider = $2 "
		    "AND access_token IS NOT NULL AND token_expires_at > now() + interval '" TOKEN_MARGIN "'",
		    2, p) != DB_OK)
		return ARDUINO_DB;
	if (PQntuples(res) == 1) {
		char *token;
		if (crypto_open(a, PQgetvalue(res, 0, 0),
				integration_token_aad(a, row->user_id, PROVIDER, "access_token"), &token, NULL))
			return ARDUINO_SECRET;
		out->access_token = token;
		return ARDUINO_OK;
	}
	/* Expired or absent: client_credentials has no refresh token, so exchange again. */
	const char *client_id = jsonx_get_string(row->config, "client_id");
	char *secret = NULL;
	int o = integration_open(a, row->config, row->user_id, PROVIDER, "client_secret", &secret);
	if (o < 0)
		return ARDUINO_SECRET;
	if (o == 0 || !client_id) {
		out->reason = "no client credentials are saved";
		return ARDUINO_NO_SECRET;
	}
	enum arduino_result r = arduino_exchange(a, client_id, secret, arduino_row_org(row), out);
	if (r != ARDUINO_OK)
		return r;
	int st = arduino_store_token(a, row->user_id, out->access_token, out->expires_in);
	return st == -1 ? ARDUINO_SECRET : st ? ARDUINO_DB : ARDUINO_OK;
}

static struct json_object *string_member(struct json_object *o, const char *name)
{
	const char *s = jsonx_get_string(o, name);
	return jsonx_string_or_null(s);
}

static struct json_object *device_view(struct json_object *d)
{
	struct json_object *v = json_object_new_object();
	json_object_object_add(v, "id", string_member(d, "id"));
	json_object_object_add(v, "name", string_member(d, "name"));
	json_object_object_add(v, "type", string_member(d, "type"));
	const char *st = jsonx_get_string(d, "device_status");
	json_object_object_add(v, "status",
			       json_object_new_string(st && !strcasecmp(st, "ONLINE") ? "online" : "offline"));
	json_object_object_add(v, "last_activity", string_member(d, "last_activity_at"));
	return v;
}

static struct json_object *thing_view(struct json_object *t)
{
	struct json_object *v = json_object_new_object();
	json_object_object_add(v, "id", string_member(t, "id"));
	json_object_object_add(v, "name", string_member(t, "name"));
	json_object_object_add(v, "device_id", string_member(t, "device_id"));
	return v;
}

enum arduino_result arduino_list(struct arena *a, const char *token, const char *org, const char *what,
				 struct json_object **out, const char **reason, int *http_status)
{
	*out = NULL;
	const char *headers[] = {"Accept: application/json", arduino_org_header(a, org), NULL};
	struct outbound_request rq = {.url = arena_printf(a, "%s/iot/v2/%s", base_url(a), what),
				      .headers = headers,
				      .bearer = token,
				      .idempotent = true};
	struct outbound_response r;
	if (outbound_do(a, &rq, &r)) {
		*reason = arena_printf(a, "Arduino Cloud %s: %s", what, r.message);
		*http_status = outbound_http_status(&r);
		return ARDUINO_UNAVAILABLE;
	}
	if (r.status == 401 || r.status == 403) {
		*reason = arena_printf(a, "Arduino Cloud refused the token for the %s list", what);
		*http_status = 502;
		return ARDUINO_REFUSED;
	}
	struct json_object *j = r.status == 200 ? outbound_json(a, &r) : NULL;
	if (!j || !json_object_is_type(j, json_type_array)) {
		*reason = arena_printf(a, "Arduino Cloud answered %ld for the %s list", r.status, what);
		*http_status = 502;
		return ARDUINO_UNAVAILABLE;
	}
	bool devices = !strcmp(what, "devices");
	struct json_object *list = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(j); i++) {
		struct json_object *e = json_object_array_get_idx(j, i);
		if (json_object_is_type(e, json_type_object))
			json_object_array_add(list, devices ? device_view(e) : thing_view(e));
	}
	*out = list;
	return ARDUINO_OK;
}

/* --- the provider ------------------------------------------------------------------------ */

/* An Arduino organization id: a UUID (arduino-cloud-cli checks its 36 characters). */
static const char *check_org(struct json_object *v)
{
	return text_is_uuid(json_object_get_string(v)) ? NULL : "must be an Arduino organization id (a UUID)";
}

static const struct field arduino_fields[] = {
	{"enabled", FIELD_BOOL, false, 0, 0, NULL},
	{"client_id", FIELD_STRING, true, 1, 128, check_printable},
	{"client_secret", FIELD_STRING, false, 1, 256, check_printable},
	{"organization_id", FIELD_STRING, false, 36, 36, check_org},
	{NULL, 0, false, 0, 0, NULL},
};

static const char *const arduino_secrets[] = {"client_secret", NULL};

static struct json_object *arduino_view(struct arena *a, const struct integration *row)
{
	(void)a;
	struct json_object *v = json_object_new_object(), *tmp;
	bool connected = row->access_token && row->status &&
			 (!strcmp(row->status, "active") || !strcmp(row->status, "connected"));
	json_object_object_add(v, "connected", json_object_new_boolean(connected));
	json_object_object_add(v, "enabled", json_object_new_boolean(row->enabled));
	json_object_object_add(v, "client_id", jsonx_string_or_null(jsonx_get_string(row->config, "client_id")));
	/* Spec 001's username and organization. Arduino gives an API client no user
	 * profile and no organization name (docs/openapi.yaml, ArduinoCloudIntegration):
	 * username is null; organization is the organization id the client acts in, or
	 * "Personal" for the user's own space. */
	json_object_object_add(v, "username", NULL);
	const char *org = arduino_row_org(row);
	json_object_object_add(v, "organization", json_object_new_string(org ? org : "Personal"));
	json_object_object_add(v, "organization_id", jsonx_string_or_null(org));
	json_object_object_add(
		v, "has_client_secret",
		json_object_new_boolean(json_object_object_get_ex(row->config, "client_secret_encrypted", &tmp)));
	json_object_object_add(v, "status", jsonx_string_or_null(row->status));
	json_object_object_add(v, "last_error", jsonx_string_or_null(row->last_error));
	json_object_object_add(v, "connected_at", jsonx_string_or_null(row->connected_at));
	json_object_object_add(v, "token_expires_at", jsonx_string_or_null(row->token_expires_at));
	json_object_object_add(v, "last_checked_at", jsonx_string_or_null(row->last_checked_at));
	json_object_object_add(v, "updated_at", jsonx_string_or_null(row->updated_at));
	return v;
}

/* A valid token (exchanged again when due) and the device list. */
static void arduino_health(struct arena *a, const struct actor *who, const struct provider *p,
			   const struct integration *row, struct provider_health *o)
{
	(void)who;
	(void)p;
	struct arduino_token t;
	enum arduino_result rt = arduino_row_token(a, row, &t);
	if (rt == ARDUINO_SECRET) {
		o->secret_failed = true;
		return;
	}
	if (rt != ARDUINO_OK) {
		o->status = "error";
		o->error = rt == ARDUINO_DB ? "the stored token could not be read" : t.reason;
		return;
	}
	struct json_object *devices;
	const char *reason = NULL;
	int hs;
	enum arduino_result r = arduino_list(a, t.access_token, arduino_row_org(row), "devices", &devices, &reason, &hs);
	if (r == ARDUINO_REFUSED && !arduino_forget_token(a, row->user_id)) {
		/* Refused before its expiry (revoked at Arduino): exchange once more. */
		if ((r = arduino_row_token(a, row, &t)) == ARDUINO_SECRET) {
			o->secret_failed = true;
			return;
		}
		if (r != ARDUINO_OK) {
			o->status = "error";
			o->error = r == ARDUINO_DB ? "the stored token could not be read" : t.reason;
			return;
		}
		r = arduino_list(a, t.access_token, arduino_row_org(row), "devices", &devices, &reason, &hs);
	}
	if (r != ARDUINO_OK) {
		o->status = "error";
		o->error = reason;
		return;
	}
	json_object_put(devices);
	o->status = "active";
}

static void arduino_catalog(struct json_object *entry)
{
	json_object_object_add(entry, "url_segment", json_object_new_string("arduino-cloud"));
	json_object_object_add(entry, "api_url", json_object_new_string(arduino_api_url()));
}

static const struct provider_action arduino_actions[] = {
	{"devices/*/ota", true, arduino_ota_fields, arduino_ota_upload, NULL, NULL},
	{"devices/*/ota", false, NULL, arduino_ota_list, "GET", NULL},
	{"ota/*", false, NULL, arduino_ota_status, "GET", NULL},
	{NULL, false, NULL, NULL, NULL, NULL},
};

const struct provider provider_arduino_cloud = {
	.name = PROVIDER,
	.url_name = "arduino-cloud",
	.display_name = "Arduino Cloud",
	.description = "Arduino IoT Cloud devices and things, through an API client (client_id/client_secret)",
	.auth = PROVIDER_AUTH_CONFIG,
	.config_fields = arduino_fields,
	.secret_fields = arduino_secrets,
	.view = arduino_view,
	.catalog = arduino_catalog,
	.health = arduino_health,
	.get = arduino_get,
	.put = arduino_put,
	.refresh = arduino_refresh,
	.actions = arduino_actions,
};
