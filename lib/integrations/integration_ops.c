/* Integration operations and their defaults; see integration_ops.h. */
#include "integrations/integration_ops.h"

#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "events/audit.h"
#include "integrations/health.h"
#include "integrations/integration_events.h"

int integration_get(const struct provider *p, const struct provider_call *c, struct provider_result *r)
{
	int outcome = (p->get ? p->get : integration_default_get)(c, p, r);
	/* spec 001 shows a message on every answer, reads included. */
	if (outcome == PROVIDER_OK && !r->message)
		r->message = arena_printf(c->a, "%s integration", p->display_name);
	return outcome;
}

int integration_put(const struct provider *p, const struct provider_call *c, struct provider_result *r)
{
	return (p->put ? p->put : integration_default_put)(c, p, r);
}

int integration_delete_op(const struct provider *p, const struct provider_call *c, struct provider_result *r)
{
	return (p->del ? p->del : integration_default_delete)(c, p, r);
}

int integration_patch(const struct provider *p, const struct provider_call *c, struct provider_result *r)
{
	return (p->patch ? p->patch : integration_default_patch)(c, p, r);
}

int integration_refresh(const struct provider *p, const struct provider_call *c, struct provider_result *r)
{
	/* A disabled integration is paused: nothing is sent to its provider, a token
	 * exchange included (409 integration_disabled, as for its other actions). */
	struct integration row;
	if (integration_enabled_or_fail(c, p, &row, r))
		return r->outcome;
	return (p->refresh ? p->refresh : integration_default_refresh)(c, p, r);
}

static struct json_object *status_json(const struct integration *row)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "provider", json_object_new_string(row->provider));
	/* One vocabulary with /health: a disabled row is not connected, whatever its
	 * last check said; health_status is the word /health gives for the row. */
	bool connected = row->enabled && row->status &&
			 (!strcmp(row->status, "connected") || !strcmp(row->status, "active"));
	json_object_object_add(o, "connected", json_object_new_boolean(connected));
	json_object_object_add(o, "health_status",
			       jsonx_string_or_null(row->id ? health_status(row->status, row->enabled) : NULL));
	json_object_object_add(o, "enabled", json_object_new_boolean(row->enabled));
	json_object_object_add(o, "connected_at", jsonx_string_or_null(row->connected_at));
	json_object_object_add(o, "last_used_at", jsonx_string_or_null(row->last_used_at));
	json_object_object_add(o, "status", jsonx_string_or_null(row->status));
	json_object_object_add(o, "last_error", jsonx_string_or_null(row->last_error));
	json_object_object_add(o, "last_checked_at", jsonx_string_or_null(row->last_checked_at));
	return o;
}

void integration_identify(struct json_object *o, const struct integration *row, const char *provider)
{
	json_object_object_add(o, "integration_id", jsonx_string_or_null(row ? row->id : NULL));
	json_object_object_add(o, "integration_type", json_object_new_string(provider));
	json_object_object_add(o, "name",
			       jsonx_string_or_null(row && row->metadata ? jsonx_get_string(row->metadata, "name") : NULL));
}

enum db_status integration_status_of(struct arena *a, const char *user_id, const char *provider,
				     struct json_object **out)
{
	struct integration row;
	bool found;
	*out = NULL;
	enum db_status s = integration_load(a, user_id, provider, false, &row, &found);
	if (s != DB_OK)
		return s;
	if (!found) {
		memset(&row, 0, sizeof(row));
		row.provider = provider;
	}
	*out = status_json(&row);
	json_object_object_add(*out, "configured", json_object_new_boolean(found));
	integration_identify(*out, found ? &row : NULL, provider);
	return DB_OK;
}

enum db_status integration_status_list_ids(struct arena *a, const char *user_id, const char *only,
					   struct json_object **out)
{
	PGresult *res;
	*out = NULL;
	enum db_status s = integration_list(a, user_id, &res);
	if (s != DB_OK)
		return s;
	struct json_object *list = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		struct integration row;
		integration_from_row(a, res, i, &row);
		if (only && strcmp(only, row.provider))
			continue;
		struct json_object *o = status_json(&row);
		integration_identify(o, &row, row.provider);
		json_object_array_add(list, o);
	}
	*out = list;
	return DB_OK;
}

enum db_status integration_status_list(struct arena *a, const char *user_id, struct json_object **out)
{
	PGresult *res;
	*out = NULL;
	enum db_status s = integration_list(a, user_id, &res);
	if (s != DB_OK)
		return s;
	struct json_object *list = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		struct integration row;
		integration_from_row(a, res, i, &row);
		json_object_array_add(list, status_json(&row));
	}
	*out = list;
	return DB_OK;
}

