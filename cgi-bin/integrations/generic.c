/* The generic routes of spec 003 (/integrations/{integration_id}, .../status,
 * .../health/all, .../health/{integration_id}, .../{integration_id}/refresh-token)
 * and spec 002 (/integrations/{type}/status, /sync, DELETE /integrations/{type}), for a
 * frontend that handles every integration alike. They run the same operations as the
 * /users/me/integrations/{provider} routes and answer the same objects, identified by
 * integration_id, integration_type and name. A key is an integration id (a UUID of one
 * of the caller's rows) or a provider name. */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "handlers.h"
#include "provider_reply.h"
#include "http/reply.h"
#include "http/request.h"
#include "integrations/health.h"
#include "integrations/integration_ops.h"
#include "integrations/providers/provider.h"

/* The provider of the key in the path ("integration_id" or "type"), and the caller's
 * row when the key is an id; NULL with a 404 (or 503) answered. */
static const struct provider *resolve(struct request *rq, const char *param, struct integration *row, bool *by_id)
{
	const char *key = request_param(rq, param);
	bool found = false;
	*by_id = false;
	if (key && text_is_uuid(key)) {
		enum db_status s = integration_load_by_id(rq->arena, rq->user_id, key, row, &found);
		if (s != DB_OK) {
			reply_db_failure(rq, s);
			return NULL;
		}
		const struct provider *p = found ? provider_find(row->provider) : NULL;
		if (!p)
			reply_error(rq, 404, "not_found", "No integration of yours has this id");
		*by_id = p != NULL;
		return p;
	}
	const struct provider *p = provider_find(key);
	if (!p)
		reply_error(rq, 404, "not_found", "No such integration (neither an integration id nor a type)");
	return p;
}

/* Adds integration_id, integration_type and name to a successful object answer; the
 * row is loaded again after the operation (it may have created or renamed it). */
static int reply_identified(struct request *rq, const struct provider *p, struct provider_result *r)
{
	if (r->outcome == PROVIDER_OK && r->data && json_object_is_type(r->data, json_type_object)) {
		struct integration row;
		bool found = false;
		if (integration_load(rq->arena, rq->user_id, p->name, false, &row, &found) != DB_OK)
			found = false;
		integration_identify(r->data, found ? &row : NULL, p->name);
	}
	return reply_result(rq, r);
}

static struct provider_call call_of(struct request *rq, struct json_object *body)
{
	struct provider_call c = {rq->arena, request_actor(rq, rq->user_id), rq->user_id, body, false, NULL};
	return c;
}

/* GET /integrations/status?integration_type=: 200 [status] | 404 unknown type */
int handle_generic_status(struct request *rq)
{
	const char *type = request_query(rq, "integration_type");
	const struct provider *p = NULL;
	if (type && *type && !(p = provider_find(type)))
		return reply_error(rq, 404, "not_found", "No such integration type");
	struct json_object *list;
	enum db_status s = integration_status_list_ids(rq->arena, rq->user_id, p ? p->name : NULL, &list);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, list, "Integration status retrieved");
}

/* GET /integrations/{type}/status: 200 {status, configured} | 404 */
int handle_generic_type_status(struct request *rq)
{
	struct integration row;
	bool by_id;
	const struct provider *p = resolve(rq, "type", &row, &by_id);
	if (!p)
		return rq->status;
	struct json_object *o;
	enum db_status s = integration_status_of(rq->arena, rq->user_id, p->name, &o);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, o, "Integration status retrieved");
}

/* GET /integrations/health/{integration_id}: the check of .../{provider}/health */
int handle_generic_health_one(struct request *rq)
{
	struct integration row;
	bool by_id;
	const struct provider *p = resolve(rq, "integration_id", &row, &by_id);
	if (!p)
		return rq->status;
	return reply_health_check(rq, p->name, by_id ? row.id : NULL);
}

/* GET /integrations/{key}: the provider's view */
int handle_generic_get(struct request *rq)
{
	struct integration row;
	bool by_id;
	const struct provider *p = resolve(rq, "integration_id", &row, &by_id);
	if (!p)
		return rq->status;
	struct provider_call c = call_of(rq, NULL);
	struct provider_result r;
	integration_get(p, &c, &r);
	return reply_identified(rq, p, &r);
}

static const char *check_name(struct json_object *v)
{
	return json_object_is_type(v, json_type_null) ? NULL : check_printable(v);
}

/* PUT /integrations/{key} {name, config, is_active}: config holds the provider's
 * settings (those PATCH .../{provider} takes), is_active is enabled, name a display
 * name. Every member is optional; others are refused. */
