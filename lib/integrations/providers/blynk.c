/* Blynk: a Blynk server (https://blynk.cloud by default, or the user's own) and the auth
 * tokens of the user's devices; online status and virtual-pin writes through the
 * server's HTTP external API. The server URL is user-supplied: every call is guarded.
 *
 * Saved config: {"server_url": "...", "devices": [{"name": "..."}],
 *                "devices/<name>/auth_token_encrypted": "<sealed>", ...}
 * One sealed field per device, named after the device, so its associated data
 * (integration_aad: "user_integrations.config.devices/<name>/auth_token:blynk:<user>")
 * binds each token to its user and device, and scripts/rotate-key re-seals it like any
 * other "<field>_encrypted". A renamed device is a new device: it needs its token again. */
#include <ctype.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/monotime.h"
#include "core/urlenc.h"
#include "core/validate.h"
#include "integrations/integration.h"
#include "integrations/providers/blynk.h"
#include "integrations/providers/provider.h"
#include "net/outbound.h"

#define DEFAULT_SERVER "https://blynk.cloud"
#define MAX_DEVICES    50

static const char *default_server(void)
{
	return config_str("BLYNK_SERVER_URL", DEFAULT_SERVER);
}

static bool allow_http(void)
{
	return config_bool("SB_BLYNK_ALLOW_HTTP", false);
}

/* https://host[:port] with nothing after it but an optional "/". */
static const char *check_server_url(struct json_object *v)
{
	const char *url = json_object_get_string(v), *h;
	if (!strncasecmp(url, "https://", 8))
		h = url + 8;
	else if (!strncasecmp(url, "http://", 7) && allow_http())
		h = url + 7;
	else
		return allow_http() ? "must be an http:// or https:// URL" : "must be an https:// URL";
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return "must not contain spaces or control characters";
	size_t hl = strcspn(h, "/?#");
	if (memchr(h, '@', hl))
		return "must not carry credentials";
	if (h[hl] && strcmp(h + hl, "/"))
		return "must be the server's address only (scheme, host and port, no path or query)";
	const char *port = NULL, *host_end = h + hl;
	if (h[0] == '[') {
		const char *close = memchr(h, ']', hl);
		if (!close || close == h + 1)
			return "has a malformed host";
		if (close + 1 < host_end) {
			if (close[1] != ':')
				return "has a malformed host";
			port = close + 2;
		}
	} else {
		const char *colon = memchr(h, ':', hl);
		if (colon == h || hl == 0)
			return "must name a host";
		if (colon)
			port = colon + 1;
	}
	if (port) {
		size_t pl = (size_t)(host_end - port);
		if (!pl || pl > 5 || strspn(port, "0123456789") < pl || atol(port) < 1 || atol(port) > 65535)
			return "has a port that is not a number from 1 to 65535";
	}
	return NULL;
}

