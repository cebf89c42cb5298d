/* Blynk's operations beyond the generic config ones: the view with each device's live
 * online status, and the virtual-pin action (a value written through the server's API). */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/validate.h"
#include "events/audit.h"
#include "integrations/integration_ops.h"
#include "integrations/providers/blynk.h"
#include "integrations/providers/provider.h"

/* The view with online per device (devices_error when the server is down: part of the
 * view, not an error). */
int blynk_get(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct integration row;
	if (integration_load_or_fail(c, p->name, &row, r))
		return r->outcome;
	struct json_object *v = p->view(c->a, &row);
	if (row.enabled)
		blynk_view_live(c->a, &row, v);
	return provider_ok(r, v, NULL);
}

/* The pin number of "V0".."V255" or 0..255, or -1. */
static int parse_pin(struct json_object *v)
{
	if (json_object_is_type(v, json_type_int)) {
		int64_t n = json_object_get_int64(v);
		return n >= 0 && n <= 255 ? (int)n : -1;
	}
	if (!json_object_is_type(v, json_type_string))
		return -1;
	const char *s = json_object_get_string(v);
	if (s[0] != 'V' && s[0] != 'v')
		return -1;
	size_t n = strlen(s + 1);
	if (n < 1 || n > 3 || strspn(s + 1, "0123456789") != n || (n > 1 && s[1] == '0'))
		return -1;
	int pin = atoi(s + 1);
	return pin <= 255 ? pin : -1;
}

/* The value as text: a string of at most 255 characters without control characters
 * other than tab, or a number. NULL with *msg when invalid. */
static const char *parse_value(struct json_object *v, const char **msg)
{
	*msg = NULL;
	if (!v) {
		*msg = "is required";
		return NULL;
	}
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	if (!json_object_is_type(v, json_type_string)) {
		*msg = "must be a string or a number";
		return NULL;
	}
	const char *s = json_object_get_string(v);
	long n = utf8_length(s, (size_t)json_object_get_string_len(v));
	if (n < 0)
		*msg = "must be valid UTF-8 text";
	else if (n > 255)
		*msg = "must be at most 255 characters";
	else if (!text_printable(s, true))
		*msg = "must not contain control characters";
	return *msg ? NULL : s;
}

static const struct field pin_names[] = {
	{"device", FIELD_STRING, false, 0, 0, NULL},
	{"pin", FIELD_STRING, false, 0, 0, NULL},
	{"value", FIELD_STRING, false, 0, 0, NULL},
	{NULL, 0, false, 0, 0, NULL},
};
const struct field *const blynk_pin_accepts[] = {pin_names, NULL};

struct pin_write {
	const char *device, *value;
	int pin;
};

/* The body's device, pin and value, or NULL errors when all are valid. */
static struct json_object *pin_body(struct arena *a, struct json_object *body, struct pin_write *w)
{
	struct json_object *errors = json_object_new_object(), *dv = NULL, *pv = NULL, *vv = NULL;
	json_object_object_get_ex(body, "device", &dv);
	json_object_object_get_ex(body, "pin", &pv);
	json_object_object_get_ex(body, "value", &vv);
	if (!dv)
		json_object_object_add(errors, "device", json_object_new_string("is required"));
	else if (!json_object_is_type(dv, json_type_string) || json_object_get_string_len(dv) < 1 ||
		 json_object_get_string_len(dv) > 400)
		json_object_object_add(errors, "device", json_object_new_string("must be a device name"));
	w->pin = pv ? parse_pin(pv) : -1;
	if (w->pin < 0)
		json_object_object_add(
			errors, "pin",
			json_object_new_string(pv ? "must be a virtual pin V0 to V255 (or 0 to 255)" : "is required"));
	const char *msg;
	w->value = parse_value(vv, &msg);
	if (msg)
		json_object_object_add(errors, "value", json_object_new_string(msg));
	if (json_object_object_length(errors) > 0)
		return errors;
	json_object_put(errors);
	w->device = json_object_get_string(dv);
	w->value = arena_strdup(a, w->value); /* the JSON text lives in the body object */
	return NULL;
}

static int write_failed(const struct blynk_reply *b, struct provider_result *r)
{
	switch (b->outcome) {
	case BLYNK_INVALID_TOKEN:
		return provider_fail(r, PROVIDER_BAD_REQUEST, "blynk_invalid_token", b->reason);
	case BLYNK_TIMEOUT:
		return provider_fail(r, PROVIDER_UPSTREAM_TIMEOUT, "provider_timeout", b->reason);
	case BLYNK_REJECTED:
		return provider_fail(r, PROVIDER_UPSTREAM, "provider_rejected", b->reason);
	default:
		return provider_fail(r, PROVIDER_UPSTREAM, b->blocked ? "address_blocked" : "provider_unavailable",
				     b->reason);
	}
}

/* POST .../blynk/virtual-pin {device, pin, value}. Nothing is stored but the audit
 * entry of a write. */
int blynk_virtual_pin(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct pin_write w = {0};
	struct json_object *errors = pin_body(c->a, c->body, &w);
	if (errors)
		return provider_invalid(r, errors);
	struct integration row;
	if (integration_load_or_fail(c, p->name, &row, r))
		return r->outcome;
	if (!row.enabled)
		return provider_fail(r, PROVIDER_CONFLICT, "integration_disabled", "The Blynk integration is disabled");
	char *token = NULL;
	int rc = blynk_device_token(c->a, &row, w.device, &token);
	if (rc < 0) {
		log_msg(LOG_ERROR, "stored Blynk token of user %s could not be opened", c->user_id);
		return provider_secret(r, "The device's stored token could not be decrypted; save it again");
	}
	if (rc == 0)
		return provider_fail(r, PROVIDER_NOT_FOUND, "device_not_found", "No saved Blynk device has that name");
	struct blynk_reply b;
	blynk_update_pin(c->a, blynk_server_url(&row), token, w.pin, w.value, &b);
	if (b.outcome != BLYNK_OK)
		return write_failed(&b, r);
	const char *pin = arena_printf(c->a, "V%d", w.pin);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "device", json_object_new_string(w.device));
	json_object_object_add(d, "pin", json_object_new_string(pin));
	enum db_status s = audit_record(c->a, c->who, "integration.blynk_pin_written", "blynk", d);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	struct json_object *out = json_object_new_object();
	json_object_object_add(out, "device", json_object_new_string(w.device));
	json_object_object_add(out, "pin", json_object_new_string(pin));
	json_object_object_add(out, "value", json_object_new_string(w.value));
	json_object_object_add(out, "written", json_object_new_boolean(1));
	return provider_ok(r, out, "Value written to the virtual pin");
}
