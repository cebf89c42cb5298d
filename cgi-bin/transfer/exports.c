/* Export jobs: create (run by the worker), list, get, delete, download (served by nginx
 * from SB_TRANSFER_DIR through X-Accel-Redirect, so a big file holds no responder). */
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "events/audit.h"
#include "handlers.h"
#include "http/authenticate.h"
#include "http/reply.h"
#include "http/request.h"
#include "transfer/entity.h"
#include "transfer/export_deliver.h"
#include "transfer/export_store.h"

static const char *check_format(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	return strcmp(s, "csv") && strcmp(s, "xlsx") ? "must be \"csv\" or \"xlsx\"" : NULL;
}

const struct field export_create_fields[] = {
	{"entity", FIELD_STRING, true, 1, 50, NULL},  {"format", FIELD_STRING, false, 1, 10, check_format},
	{"filters", FIELD_OBJECT, false, 0, 0, NULL}, {"columns", FIELD_ARRAY, false, 1, 64, NULL},
	{"bom", FIELD_BOOL, false, 0, 0, NULL},	      {"destination", FIELD_OBJECT, false, 0, 0, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

const char *transfer_path_uuid(struct request *rq, const char *name, const char *what)
{
	const char *id = request_param(rq, name);
	if (!auth_is_uuid(id)) {
		reply_error(rq, 404, "not_found", what);
		return NULL;
	}
	return id;
}

/* RFC 3339 with a zone: 2026-12-01T00:00:00Z, 2026-12-01T01:00:00.5+01:00. */
static bool rfc3339(const char *s)
{
	size_t n = strlen(s);
	if (n < 20 || n > 35)
		return false;
	for (size_t i = 0; i < 19; i++) {
		char want = "dddd-dd-ddTdd:dd:dd"[i];
		if (want == 'd' ? !isdigit((unsigned char)s[i]) : (s[i] != want && !(i == 10 && s[i] == 't')))
			return false;
	}
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (!strcmp(p, "Z") || !strcmp(p, "z"))
		return true;
	return (p[0] == '+' || p[0] == '-') && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
	       p[3] == ':' && isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5]) && !p[6];
}

static bool in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

static void add(struct json_object *errors, const char *field, const char *msg)
{
	json_object_object_add(errors, field, json_object_new_string(msg));
}

void export_body_check(struct request *rq, struct json_object *body, bool scheduled, struct json_object *errors,
		       struct export_request *er)
{
	memset(er, 0, sizeof(*er));
	er->entity = jsonx_get_string(body, "entity");
	er->format = jsonx_get_string(body, "format");
	if (!er->format)
		er->format = "csv";
	er->bom = jsonx_get_bool(body, "bom", 0);
	struct json_object *dest = NULL;
	if (json_object_object_get_ex(body, "destination", &dest) && dest)
		er->destination_json = export_destination_check(rq->arena, rq->user_id, dest, errors);
	const struct export_entity *e = export_entity_find(er->entity);
	if (!e) {
		add(errors, "entity",
		    "must be one of integrations, audit_log, webhooks, webhook_deliveries, api_keys, "
		    "api_request_logs, oauth_clients");
		return;
	}
	struct json_object *filters = NULL, *clean = json_object_new_object();
	arena_defer(rq->arena, jsonx_put, clean);
	json_object_object_get_ex(body, "filters", &filters);
	if (filters) {
		json_object_object_foreach(filters, key, val)
		{
			const char *field = arena_printf(rq->arena, "filters.%s", key);
			bool is_time = !strcmp(key, "from") || !strcmp(key, "to");
			if (is_time && scheduled) {
				add(errors, field, "is set by each run: use window_seconds");
				continue;
			}
			const char *sql = is_time		       ? e->time_sql
					  : !strcmp(key, "provider")   ? e->provider_sql
					  : !strcmp(key, "webhook_id") ? e->webhook_sql
					  : !strcmp(key, "status")     ? e->status_sql
								       : NULL;
			if (!sql) {
				add(errors, field, arena_printf(rq->arena, "is not a filter of %s", e->name));
				continue;
			}
			if (!val || !json_object_is_type(val, json_type_string)) {
				add(errors, field, "must be a string");
				continue;
			}
			const char *s = json_object_get_string(val);
			if (is_time && !rfc3339(s))
				add(errors, field, "must be an RFC 3339 time with a zone, like 2026-12-01T00:00:00Z");
			else if (!strcmp(key, "webhook_id") && !auth_is_uuid(s))
				add(errors, field, "must be a webhook id (UUID)");
			else if (!strcmp(key, "status") && e->statuses && !in_list(e->statuses, s))
				add(errors, field, "is not a status of this entity");
			else if (utf8_length(s, strlen(s)) < 1 || strlen(s) > 100)
				add(errors, field, "must be 1 to 100 characters");
			else
				json_object_object_add(clean, key, json_object_new_string(s));
		}
		const char *from = jsonx_get_string(clean, "from"), *to = jsonx_get_string(clean, "to");
		(void)from;
		(void)to; /* an empty window (to before from) is a valid, empty export */
	}
	er->filters_json = arena_strdup(rq->arena, json_object_to_json_string_ext(clean, JSON_C_TO_STRING_PLAIN));
	struct json_object *cols = NULL;
	json_object_object_get_ex(body, "columns", &cols);
	if (cols) {
		char *lit = "{";
		for (size_t i = 0; i < json_object_array_length(cols); i++) {
			struct json_object *c = json_object_array_get_idx(cols, i);
			const char *name = json_object_is_type(c, json_type_string) ? json_object_get_string(c) : NULL;
			if (!name || export_column_index(e, name) < 0) {
				add(errors, "columns", arena_printf(rq->arena, "must name columns of %s", e->name));
				return;
			}
			/* Column names are [a-z_] from the entity's table: nothing to quote. */
			lit = arena_printf(rq->arena, "%s%s%s", lit, i ? "," : "", name);
		}
		er->columns = arena_printf(rq->arena, "%s}", lit);
	}
}