static const struct field blynk_fields[] = {
	{"enabled", FIELD_BOOL, false, 0, 0, NULL},
	{"server_url", FIELD_STRING, false, 1, 2048, check_server_url},
	{"devices", FIELD_ARRAY, true, 1, MAX_DEVICES, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

/* "auth_token" is nested in each device: named here for the catalog. */
static const char *const blynk_secrets[] = {"auth_token", NULL};

static char *token_field(struct arena *a, const char *name)
{
	return arena_printf(a, "devices/%s/auth_token", name);
}

static void add_error(struct json_object *errors, const char *key, const char *msg)
{
	struct json_object *ignored;
	if (!json_object_object_get_ex(errors, key, &ignored))
		json_object_object_add(errors, key, json_object_new_string(msg));
}

static const char *check_name(struct json_object *v)
{
	if (!v || !json_object_is_type(v, json_type_string))
		return v ? "must be a string" : "is required";
	const char *s = json_object_get_string(v);
	long n = utf8_length(s, (size_t)json_object_get_string_len(v));
	if (n < 0)
		return "must be valid UTF-8 text";
	if (n < 1 || n > 100)
		return "must be 1 to 100 characters";
	if (!text_printable(s, false))
		return "must not contain control characters";
	if (isspace((unsigned char)s[0]) || isspace((unsigned char)s[strlen(s) - 1]))
		return "must not start or end with a space";
	return NULL;
}

/* Blynk IoT tokens are 32 characters of [A-Za-z0-9_-]; older servers' are similar. */
static const char *check_token(struct json_object *v)
{
	if (!json_object_is_type(v, json_type_string))
		return "must be a string";
	const char *s = json_object_get_string(v);
	size_t n = strlen(s);
	if ((size_t)json_object_get_string_len(v) != n || n < 16 || n > 64)
		return "must be 16 to 64 letters, digits, - or _";
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return "must be 16 to 64 letters, digits, - or _";
	return NULL;
}

static struct json_object *device_token_value(struct json_object *d)
{
	struct json_object *t;
	if (!json_object_object_get_ex(d, "auth_token", &t) || !t)
		return NULL; /* absent or null: keep the stored token */
	return t;
}

static void blynk_validate(struct json_object *body, struct json_object *errors)
{
	struct json_object *devices, *ignored;
	if (json_object_object_get_ex(errors, "devices", &ignored) ||
	    !json_object_object_get_ex(body, "devices", &devices) || !json_object_is_type(devices, json_type_array))
		return;
	struct arena *a = arena_new();
	size_t n = json_object_array_length(devices);
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(devices, i), *name = NULL, *tok;
		if (!d || !json_object_is_type(d, json_type_object)) {
			add_error(errors, arena_printf(a, "devices[%zu]", i),
				  "must be an object with name and auth_token");
			continue;
		}
		json_object_object_get_ex(d, "name", &name);
		const char *msg = check_name(name);
		if (!msg)
			for (size_t j = 0; j < i; j++) {
				struct json_object *o = json_object_array_get_idx(devices, j), *on;
				if (o && json_object_is_type(o, json_type_object) &&
				    json_object_object_get_ex(o, "name", &on) &&
				    json_object_is_type(on, json_type_string) &&
				    !strcmp(json_object_get_string(on), json_object_get_string(name)))
					msg = "is the name of another device in the list";
			}
		if (msg)
			add_error(errors, arena_printf(a, "devices[%zu].name", i), msg);
		if ((tok = device_token_value(d)) && (msg = check_token(tok)))
			add_error(errors, arena_printf(a, "devices[%zu].auth_token", i), msg);
	}
	arena_free(a);
}

/* A device named without a token keeps its stored one: it must have one. */
static void blynk_validate_saved(struct json_object *body, const struct integration *prev, struct json_object *errors)
{
	struct json_object *devices;
	if (!json_object_object_get_ex(body, "devices", &devices))
		return;
	struct arena *a = arena_new();
	for (size_t i = 0; i < json_object_array_length(devices); i++) {
		struct json_object *d = json_object_array_get_idx(devices, i);
		if (device_token_value(d))
			continue;
		const char *name = jsonx_get_string(d, "name");
		if (!prev || !name ||
		    !jsonx_get_string(prev->config, arena_printf(a, "%s_encrypted", token_field(a, name))))
			add_error(errors, arena_printf(a, "devices[%zu].auth_token", i),
				  "is required for a device without a stored token");
	}
	arena_free(a);
}

static char *normalized_server(struct arena *a, const char *url)
{
	if (!url)
		return arena_strdup(a, default_server());
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	return arena_strndup(a, url, n);
}

static int blynk_config_build(struct arena *a, const char *user_id, struct json_object *body,
			      const struct integration *prev, struct json_object **out)
{
	struct json_object *c = json_object_new_object(), *list = json_object_new_array(), *devices;
	json_object_object_add(c, "server_url",
			       json_object_new_string(normalized_server(a, jsonx_get_string(body, "server_url"))));
	json_object_object_add(c, "devices", list);
	json_object_object_get_ex(body, "devices", &devices);
	for (size_t i = 0; i < json_object_array_length(devices); i++) {
		struct json_object *d = json_object_array_get_idx(devices, i), *entry = json_object_new_object();
		const char *name = jsonx_get_string(d, "name"), *field = token_field(a, name);
		json_object_object_add(entry, "name", json_object_new_string(name));
		json_object_array_add(list, entry);
		struct json_object *tok = device_token_value(d);
		if (tok) {
			if (integration_seal(a, c, user_id, "blynk", field, json_object_get_string(tok))) {
				json_object_put(c);
				return -1;
			}
		} else {
			const char *key = arena_printf(a, "%s_encrypted", field);
			const char *sealed = prev ? jsonx_get_string(prev->config, key) : NULL;
			if (!sealed) { /* blynk_validate_saved let it through: cannot happen */
				json_object_put(c);
				return -1;
			}
			json_object_object_add(c, key, json_object_new_string(sealed));
		}
	}
	*out = arena_defer(a, jsonx_put, c);
	return 0;
}

const char *blynk_server_url(const struct integration *row)
{
	const char *s = jsonx_get_string(row->config, "server_url");
	return s ? s : default_server();
}

int blynk_device_token(struct arena *a, const struct integration *row, const char *name, char **token)
{
	struct json_object *devices;
	if (!json_object_object_get_ex(row->config, "devices", &devices) ||
	    !json_object_is_type(devices, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(devices); i++) {
		const char *n = jsonx_get_string(json_object_array_get_idx(devices, i), "name");
		if (n && !strcmp(n, name))
			return integration_open(a, row->config, row->user_id, "blynk", token_field(a, name), token);
	}
	return 0;
}

static struct json_object *blynk_view(struct arena *a, const struct integration *row)
{
	struct json_object *v = json_object_new_object(), *list = json_object_new_array(), *devices;
	json_object_object_add(v, "enabled", json_object_new_boolean(row->enabled));
	json_object_object_add(v, "server_url", json_object_new_string(blynk_server_url(row)));
	if (json_object_object_get_ex(row->config, "devices", &devices) &&
	    json_object_is_type(devices, json_type_array))
		for (size_t i = 0; i < json_object_array_length(devices); i++) {
			const char *name = jsonx_get_string(json_object_array_get_idx(devices, i), "name");
			if (!name)
				continue;
			struct json_object *d = json_object_new_object();
			json_object_object_add(d, "name", json_object_new_string(name));
			json_object_object_add(d, "online", NULL);
			json_object_object_add(
				d, "has_token",
				json_object_new_boolean(
					jsonx_get_string(row->config, arena_printf(a, "%s_encrypted",
										   token_field(a, name))) != NULL));
			json_object_object_add(d, "error", NULL);
			json_object_array_add(list, d);
		}
	json_object_object_add(v, "devices", list);
	json_object_object_add(v, "devices_error", NULL);
	/* connected and connected_at as the other providers (spec 000/001): the last
	 * check reached the server with the saved tokens. */
	json_object_object_add(v, "connected",
			       json_object_new_boolean(row->enabled && row->status &&
						       (!strcmp(row->status, "connected") ||
							!strcmp(row->status, "active"))));
	json_object_object_add(v, "connected_at", jsonx_string_or_null(row->connected_at));
	json_object_object_add(v, "status", jsonx_string_or_null(row->status));
	json_object_object_add(v, "last_error", jsonx_string_or_null(row->last_error));
	json_object_object_add(v, "last_checked_at", jsonx_string_or_null(row->last_checked_at));
	json_object_object_add(v, "updated_at", jsonx_string_or_null(row->updated_at));
	return v;
}

static void blynk_catalog(struct json_object *entry)
{
	json_object_object_add(entry, "default_server_url", json_object_new_string(default_server()));
	json_object_object_add(entry, "max_devices", json_object_new_int(MAX_DEVICES));
}

/* --- calls to the server ------------------------------------------------------------- */

/* The "error.message" of a Blynk error body, or NULL. */
static const char *error_message(struct arena *a, const struct outbound_response *o)
{
	struct json_object *j = outbound_json(a, o), *e, *m;
	if (j && json_object_object_get_ex(j, "error", &e) && json_object_object_get_ex(e, "message", &m) &&
	    json_object_is_type(m, json_type_string))
		return arena_strndup(a, json_object_get_string(m), 200);
	return NULL;
}

static void blynk_call(struct arena *a, const char *server, const char *endpoint, const struct form *q, bool idempotent,
		       struct blynk_reply *r)
{
	long timeout = config_int("SB_BLYNK_TIMEOUT_MS", 5000, 200, 60000);
	struct outbound_request rq = {
		.url = url_with_query(a, arena_printf(a, "%s/external/api/%s", server, endpoint), q),
		.user_supplied = true,
		.idempotent = idempotent,
		.timeout_ms = timeout,
		.connect_timeout_ms = timeout < 3000 ? timeout : 3000,
		.max_response = 64 * 1024,
	};
	struct outbound_response o;
	memset(r, 0, sizeof(*r));
	if (outbound_do(a, &rq, &o)) {
		r->outcome = o.error == OUTBOUND_TIMEOUT ? BLYNK_TIMEOUT : BLYNK_UNREACHABLE;
		r->blocked = o.error == OUTBOUND_BLOCKED;
		r->reason = arena_printf(a, "the Blynk server: %s", o.message ? o.message : "no answer");
		r->body = "";
		return;
	}
	r->status = o.status;
	r->body = o.body;
	if (o.status >= 200 && o.status < 300) {
		r->outcome = BLYNK_OK;
		return;
	}
	const char *msg = error_message(a, &o);
	if (o.status == 400 && msg && !strncasecmp(msg, "invalid token", 13)) {
		r->outcome = BLYNK_INVALID_TOKEN;
		r->reason = "the Blynk server rejected the device's auth token (Invalid token.)";
	} else if (o.status >= 400 && o.status < 500) {
		r->outcome = BLYNK_REJECTED;
		r->reason = arena_printf(a, "the Blynk server refused the request (HTTP %ld%s%s)", o.status,
					 msg ? ": " : "", msg ? msg : "");
	} else {
		r->outcome = BLYNK_UNREACHABLE;
		r->reason = arena_printf(a, "the Blynk server answered HTTP %ld", o.status);
	}
}

void blynk_is_connected(struct arena *a, const char *server, const char *token, struct blynk_reply *r, bool *online)
{
	struct form q;
	form_init(&q, a);
	form_add(&q, "token", token);
	blynk_call(a, server, "isHardwareConnected", &q, false, r);
	if (r->outcome != BLYNK_OK)
		return;
	size_t n = strlen(r->body);
	while (n && isspace((unsigned char)r->body[n - 1]))
		n--;
	if (n == 4 && !strncmp(r->body, "true", 4))
		*online = true;
	else if (n == 5 && !strncmp(r->body, "false", 5))
		*online = false;
	else {
		r->outcome = BLYNK_UNREACHABLE;
		r->reason = "the Blynk server's answer was neither true nor false";
	}
}

void blynk_update_pin(struct arena *a, const char *server, const char *token, int pin, const char *value,
		      struct blynk_reply *r)
{
	struct form q;
	form_init(&q, a);
	form_add(&q, "token", token);
	form_add(&q, arena_printf(a, "V%d", pin), value);
	blynk_call(a, server, "update", &q, true, r);
}

void blynk_view_live(struct arena *a, const struct integration *row, struct json_object *view)
{
	struct json_object *devices;
	if (!json_object_object_get_ex(view, "devices", &devices))
		return;
	const char *server = blynk_server_url(row), *devices_error = NULL;
	double deadline = monotime_ms() + (double)config_int("SB_BLYNK_STATUS_BUDGET_MS", 8000, 500, 60000);
	for (size_t i = 0; i < json_object_array_length(devices) && !devices_error; i++) {
		struct json_object *d = json_object_array_get_idx(devices, i);
		const char *name = jsonx_get_string(d, "name");
		char *token = NULL;
		int rc = blynk_device_token(a, row, name, &token);
		if (rc <= 0) {
			json_object_object_add(
				d, "error",
				json_object_new_string(rc < 0 ? "the stored token could not be decrypted: save it again"
							      : "no token is stored"));
			continue;
		}
		if (monotime_ms() > deadline) {
			devices_error = "the Blynk server answered too slowly to check every device";
			break;
		}
		struct blynk_reply r;
		bool online = false;
		blynk_is_connected(a, server, token, &r, &online);
		if (r.outcome == BLYNK_OK)
			json_object_object_add(d, "online", json_object_new_boolean(online));
		else if (r.outcome == BLYNK_INVALID_TOKEN || r.outcome == BLYNK_REJECTED)
			json_object_object_add(d, "error", json_object_new_string(r.reason));
		else
			devices_error = r.reason; /* the server is down: asking again is no use */
	}
	json_object_object_add(view, "devices_error", jsonx_string_or_null(devices_error));
}

/* Every device's token accepted by the server. */
static void blynk_health(struct arena *a, const struct actor *who, const struct provider *p,
			 const struct integration *row, struct provider_health *o)
{
	(void)who;
	(void)p;
	struct json_object *devices;
	const char **status = &o->status, **error = &o->error;
	*status = "error";
	*error = NULL;
	if (!json_object_object_get_ex(row->config, "devices", &devices) ||
	    !json_object_is_type(devices, json_type_array) || json_object_array_length(devices) == 0) {
		*error = "no device is saved";
		return;
	}
	const char *server = blynk_server_url(row);
	for (size_t i = 0; i < json_object_array_length(devices); i++) {
		const char *name = jsonx_get_string(json_object_array_get_idx(devices, i), "name");
		char *token = NULL;
		int rc = name ? blynk_device_token(a, row, name, &token) : 0;
		if (rc < 0) {
			o->secret_failed = true;
			o->status = NULL;
			return;
		}
		if (rc == 0) {
			*error = arena_printf(a, "device %s: no token is stored", name ? name : "?");
			return;
		}
		struct blynk_reply r;
		bool online;
		blynk_is_connected(a, server, token, &r, &online);
		if (r.outcome != BLYNK_OK) {
			*error = arena_printf(a, "device %s: %s", name, r.reason);
			return;
		}
	}
	*status = "active";
}

static const struct provider_action blynk_actions[] = {
	{"virtual-pin", true, NULL, blynk_virtual_pin, NULL, blynk_pin_accepts},
	{NULL, false, NULL, NULL},
};

const struct provider provider_blynk = {
	.name = "blynk",
	.display_name = "Blynk",
	.description = "Blynk IoT devices: online status and virtual-pin writes through a Blynk server",
	.auth = PROVIDER_AUTH_CONFIG,
	.config_fields = blynk_fields,
	.validate = blynk_validate,
	.validate_saved = blynk_validate_saved,
	.secret_fields = blynk_secrets,
	.config_build = blynk_config_build,
	.view = blynk_view,
	.catalog = blynk_catalog,
	.health = blynk_health,
	.get = blynk_get,
	.actions = blynk_actions,
};
