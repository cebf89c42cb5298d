/* Blynk routes beyond the generic config ones: the view with each device's live online
 * status, and POST .../blynk/virtual-pin (a value written through the server's API). */
#include <json-c/json.h>
#include <stdlib.h>
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
#include "integrations/providers/blynk.h"
#include "integrations/providers/provider.h"

/* 200 view (online per device, devices_error when the server is down) | 401 | 403 |
 * 404 (not configured) | 503. The server being down is part of the view, not an error. */
int handle_blynk_get(struct request *rq)
{
	const struct provider *p = provider_find("blynk");
	struct integration row;
	bool found;
	enum db_status s = integration_load(rq->arena, rq->user_id, "blynk", false, &row, &found);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!found)
		return reply_error(rq, 404, "not_found", "This integration is not configured");
	struct json_object *v = p->view(rq->arena, &row);
	if (row.enabled)
		blynk_view_live(rq->arena, &row, v);
	return reply_ok(rq, 200, v, NULL);
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
	for (const unsigned char *c = (const unsigned char *)s; !*msg && *c; c++)
		if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
			*msg = "must not contain control characters";
	return *msg ? NULL : s;
}

/* 200 {device, pin, value} | 400 (malformed; Blynk says the token is invalid) | 401 | 403 |
 * 404 (not configured, unknown device) | 409 (disabled) | 415 | 422 | 500 (stored token
 * unreadable) | 502 | 503 | 504. Nothing is stored but the audit event of a write. */
int handle_blynk_virtual_pin(struct request *rq)
{
	struct json_object *errors = json_object_new_object(), *dv = NULL, *pv = NULL, *vv = NULL;
	json_object_object_get_ex(rq->json, "device", &dv);
	json_object_object_get_ex(rq->json, "pin", &pv);
	json_object_object_get_ex(rq->json, "value", &vv);
	if (!dv)
		json_object_object_add(errors, "device", json_object_new_string("is required"));
	else if (!json_object_is_type(dv, json_type_string) || json_object_get_string_len(dv) < 1 ||
		 json_object_get_string_len(dv) > 400)
		json_object_object_add(errors, "device", json_object_new_string("must be a device name"));
	int pin = pv ? parse_pin(pv) : -1;
	if (pin < 0)
		json_object_object_add(
			errors, "pin",
			json_object_new_string(pv ? "must be a virtual pin V0 to V255 (or 0 to 255)" : "is required"));
	const char *msg, *value = parse_value(vv, &msg);
	if (msg)
		json_object_object_add(errors, "value", json_object_new_string(msg));
	if (json_object_object_length(errors) > 0)
		return reply_invalid(rq, errors);
	json_object_put(errors);
	const char *device = json_object_get_string(dv);
	value = arena_strdup(rq->arena, value); /* the JSON text lives in the body object */

	struct integration row;
	bool found;
	enum db_status s = integration_load(rq->arena, rq->user_id, "blynk", false, &row, &found);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!found)
		return reply_error(rq, 404, "not_found", "This integration is not configured");
	if (!row.enabled)
		return reply_error(rq, 409, "integration_disabled", "The Blynk integration is disabled");
	char *token = NULL;
	int rc = blynk_device_token(rq->arena, &row, device, &token);
	if (rc < 0) {
		log_msg(LOG_ERROR, "stored Blynk token of user %s could not be opened", rq->user_id);
		return reply_error(rq, 500, "secret_unavailable",
				   "The device's stored token could not be decrypted; save it again");
	}
	if (rc == 0)
		return reply_error(rq, 404, "device_not_found", "No saved Blynk device has that name");

	struct blynk_reply r;
	blynk_update_pin(rq->arena, blynk_server_url(&row), token, pin, value, &r);
	switch (r.outcome) {
	case BLYNK_OK:
		break;
	case BLYNK_INVALID_TOKEN:
		return reply_error(rq, 400, "blynk_invalid_token", r.reason);
	case BLYNK_TIMEOUT:
		return reply_error(rq, 504, "provider_timeout", r.reason);
	case BLYNK_REJECTED:
		return reply_error(rq, 502, "provider_rejected", r.reason);
	default:
		return reply_error(rq, 502, r.blocked ? "address_blocked" : "provider_unavailable", r.reason);
	}

	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "device", json_object_new_string(device));
	json_object_object_add(d, "pin", json_object_new_string(arena_printf(rq->arena, "V%d", pin)));
	s = audit_record(rq->arena, request_actor(rq, rq->user_id), "integration.blynk_pin_written", "blynk", d);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	struct json_object *out = json_object_new_object();
	json_object_object_add(out, "device", json_object_new_string(device));
	json_object_object_add(out, "pin", json_object_new_string(arena_printf(rq->arena, "V%d", pin)));
	json_object_object_add(out, "value", json_object_new_string(value));
	json_object_object_add(out, "written", json_object_new_boolean(1));
	return reply_ok(rq, 200, out, "Value written to the virtual pin");
}
