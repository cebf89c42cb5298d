/* ThingsBoard's operations beyond the generic config ones: the view with the user's
 * devices (active state, last activity, latest telemetry) read live, and the actions
 * (a one-way RPC, shared attributes). Shapes as ThingsBoard's REST API documents them:
 *  GET  /api/auth/user -> User {authority: TENANT_ADMIN | CUSTOMER_USER, customerId: {id}}
 *  GET  /api/tenant/deviceInfos?pageSize=&page= or /api/customer/{customerId}/deviceInfos
 *       -> PageData {data: [DeviceInfo {id: {entityType, id}, name, type, label, active}],
 *          totalPages, totalElements, hasNext}
 *  GET  /api/plugins/telemetry/DEVICE/{id}/values/attributes/SERVER_SCOPE?keys=active,lastActivityTime
 *       -> [{key, value, lastUpdateTs}]
 *  GET  /api/plugins/telemetry/DEVICE/{id}/values/timeseries -> {key: [{ts, value}]}
 *  POST /api/plugins/rpc/oneway/{deviceId} {method, params} -> 200
 *  POST /api/plugins/telemetry/DEVICE/{deviceId}/SHARED_SCOPE {key: value, ...} -> 200 */
#include <ctype.h>
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/monotime.h"
#include "core/urlenc.h"
#include "core/validate.h"
#include "events/audit.h"
#include "integrations/integration_ops.h"
#include "integrations/providers/provider.h"
#include "integrations/providers/thingsboard.h"

#define MAX_JSON_BYTES 16384

/* Epoch milliseconds as RFC 3339 UTC with milliseconds, or NULL. */
static struct json_object *ms_time(struct arena *a, struct json_object *v)
{
	if (!v || (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)))
		return NULL;
	int64_t ms = json_object_get_int64(v);
	if (ms <= 0)
		return NULL;
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];
	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm))
		return NULL;
	return json_object_new_string(arena_printf(a, "%s.%03dZ", buf, (int)(ms % 1000)));
}

static struct json_object *copy(struct json_object *v)
{
	struct json_object *out = NULL;
	if (v && json_object_deep_copy(v, &out, NULL))
		return NULL;
	return out;
}

/* {key: {value, ts}} of GET .../values/timeseries. */
struct json_object *tb_telemetry(struct arena *a, struct json_object *j)
{
	struct json_object *out = json_object_new_object();
	if (!j || !json_object_is_type(j, json_type_object))
		return out;
	json_object_object_foreach(j, key, list)
	{
		struct json_object *e = json_object_is_type(list, json_type_array) && json_object_array_length(list)
						? json_object_array_get_idx(list, 0)
						: NULL, *ts = NULL, *val = NULL;
		if (!e)
			continue;
		json_object_object_get_ex(e, "ts", &ts);
		json_object_object_get_ex(e, "value", &val);
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "value", copy(val));
		json_object_object_add(o, "ts", ms_time(a, ts));
		json_object_object_add(out, key, o);
	}
	return out;
}