int integration_load_or_fail(const struct provider_call *c, const char *provider, struct integration *row,
			     struct provider_result *r)
{
	bool found;
	enum db_status s = integration_load(c->a, c->user_id, provider, false, row, &found);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (!found)
		return provider_not_configured(r);
	return 0;
}

int integration_enabled_or_fail(const struct provider_call *c, const struct provider *p, struct integration *row,
				struct provider_result *r)
{
	bool found;
	enum db_status s = integration_load(c->a, c->user_id, p->name, false, row, &found);
	if (s != DB_OK)
		return provider_db(c->a, r, s), -1;
	if (!found)
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "This integration is not connected"), -1;
	if (!row->enabled)
		return provider_fail(r, PROVIDER_CONFLICT, "integration_disabled",
				     arena_printf(c->a, "The %s integration is disabled: enable it with PATCH",
						  p->display_name ? p->display_name : p->name)),
		       -1;
	return 0;
}

int integration_default_get(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct integration row;
	if (integration_load_or_fail(c, p->name, &row, r))
		return r->outcome;
	return provider_ok(r, p->view(c->a, &row), NULL);
}

enum db_status integration_lock(struct arena *a, const char *user_id, const char *provider, struct integration *prev,
				bool *found)
{
	const char *lk[] = {user_id, provider};
	enum db_status s = db_exec(a, NULL, "SELECT pg_advisory_xact_lock(hashtext($1 || ':' || $2))", 2, lk);
	return s == DB_OK ? integration_load(a, user_id, provider, true, prev, found) : s;
}

enum db_status integration_saved(struct arena *a, const struct actor *who, const struct integration *saved,
				 bool was_new, struct json_object *details)
{
	enum db_status s = audit_record(a, who, was_new ? "integration.connected" : "integration.updated",
					saved->provider, details);
	if (s != DB_OK)
		return s;
	return was_new ? integration_event_connected(a, saved->user_id, saved->provider, saved->status, NULL, NULL)
		       : integration_event_updated(a, saved->user_id, saved->provider, saved->status, saved->enabled,
						   NULL);
}

/* The field table and the rules across fields; NULL when the body is valid, else the
 * failing fields (owned by the caller). */
static struct json_object *put_errors(const struct provider *p, struct json_object *body)
{
	struct json_object *errors = NULL;
	validate_object(body, p->config_fields, &errors);
	if (p->validate) {
		if (!errors)
			errors = json_object_new_object();
		p->validate(body, errors);
	}
	if (errors && json_object_object_length(errors) == 0) {
		json_object_put(errors);
		errors = NULL;
	}
	return errors;
}

/* The row is locked while the new config is built from the old one (a PUT without a
 * password keeps the stored one), then upserted with its audit event in one transaction. */
int integration_default_put(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	if (p->auth != PROVIDER_AUTH_CONFIG || !p->config_build) {
		provider_fail(r, PROVIDER_NOT_ALLOWED, "method_not_allowed",
			      "This integration is connected through its OAuth flow");
		r->allow = "GET, PATCH, DELETE";
		return r->outcome;
	}
	struct json_object *errors = put_errors(p, c->body);
	if (errors)
		return provider_invalid(r, errors);
	struct arena *a = c->a;
	struct integration prev, saved;
	bool found;
	struct json_object *config;
	enum db_status s = db_begin(a);
	if (s == DB_OK)
		s = integration_lock(a, c->user_id, p->name, &prev, &found);
	if (s != DB_OK)
		return provider_db(a, r, s);
	if (p->validate_saved) {
		errors = json_object_new_object();
		p->validate_saved(c->body, found ? &prev : NULL, errors);
		if (json_object_object_length(errors) > 0) {
			db_rollback(a);
			return provider_invalid(r, errors);
		}
		json_object_put(errors);
	}
	if (p->config_build(a, c->user_id, c->body, found ? &prev : NULL, &config)) {
		db_rollback(a);
		return provider_fail(r, PROVIDER_INTERNAL, "internal_error", "Internal error");
	}
	bool enabled = jsonx_get_bool(c->body, "enabled", 1);
	s = integration_upsert_config(a, c->user_id, p->name, enabled, config,
				      p->saved_status ? p->saved_status : "pending", &saved);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "enabled", json_object_new_boolean(enabled));
		s = integration_saved(a, c->who, &saved, !found, d);
	}
	if (s == DB_OK)
		s = db_commit(a);
	if (s != DB_OK)
		return provider_db(a, r, s);
	return provider_ok(r, p->view(a, &saved), "Configuration saved");
}