/* 202 job | 400 | 401 | 403 | 415 | 422 | 503 */
int handle_export_create(struct request *rq)
{
	struct json_object *errors = json_object_new_object();
	struct export_request er;
	export_body_check(rq, rq->json, false, errors, &er);
	if (json_object_object_length(errors))
		return reply_invalid(rq, errors);
	json_object_put(errors);
	struct json_object *job = NULL;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = export_job_create(rq->arena, rq->user_id, &er, &job);
	arena_defer(rq->arena, jsonx_put, job); /* until the reply takes it */
	const char *id = jsonx_get_string(job, "id");
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "export_id", json_object_new_string(id));
		json_object_object_add(d, "entity_type", json_object_new_string(er.entity));
		json_object_object_add(d, "format", json_object_new_string(er.format));
		if (er.destination_json)
			json_object_object_add(d, "destination", json_tokener_parse(er.destination_json));
		s = audit_record(rq->arena, request_actor(rq, rq->user_id), "export.requested", NULL, d);
	}
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	reply_header(rq, "Location", arena_printf(rq->arena, "/api/v1/export/%s", id));
	return reply_ok(rq, 202, json_object_get(job), "Export queued");
}

/* 200 {items, page, limit, total} | 401 | 403 | 422 | 503 */
int handle_export_list(struct request *rq)
{
	long page, limit;
	if (reply_page_params(rq, &page, &limit))
		return rq->status;
	struct json_object *items;
	long long total;
	enum db_status s = export_job_list(rq->arena, rq->user_id, limit, (page - 1) * limit, &items, &total);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, reply_page(items, page, limit, total), NULL);
}

/* 200 job | 401 | 403 | 404 | 503 */
int handle_export_get(struct request *rq)
{
	const char *id = transfer_path_uuid(rq, "id", "No such export");
	if (!id)
		return rq->status;
	struct json_object *job;
	enum db_status s = export_job_get(rq->arena, rq->user_id, id, &job);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!job)
		return reply_error(rq, 404, "not_found", "No such export");
	return reply_ok(rq, 200, job, NULL);
}

/* 200 | 401 | 403 | 404 | 503 */
int handle_export_delete(struct request *rq)
{
	const char *id = transfer_path_uuid(rq, "id", "No such export");
	if (!id)
		return rq->status;
	bool deleted = false;
	enum db_status s = export_job_delete(rq->arena, rq->user_id, id, &deleted);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!deleted)
		return reply_error(rq, 404, "not_found", "No such export");
	return reply_ok(rq, 200, NULL, "Export deleted");
}

/* 200 file (nginx, with ranges, ETag, Content-Length) | 401 | 403 | 404 | 409 not ready
 * | 410 expired | 503 */
int handle_export_download(struct request *rq)
{
	const char *id = transfer_path_uuid(rq, "id", "No such export");
	if (!id)
		return rq->status;
	const char *state, *file, *name, *type;
	enum db_status s = export_job_file(rq->arena, rq->user_id, id, &state, &file, &name, &type);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!state)
		return reply_error(rq, 404, "not_found", "No such export");
	if (!strcmp(state, "expired"))
		return reply_error(rq, 410, "expired", "The export file has expired; create a new export");
	if (strcmp(state, "ready") || !file)
		return reply_error(rq, 409, "not_ready", "The export has not completed");
	/* The file name is "<uuid>.<csv|xlsx>", the offered name [a-z_]-<time>.<format>:
	 * neither needs escaping. */
	reply_header(rq, "X-Accel-Redirect", arena_printf(rq->arena, "/_sb_transfer_files/%s", file));
	reply_header(rq, "Content-Disposition", arena_printf(rq->arena, "attachment; filename=\"%s\"", name));
	return reply_raw(rq, 200, type, "", 0);
}