/* active and last_activity_at from the server attributes, when ThingsBoard has them. */
void tb_server_attributes(struct arena *a, struct json_object *list, struct json_object *d)
{
	if (!list || !json_object_is_type(list, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *e = json_object_array_get_idx(list, i), *v = NULL;
		const char *key = jsonx_get_string(e, "key");
		if (!key || !json_object_object_get_ex(e, "value", &v))
			continue;
		if (!strcmp(key, "active") && json_object_is_type(v, json_type_boolean))
			json_object_object_add(d, "active", json_object_new_boolean(json_object_get_boolean(v)));
		else if (!strcmp(key, "lastActivityTime"))
			json_object_object_add(d, "last_activity_at", ms_time(a, v));
	}
}

struct json_object *tb_device_entry(struct json_object *info)
{
	struct json_object *d = json_object_new_object(), *id = NULL, *active = NULL;
	json_object_object_get_ex(info, "id", &id);
	json_object_object_add(d, "id", jsonx_string_or_null(jsonx_get_string(id, "id")));
	json_object_object_add(d, "name", jsonx_string_or_null(jsonx_get_string(info, "name")));
	json_object_object_add(d, "type", jsonx_string_or_null(jsonx_get_string(info, "type")));
	json_object_object_add(d, "label", jsonx_string_or_null(jsonx_get_string(info, "label")));
	json_object_object_get_ex(info, "active", &active);
	json_object_object_add(d, "active",
			       json_object_is_type(active, json_type_boolean)
				       ? json_object_new_boolean(json_object_get_boolean(active))
				       : NULL);
	json_object_object_add(d, "last_activity_at", NULL);
	json_object_object_add(d, "telemetry", NULL);
	json_object_object_add(d, "error", NULL);
	return d;
}

/* The first page of the user's devices (tenant or customer). 0 or -1 with *r. */
static int list_devices(struct arena *a, const struct tb_session *s, struct tb_reply *r)
{
	tb_call(a, s, NULL, "/api/auth/user", NULL, r);
	if (r->outcome != TB_OK)
		return -1;
	const char *authority = jsonx_get_string(r->json, "authority");
	struct json_object *cust = NULL;
	json_object_object_get_ex(r->json, "customerId", &cust);
	long n = config_int("SB_THINGSBOARD_VIEW_DEVICES", 20, 1, 100);
	const char *path;
	if (authority && !strcmp(authority, "CUSTOMER_USER") && jsonx_get_string(cust, "id"))
		path = arena_printf(a, "/api/customer/%s/deviceInfos?pageSize=%ld&page=0",
				    url_encode(a, jsonx_get_string(cust, "id")), n);
	else
		path = arena_printf(a, "/api/tenant/deviceInfos?pageSize=%ld&page=0", n);
	tb_call(a, s, NULL, path, NULL, r);
	return r->outcome == TB_OK ? 0 : -1;
}

static void fill_devices(struct arena *a, const struct integration *row, struct json_object *v)
{
	struct tb_session s;
	struct tb_reply r;
	if (tb_login(a, row, &s, &r) || list_devices(a, &s, &r)) {
		json_object_object_add(v, "devices_error", json_object_new_string(r.reason));
		return;
	}
	struct json_object *data = NULL, *total = NULL, *list = json_object_new_array();
	json_object_object_get_ex(r.json, "data", &data);
	json_object_object_get_ex(r.json, "totalElements", &total);
	json_object_object_add(v, "devices", list);
	json_object_object_add(v, "devices_total", copy(total));
	double deadline = monotime_ms() + (double)config_int("SB_THINGSBOARD_VIEW_BUDGET_MS", 8000, 500, 60000);
	size_t n = data && json_object_is_type(data, json_type_array) ? json_object_array_length(data) : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = tb_device_entry(json_object_array_get_idx(data, i));
		json_object_array_add(list, d);
		const char *id = jsonx_get_string(d, "id");
		if (!id)
			continue;
		if (monotime_ms() > deadline) {
			json_object_object_add(d, "error", json_object_new_string("not read: the server was too slow"));
			continue;
		}
		const char *base = arena_printf(a, "/api/plugins/telemetry/DEVICE/%s/values/", url_encode(a, id));
		tb_call(a, &s, NULL, arena_printf(a, "%sattributes/SERVER_SCOPE?keys=active,lastActivityTime", base),
			NULL, &r);
		if (r.outcome == TB_OK) {
			tb_server_attributes(a, r.json, d);
			tb_call(a, &s, NULL, arena_printf(a, "%stimeseries", base), NULL, &r);
		}
		if (r.outcome == TB_OK)
			json_object_object_add(d, "telemetry", tb_telemetry(a, r.json));
		else
			json_object_object_add(d, "error", json_object_new_string(r.reason));
	}
}

/* The view with the devices read live (devices_error when the server fails: part of
 * the view, not an error). */
int tb_get(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct integration row;
	if (integration_load_or_fail(c, p->name, &row, r))
		return r->outcome;
	struct json_object *v = p->view(c->a, &row);
	if (row.enabled)
		fill_devices(c->a, &row, v);
	return provider_ok(r, v, NULL);
}

/* --- actions -------------------------------------------------------------------------- */

