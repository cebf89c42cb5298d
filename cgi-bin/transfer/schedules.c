/* Scheduled exports: create, list, delete. Each run is an export job the worker makes. */
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "events/audit.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"
#include "transfer/export_store.h"
#include "transfer/schedule.h"

static const char *check_interval(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	return strcmp(s, "daily") && strcmp(s, "weekly") && strcmp(s, "cron")
		       ? "must be \"daily\", \"weekly\" or \"cron\""
		       : NULL;
}

static const char *check_at(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]) || atoi(s) > 23 || atoi(s + 3) > 59)
		return "must be a time of day HH:MM (24-hour)";
	return NULL;
}

static const char *check_tz(struct json_object *v)
{
	return schedule_tz_valid(json_object_get_string(v))
		       ? NULL
		       : "must be a time zone name like \"UTC\" or \"Europe/Berlin\"";
}

static const char *check_format(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	return strcmp(s, "csv") && strcmp(s, "xlsx") ? "must be \"csv\" or \"xlsx\"" : NULL;
}

const struct field schedule_create_fields[] = {
	{"name", FIELD_STRING, false, 0, 100, NULL},
	{"entity", FIELD_STRING, true, 1, 50, NULL},
	{"format", FIELD_STRING, false, 1, 10, check_format},
	{"filters", FIELD_OBJECT, false, 0, 0, NULL},
	{"columns", FIELD_ARRAY, false, 1, 64, NULL},
	{"bom", FIELD_BOOL, false, 0, 0, NULL},
	{"window_seconds", FIELD_INT, false, 60, 366L * 86400, NULL},
	{"interval", FIELD_STRING, true, 1, 10, check_interval},
	{"cron", FIELD_STRING, false, 9, 100, NULL},
	{"at", FIELD_STRING, false, 5, 5, check_at},
	{"weekday", FIELD_INT, false, 0, 6, NULL},
	{"time_zone", FIELD_STRING, false, 1, 64, check_tz},
	{"destination", FIELD_OBJECT, false, 0, 0, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

/* 201 schedule | 400 | 401 | 403 | 415 | 422 | 503 */
int handle_schedule_create(struct request *rq)
{
	struct json_object *errors = json_object_new_object(), *v;
	struct export_request er;
	export_body_check(rq, rq->json, true, errors, &er);
	const char *kind = jsonx_get_string(rq->json, "interval"), *cron = jsonx_get_string(rq->json, "cron");
	const char *at = jsonx_get_string(rq->json, "at"), *tz = jsonx_get_string(rq->json, "time_zone");
	if (!at)
		at = "00:00";
	if (!tz)
		tz = "UTC";
	int weekday = json_object_object_get_ex(rq->json, "weekday", &v) ? json_object_get_int(v) : 1;
	if (!strcmp(kind, "cron") && !cron)
		json_object_object_add(errors, "cron", json_object_new_string("is required when interval is \"cron\""));
	else if (strcmp(kind, "cron") && cron)
		json_object_object_add(errors, "cron", json_object_new_string("is only for interval \"cron\""));
	if (!strcmp(kind, "daily"))
		cron = arena_printf(rq->arena, "%d %d * * *", atoi(at + 3), atoi(at));
	else if (!strcmp(kind, "weekly"))
		cron = arena_printf(rq->arena, "%d %d * * %d", atoi(at + 3), atoi(at), weekday);
	time_t next = 0;
	const char *why;
	if (cron && !json_object_object_get_ex(errors, "cron", &v) && schedule_next(cron, tz, time(NULL), &next, &why))
		json_object_object_add(errors, "cron", json_object_new_string(why));
	if (json_object_object_length(errors))
		return reply_invalid(rq, errors);
	json_object_put(errors);
	struct export_schedule_new sn = {.name = jsonx_get_string(rq->json, "name"),
					 .entity = er.entity,
					 .format = er.format,
					 .filters_json = er.filters_json,
					 .columns = er.columns,
					 .bom = er.bom,
					 .interval_kind = kind,
					 .cron = cron,
					 .time_zone = tz,
					 .next_run = next,
					 .destination_json = er.destination_json};
	if (json_object_object_get_ex(rq->json, "window_seconds", &v) && v)
		sn.window_seconds = arena_printf(rq->arena, "%lld", (long long)json_object_get_int64(v));
	struct json_object *schedule = NULL;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = export_schedule_create(rq->arena, rq->user_id, &sn, &schedule);
	arena_defer(rq->arena, jsonx_put, schedule); /* until the reply takes it */
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "schedule_id", json_object_new_string(jsonx_get_string(schedule, "id")));
		json_object_object_add(d, "entity_type", json_object_new_string(er.entity));
		s = audit_record(rq->arena, request_actor(rq, rq->user_id), "export.schedule_created", NULL, d);
	}
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 201, json_object_get(schedule), "Export scheduled");
}

/* 200 [schedule] | 401 | 403 | 503 */
int handle_schedule_list(struct request *rq)
{
	struct json_object *list;
	enum db_status s = export_schedule_list(rq->arena, rq->user_id, &list);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, list, NULL);
}

/* 200 | 401 | 403 | 404 | 503 */
int handle_schedule_delete(struct request *rq)
{
	const char *id = transfer_path_uuid(rq, "id", "No such export schedule");
	if (!id)
		return rq->status;
	bool deleted = false;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = export_schedule_delete(rq->arena, rq->user_id, id, &deleted);
	if (s == DB_OK && deleted) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "schedule_id", json_object_new_string(id));
		s = audit_record(rq->arena, request_actor(rq, rq->user_id), "export.schedule_deleted", NULL, d);
	}
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!deleted)
		return reply_error(rq, 404, "not_found", "No such export schedule");
	return reply_ok(rq, 200, NULL, "Export schedule deleted");
}