int integration_default_delete(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct arena *a = c->a;
	bool deleted;
	enum db_status s = db_begin(a);
	if (s == DB_OK)
		s = integration_delete(a, c->user_id, p->name, &deleted);
	if (s == DB_OK && deleted)
		s = audit_record(a, c->who, "integration.disconnected", p->name, NULL);
	if (s == DB_OK && deleted)
		s = integration_event_disconnected(a, c->user_id, p->name, -1);
	if (s == DB_OK && deleted && p->forget)
		s = p->forget(a, c->user_id);
	if (s == DB_OK)
		s = deleted ? db_commit(a) : (db_rollback(a), DB_OK);
	if (s != DB_OK)
		return provider_db(a, r, s);
	if (!deleted)
		return provider_not_configured(r);
	return provider_ok(r, NULL, "Integration removed");
}

static const struct field enabled_field[] = {
	{"enabled", FIELD_BOOL, false, 0, 0, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

/* Every refresh is a real one: force is accepted and changes nothing. */
static const struct field refresh_fields[] = {
	{"force", FIELD_BOOL, false, 0, 0, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

const struct field *const *integration_body_fields(struct arena *a, const struct provider *p,
						   enum integration_body op, const char *action)
{
	const struct field **t = arena_alloc(a, sizeof(*t) * 8);
	size_t n = 0;
	switch (op) {
	case INTEGRATION_BODY_PUT:
		if (!p->config_fields)
			return NULL;
		t[n++] = p->config_fields;
		break;
	case INTEGRATION_BODY_PATCH:
		t[n++] = enabled_field;
		if (p->settings)
			t[n++] = p->settings;
		break;
	case INTEGRATION_BODY_REFRESH:
		t[n++] = refresh_fields; /* spec 003's TokenRefreshRequest */
		break;
	case INTEGRATION_BODY_ACTION: {
		const struct provider_action *x = provider_action_find(p, action);
		if (!x)
			return NULL;
		if (x->fields)
			t[n++] = x->fields;
		for (const struct field *const *m = x->accepts; m && *m && n < 7; m++)
			t[n++] = *m;
		break;
	}
	}
	t[n] = NULL;
	return t;
}

/* {field: message} of a PATCH body: enabled, the provider's settings, nothing else. */
static struct json_object *patch_errors(const struct provider *p, struct json_object *body)
{
	struct json_object *errors = NULL, *more = NULL;
	validate_object(body, enabled_field, &errors);
	if (p->settings)
		validate_object(body, p->settings, &more);
	if (!errors)
		errors = json_object_new_object();
	if (more) {
		json_object_object_foreach(more, k, v)
		{
			json_object_object_add(errors, k, json_object_get(v));
		}
		json_object_put(more);
	}
	/* The PATCH route refuses other members before the handler runs, but the generic
	 * PUT /integrations/{id} hands its config here as the settings. */
	const struct field *const tables[] = {enabled_field, p->settings, NULL};
	validate_unknown(body, tables, &errors);
	if (json_object_object_length(errors) == 0) {
		json_object_put(errors);
		return NULL;
	}
	return errors;
}

int integration_default_patch(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct json_object *errors = patch_errors(p, c->body);
	if (errors)
		return provider_invalid(r, errors);
	struct arena *a = c->a;
	struct integration row;
	bool found;
	enum db_status s = db_begin(a);
	if (s == DB_OK)
		s = integration_load(a, c->user_id, p->name, true, &row, &found);
	if (s != DB_OK)
		return provider_db(a, r, s);
	if (!found) {
		db_rollback(a);
		return provider_not_configured(r);
	}
	struct json_object *settings = arena_defer(a, jsonx_put, json_object_new_object()), *v;
	for (const struct field *f = p->settings; f && f->name; f++)
		if (json_object_object_get_ex(c->body, f->name, &v))
			json_object_object_add(settings, f->name, json_object_get(v));
	bool enabled = jsonx_get_bool(c->body, "enabled", row.enabled);
	s = integration_update_settings(a, c->user_id, p->name, settings, enabled);
	if (s == DB_OK && c->set_name)
		s = integration_set_name(a, c->user_id, p->name, c->name);
	if (s == DB_OK)
		s = audit_record(a, c->who, "integration.updated", p->name, json_object_get(c->body));
	if (s == DB_OK)
		s = integration_event_updated(a, c->user_id, p->name, row.status, enabled, c->body);
	if (s == DB_OK)
		s = integration_load(a, c->user_id, p->name, false, &row, &found);
	if (s == DB_OK)
		s = db_commit(a);
	if (s != DB_OK)
		return provider_db(a, r, s);
	return provider_ok(r, p->view(a, &row), "Settings saved");
}

int integration_default_refresh(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)c;
	(void)p;
	return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "This integration has no OAuth token to refresh");
}