int handle_generic_put(struct request *rq)
{
	struct integration row;
	bool by_id;
	const struct provider *p = resolve(rq, "integration_id", &row, &by_id);
	if (!p)
		return rq->status;
	struct json_object *body = rq->json, *errors = json_object_new_object();
	arena_defer(rq->arena, jsonx_put, errors);
	struct json_object *patch = arena_defer(rq->arena, jsonx_put, json_object_new_object());
	struct provider_call c = call_of(rq, patch);
	json_object_object_foreach(body, k, val)
	{
		if (!strcmp(k, "name")) {
			const char *msg = NULL;
			if (!json_object_is_type(val, json_type_null)) {
				size_t n = json_object_is_type(val, json_type_string) ? strlen(json_object_get_string(val))
										  : 0;
				if (!json_object_is_type(val, json_type_string))
					msg = "must be a string or null";
				else if (n == 0 || n > 200)
					msg = "must be 1 to 200 characters";
				else
					msg = check_name(val);
			}
			if (msg)
				json_object_object_add(errors, k, json_object_new_string(msg));
			c.set_name = true;
			c.name = json_object_is_type(val, json_type_string) ? json_object_get_string(val) : NULL;
		} else if (!strcmp(k, "is_active")) {
			if (!json_object_is_type(val, json_type_boolean))
				json_object_object_add(errors, k, json_object_new_string("must be a boolean"));
			else
				json_object_object_add(patch, "enabled", json_object_get(val));
		} else if (!strcmp(k, "config")) {
			if (!json_object_is_type(val, json_type_object)) {
				json_object_object_add(errors, k, json_object_new_string("must be an object"));
				continue;
			}
			json_object_object_foreach(val, ck, cv)
			{
				if (!strcmp(ck, "enabled"))
					json_object_object_add(errors, "config.enabled",
							       json_object_new_string("use is_active"));
				else
					json_object_object_add(patch, ck, json_object_get(cv));
			}
		} else if (strcmp(k, "integration_id") && strcmp(k, "integration_type")) {
			json_object_object_add(errors, k, json_object_new_string("is not a member of this request"));
		}
	}
	if (json_object_object_length(errors) > 0)
		return reply_invalid(rq, json_object_get(errors));
	struct provider_result r;
	integration_patch(p, &c, &r);
	/* Field errors of the settings name them inside config. */
	if (r.outcome == PROVIDER_INVALID && r.data) {
		struct json_object *renamed = json_object_new_object();
		json_object_object_foreach(r.data, ek, ev)
		{
			json_object_object_add(renamed, strcmp(ek, "enabled") ? arena_printf(rq->arena, "config.%s", ek)
									     : "is_active",
					       json_object_get(ev));
		}
		json_object_put(r.data);
		return reply_invalid(rq, renamed);
	}
	return reply_identified(rq, p, &r);
}

/* DELETE /integrations/{key} (spec 003 by id, spec 002 by type) */
int handle_generic_delete(struct request *rq)
{
	struct integration row;
	bool by_id;
	const struct provider *p = resolve(rq, "integration_id", &row, &by_id);
	if (!p)
		return rq->status;
	struct provider_call c = call_of(rq, NULL);
	struct provider_result r;
	integration_delete_op(p, &c, &r);
	if (r.outcome == PROVIDER_OK && !r.data)
		r.data = json_object_new_object(); /* a config provider's delete answers no object */
	if (r.outcome == PROVIDER_OK && json_object_is_type(r.data, json_type_object)) {
		json_object_object_add(r.data, "integration_id", jsonx_string_or_null(by_id ? row.id : NULL));
		json_object_object_add(r.data, "integration_type", json_object_new_string(p->name));
	}
	return reply_result(rq, &r);
}

/* POST /integrations/{key}/refresh-token {force, integration_id}: the body of spec 003
 * repeats the id; it must then be the one in the path. */
int handle_generic_refresh(struct request *rq)
{
	struct integration row;
	bool by_id;
	const struct provider *p = resolve(rq, "integration_id", &row, &by_id);
	if (!p)
		return rq->status;
	struct json_object *body = NULL, *v;
	if (rq->json) {
		body = arena_defer(rq->arena, jsonx_put, json_object_new_object());
		json_object_object_foreach(rq->json, k, val)
		{
			if (strcmp(k, "integration_id"))
				json_object_object_add(body, k, json_object_get(val));
		}
		if (json_object_object_get_ex(rq->json, "integration_id", &v) && !json_object_is_type(v, json_type_null)) {
			const char *given = json_object_get_string(v);
			if (!by_id || !json_object_is_type(v, json_type_string) || strcmp(given, row.id))
				return reply_invalid_field(rq, "integration_id", "must be the integration id of the path");
		}
	}
	struct provider_call c = call_of(rq, body);
	struct provider_result r;
	integration_refresh(p, &c, &r);
	return reply_identified(rq, p, &r);
}

/* The body members of the generic routes (struct route's body_fields). */
static const struct field put_names[] = {
	{"name", FIELD_STRING, false, 0, 0, NULL},	     {"config", FIELD_OBJECT, false, 0, 0, NULL},
	{"is_active", FIELD_BOOL, false, 0, 0, NULL},	     {"integration_id", FIELD_STRING, false, 0, 0, NULL},
	{"integration_type", FIELD_STRING, false, 0, 0, NULL}, {NULL, 0, false, 0, 0, NULL},
};
static const struct field id_name[] = {
	{"integration_id", FIELD_STRING, false, 0, 0, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

/* name, config, is_active and the two keys: config's members are the settings, checked
 * by the handler (handle_generic_put). */
const struct field *const *generic_put_body_fields(const struct request *rq)
{
	(void)rq;
	static const struct field *const t[] = {put_names, NULL};
	return t;
}

const struct field *const *generic_refresh_body_fields(const struct request *rq)
{
	const struct field *const *refresh = integration_body_fields(rq->arena, NULL, INTEGRATION_BODY_REFRESH, NULL);
	const struct field **t = arena_alloc(rq->arena, sizeof(*t) * 3);
	t[0] = id_name, t[1] = refresh[0], t[2] = NULL;
	return t;
}

const struct field *const *generic_sync_body_fields(const struct request *rq)
{
	const struct provider *p = provider_find(request_param(rq, "type"));
	return p ? integration_body_fields(rq->arena, p, INTEGRATION_BODY_ACTION, "sync") : NULL;
}

/* POST /integrations/{type}/sync: the provider's "sync" action (spec 002) */
int handle_generic_sync(struct request *rq)
{
	struct integration row;
	bool by_id;
	const struct provider *p = resolve(rq, "type", &row, &by_id);
	if (!p)
		return rq->status;
	if (!provider_action_find(p, "sync"))
		return reply_error(rq, 404, "not_found", "This integration has nothing to sync");
	return run_action(rq, p, "sync");
}
