/* Catalog, listing, and the config routes every provider shares. */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "db/db.h"
#include "events/audit.h"
#include "events/events.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"
#include "integrations/integration.h"
#include "integrations/providers/provider.h"

enum db_status integration_event(struct request *rq, const char *type, const char *provider, const char *status)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "provider", json_object_new_string(provider));
	json_object_object_add(d, "user_id", json_object_new_string(rq->user_id));
	if (status)
		json_object_object_add(d, "status", json_object_new_string(status));
	struct event_published out;
	enum db_status s = events_publish(rq->arena, rq->user_id, type, d, NULL, &out);
	json_object_put(d);
	return s;
}

/* 200 [catalog entries] */
int handle_catalog(struct request *rq)
{
	unsigned n;
	const struct provider *const *all = provider_all(&n);
	struct json_object *list = json_object_new_array();
	for (unsigned i = 0; i < n; i++)
		json_object_array_add(list, provider_catalog_entry(all[i]));
	return reply_ok(rq, 200, list, NULL);
}

/* The IntegrationStatusResponse of spec 000 plus status and last_error. */
static struct json_object *status_json(const struct integration *row)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "provider", json_object_new_string(row->provider));
	bool connected = row->status && (!strcmp(row->status, "connected") || !strcmp(row->status, "active"));
	json_object_object_add(o, "connected", json_object_new_boolean(connected));
	json_object_object_add(o, "enabled", json_object_new_boolean(row->enabled));
	json_object_object_add(o, "connected_at", jsonx_string_or_null(row->connected_at));
	json_object_object_add(o, "last_used_at", jsonx_string_or_null(row->last_used_at));
	json_object_object_add(o, "status", jsonx_string_or_null(row->status));
	json_object_object_add(o, "last_error", jsonx_string_or_null(row->last_error));
	json_object_object_add(o, "last_checked_at", jsonx_string_or_null(row->last_checked_at));
	return o;
}

/* 200 [status] | 401 | 503 */
int handle_list(struct request *rq)
{
	PGresult *res;
	enum db_status s = integration_list(rq->arena, rq->user_id, &res);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	struct json_object *list = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		struct integration row;
		integration_from_row(rq->arena, res, i, &row);
		json_object_array_add(list, status_json(&row));
	}
	return reply_ok(rq, 200, list, NULL);
}

static const struct provider *provider_or_404(struct request *rq)
{
	const struct provider *p = provider_find(request_param(rq, "provider"));
	if (!p)
		reply_error(rq, 404, "not_found", "No such integration provider");
	return p;
}

/* 200 view | 401 | 404 (unknown provider, nothing saved) | 503 */
int handle_get(struct request *rq)
{
	const struct provider *p = provider_or_404(rq);
	if (!p)
		return rq->status;
	if (!strcmp(p->name, "arduino_cloud"))
		return handle_arduino_get(rq, p);
	struct integration row;
	bool found;
	enum db_status s = integration_load(rq->arena, rq->user_id, p->name, false, &row, &found);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!found)
		return reply_error(rq, 404, "not_found", "This integration is not configured");
	return reply_ok(rq, 200, p->view(rq->arena, &row), NULL);
}

/* 200 view (saved) | 400 | 401 | 404 | 405 (not configured by PUT) | 415 | 422 | 503
 * The row is locked while the new config is built from the old one (a PUT without a
 * password keeps the stored one), then upserted with its audit event in one transaction. */
int handle_put(struct request *rq)
{
	const struct provider *p = provider_or_404(rq);
	if (!p)
		return rq->status;
	if (!strcmp(p->name, "arduino_cloud"))
		return handle_arduino_put(rq, p);
	if (p->auth != PROVIDER_AUTH_CONFIG || !p->config_build) {
		reply_header(rq, "Allow", "GET, PATCH, DELETE");
		return reply_error(rq, 405, "method_not_allowed",
				   "This integration is connected through its OAuth flow");
	}
	struct json_object *errors = NULL;
	validate_object(rq->json, p->config_fields, &errors);
	if (p->validate) {
		if (!errors)
			errors = json_object_new_object();
		p->validate(rq->json, errors);
	}
	if (errors && json_object_object_length(errors) > 0)
		return reply_invalid(rq, errors);
	json_object_put(errors);

	struct integration prev, saved;
	bool found;
	struct json_object *config;
	/* FOR UPDATE locks nothing while the row does not exist yet: an advisory lock on
	 * (user, provider) serialises first saves too, so each sees the one before it. */
	const char *lk[] = {rq->user_id, p->name};
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(rq->arena, NULL, "SELECT pg_advisory_xact_lock(hashtext($1 || ':' || $2))", 2, lk);
	if (s == DB_OK)
		s = integration_load(rq->arena, rq->user_id, p->name, true, &prev, &found);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (p->validate_saved) {
		errors = json_object_new_object();
		p->validate_saved(rq->json, found ? &prev : NULL, errors);
		if (json_object_object_length(errors) > 0) {
			db_rollback(rq->arena);
			return reply_invalid(rq, errors);
		}
		json_object_put(errors);
	}
	if (p->config_build(rq->arena, rq->user_id, rq->json, found ? &prev : NULL, &config)) {
		db_rollback(rq->arena);
		return reply_internal(rq);
	}
	bool enabled = jsonx_get_bool(rq->json, "enabled", 1);
	s = integration_upsert_config(rq->arena, rq->user_id, p->name, enabled, config, "disconnected", &saved);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "enabled", json_object_new_boolean(enabled));
		s = audit_record(rq->arena, request_actor(rq, rq->user_id),
				 found ? "integration.updated" : "integration.connected", p->name, d);
	}
	if (s == DB_OK)
		s = integration_event(rq, found ? "integration.updated" : "integration.connected", p->name,
				      saved.status);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, p->view(rq->arena, &saved), "Configuration saved");
}

/* 200 | 401 | 404 (unknown provider, nothing saved) | 503 */
int handle_delete(struct request *rq)
{
	const struct provider *p = provider_or_404(rq);
	if (!p)
		return rq->status;
	if (p->auth == PROVIDER_AUTH_OAUTH2 && p->oauth)
		return oauth_delete(rq, p);
	bool deleted;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = integration_delete(rq->arena, rq->user_id, p->name, &deleted);
	if (s == DB_OK && deleted)
		s = audit_record(rq->arena, request_actor(rq, rq->user_id), "integration.disconnected", p->name, NULL);
	if (s == DB_OK && deleted)
		s = integration_event(rq, "integration.disconnected", p->name, NULL);
	if (s == DB_OK)
		s = deleted ? db_commit(rq->arena) : (db_rollback(rq->arena), DB_OK);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!deleted)
		return reply_error(rq, 404, "not_found", "This integration is not configured");
	return reply_ok(rq, 200, NULL, "Integration removed");
}