/* ThingsBoard's ids are UUIDs. */
static const char *check_uuid(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	if (strlen(s) != 36)
		return "must be a ThingsBoard device id (a UUID)";
	for (int i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return "must be a ThingsBoard device id (a UUID)";
	return NULL;
}

const struct field tb_rpc_fields[] = {
	{"device_id", FIELD_STRING, true, 36, 36, check_uuid},
	{"method", FIELD_STRING, true, 1, 255, check_printable},
	{NULL, 0, false, 0, 0, NULL},
};

const struct field tb_attr_fields[] = {
	{"device_id", FIELD_STRING, true, 36, 36, check_uuid},
	{"attributes", FIELD_OBJECT, true, 0, 0, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

/* Logs in for an action on an enabled row. 0, or -1 with *r filled. */
static int action_session(const struct provider_call *c, const struct provider *p, struct tb_session *s,
			  struct provider_result *r)
{
	struct integration row;
	if (integration_load_or_fail(c, p->name, &row, r))
		return -1;
	if (!row.enabled) {
		provider_fail(r, PROVIDER_CONFLICT, "integration_disabled", "The ThingsBoard integration is disabled");
		return -1;
	}
	struct tb_reply b;
	if (tb_login(c->a, &row, s, &b)) {
		tb_fail(&b, r);
		return -1;
	}
	return 0;
}

/* POSTs body to path for the device; the result, or the failure (404: no such device). */
static int device_post(const struct provider_call *c, const struct tb_session *s, const char *path,
		       const char *body, struct provider_result *r)
{
	struct tb_reply b;
	tb_call(c->a, s, "POST", path, body, &b);
	if (b.outcome == TB_OK)
		return 0;
	if (b.status == 404)
		provider_fail(r, PROVIDER_NOT_FOUND, "device_not_found",
			      arena_printf(c->a, "ThingsBoard has no such device for this user (%s)", b.reason));
	else
		tb_fail(&b, r);
	return -1;
}

static const char *json_text(struct arena *a, struct json_object *o)
{
	return arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

static int audited(const struct provider_call *c, const char *action, struct json_object *d,
		   struct provider_result *r, const char *message)
{
	enum db_status st = audit_record(c->a, c->who, action, "thingsboard", json_object_get(d));
	if (st != DB_OK) {
		json_object_put(d);
		return provider_db(c->a, r, st);
	}
	json_object_object_add(d, "sent", json_object_new_boolean(1));
	return provider_ok(r, d, message);
}

/* POST .../thingsboard/rpc {device_id, method, params}: a one-way RPC. */
int tb_rpc(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct json_object *params = NULL;
	json_object_object_get_ex(c->body, "params", &params);
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "method", json_object_new_string(jsonx_get_string(c->body, "method")));
	json_object_object_add(req, "params", params ? json_object_get(params) : json_object_new_object());
	const char *body = json_text(c->a, req);
	json_object_put(req);
	if (strlen(body) > MAX_JSON_BYTES)
		return provider_invalid_field(r, "params", "must be at most 16 KiB of JSON");
	struct tb_session s;
	const char *id = jsonx_get_string(c->body, "device_id");
	if (action_session(c, p, &s, r) ||
	    device_post(c, &s, arena_printf(c->a, "/api/plugins/rpc/oneway/%s", id), body, r))
		return r->outcome;
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "device_id", json_object_new_string(id));
	json_object_object_add(d, "method", json_object_new_string(jsonx_get_string(c->body, "method")));
	return audited(c, "integration.thingsboard_rpc_sent", d, r, "RPC sent to the device");
}

/* POST .../thingsboard/attributes {device_id, attributes}: shared attributes. */
int tb_attributes(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct json_object *attrs = NULL;
	json_object_object_get_ex(c->body, "attributes", &attrs);
	int n = json_object_object_length(attrs);
	if (n < 1 || n > 100)
		return provider_invalid_field(r, "attributes", "must have 1 to 100 members");
	const char *body = json_text(c->a, attrs);
	if (strlen(body) > MAX_JSON_BYTES)
		return provider_invalid_field(r, "attributes", "must be at most 16 KiB of JSON");
	struct tb_session s;
	const char *id = jsonx_get_string(c->body, "device_id");
	if (action_session(c, p, &s, r) ||
	    device_post(c, &s, arena_printf(c->a, "/api/plugins/telemetry/DEVICE/%s/SHARED_SCOPE", id), body, r))
		return r->outcome;
	struct json_object *d = json_object_new_object(), *keys = json_object_new_array();
	json_object_object_foreach(attrs, key, val)
	{
		(void)val;
		json_object_array_add(keys, json_object_new_string(key));
	}
	json_object_object_add(d, "device_id", json_object_new_string(id));
	json_object_object_add(d, "scope", json_object_new_string("SHARED_SCOPE"));
	json_object_object_add(d, "keys", keys);
	return audited(c, "integration.thingsboard_attributes_written", d, r, "Shared attributes written");
}
