/* Scheduled exports; see schedule.h. */
#include "transfer/schedule.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "db/rows.h"
#include "transfer/export_store.h"

bool schedule_tz_valid(const char *tz)
{
	if (!tz || !*tz || strlen(tz) > 64 || strstr(tz, "..") || tz[0] == '/')
		return false;
	for (const char *c = tz; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("/_+-", *c))
			return false;
	if (!strcmp(tz, "UTC"))
		return true;
	char path[128];
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	return access(path, R_OK) == 0;
}

/* One cron field into a bitmask over [lo, hi]. Returns 0 or -1. */
static int cron_field(const char *s, size_t n, int lo, int hi, unsigned long long *mask)
{
	*mask = 0;
	char buf[64];
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *save = NULL;
	for (char *part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		int a = lo, b = hi, step = 1;
		char *slash = strchr(part, '/');
		if (slash) {
			*slash = '\0';
			char *end;
			step = (int)strtol(slash + 1, &end, 10);
			if (*end || step < 1 || slash[1] == '\0')
				return -1;
		}
		if (strcmp(part, "*")) {
			char *end;
			a = (int)strtol(part, &end, 10);
			if (end == part)
				return -1;
			b = a;
			if (*end == '-') {
				char *e2;
				b = (int)strtol(end + 1, &e2, 10);
				if (e2 == end + 1 || *e2)
					return -1;
			} else if (*end) {
				return -1;
			} else if (slash) {
				b = hi;
			}
		}
		if (a < lo || b > hi || a > b)
			return -1;
		for (int v = a; v <= b; v += step)
			*mask |= 1ULL << v;
	}
	return 0;
}

int schedule_next(const char *cron, const char *tz, time_t after, time_t *next, const char **why)
{
	unsigned long long m[5];
	static const int lo[] = {0, 0, 1, 1, 0}, hi[] = {59, 23, 31, 12, 7};
	const char *p = cron;
	*why = "must be five fields: minute hour day-of-month month day-of-week";
	for (int i = 0; i < 5; i++) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (cron_field(p, n, lo[i], hi[i], &m[i]))
			return -1;
		p += n;
	}
	while (*p == ' ')
		p++;
	if (*p)
		return -1;
	if (m[4] & (1ULL << 7)) /* 7 is Sunday too */
		m[4] |= 1;
	bool dom_any = m[2] == 0xFFFFFFFEULL, dow_any = (m[4] & 0x7F) == 0x7F;
	*why = "never matches within a year";
	/* Local time in tz: the process's TZ, set for the computation and put back. */
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	setenv("TZ", tz, 1);
	tzset();
	time_t t = after - after % 60 + 60;
	int rc = -1;
	for (int i = 0; i < 600000; i++) {
		struct tm tm;
		localtime_r(&t, &tm);
		bool dom = m[2] & (1ULL << tm.tm_mday), dow = m[4] & (1ULL << tm.tm_wday);
		/* Vixie cron: with both day fields restricted, either may match. */
		bool day = dom_any && dow_any ? true : dom_any ? dow : dow_any ? dom : (dom || dow);
		if (!(m[3] & (1ULL << (tm.tm_mon + 1))) || !day) {
			t += (time_t)((23 - tm.tm_hour) * 3600 + (59 - tm.tm_min) * 60 + 60 - tm.tm_sec);
			continue;
		}
		if (!(m[1] & (1ULL << tm.tm_hour))) {
			t += (time_t)((59 - tm.tm_min) * 60 + 60 - tm.tm_sec);
			continue;
		}
		if (!(m[0] & (1ULL << tm.tm_min))) {
			t += 60 - tm.tm_sec;
			continue;
		}
		if (t - after > 366L * 86400)
			break;
		*next = t;
		rc = 0;
		break;
	}
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
	return rc;
}

struct json_object *export_schedule_json(const PGresult *res, int r)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(PQgetvalue(res, r, 0)));
	json_object_object_add(o, "name", json_object_new_string(PQgetvalue(res, r, 1)));
	json_object_object_add(o, "entity_type", json_object_new_string(PQgetvalue(res, r, 2)));
	json_object_object_add(o, "format", json_object_new_string(PQgetvalue(res, r, 3)));
	json_object_object_add(o, "filters", json_tokener_parse(PQgetvalue(res, r, 4)));
	json_object_object_add(o, "columns", db_value(res, r, 5) ? json_tokener_parse(PQgetvalue(res, r, 5)) : NULL);
	json_object_object_add(o, "bom", json_object_new_boolean(PQgetvalue(res, r, 6)[0] == 't'));
	json_object_object_add(o, "window_seconds",
			       db_value(res, r, 7) ? json_object_new_int64(atoll(PQgetvalue(res, r, 7))) : NULL);
	json_object_object_add(o, "interval", json_object_new_string(PQgetvalue(res, r, 8)));
	json_object_object_add(o, "cron", jsonx_string_or_null(db_value(res, r, 9)));
	json_object_object_add(o, "time_zone", json_object_new_string(PQgetvalue(res, r, 10)));
	json_object_object_add(o, "next_run_at", jsonx_string_or_null(db_value(res, r, 11)));
	json_object_object_add(o, "last_run_at", jsonx_string_or_null(db_value(res, r, 12)));
	json_object_object_add(o, "last_job_id", jsonx_string_or_null(db_value(res, r, 13)));
	json_object_object_add(o, "created_at", json_object_new_string(PQgetvalue(res, r, 14)));
	json_object_object_add(o, "destination",
			       db_value(res, r, 15) ? json_tokener_parse(PQgetvalue(res, r, 15)) : NULL);
	return o;
}

enum db_status export_schedule_create(struct arena *a, const char *user_id, const struct export_schedule_new *s,
				      struct json_object **schedule)
{
	char next[24];
	snprintf(next, sizeof(next), "%lld", (long long)s->next_run);
	const char *p[] = {user_id,
			   s->name ? s->name : "",
			   s->entity,
			   s->format,
			   s->filters_json,
			   s->columns,
			   s->bom ? "true" : "false",
			   s->window_seconds,
			   s->interval_kind,
			   s->cron,
			   s->time_zone,
			   next,
			   s->destination_json};
	PGresult *res;
	enum db_status st =
		db_exec(a, &res,
			"INSERT INTO export_schedules (user_id, name, entity_type, format, filters, columns, bom, "
			"window_seconds, interval_kind, cron, time_zone, next_run_at, destination) VALUES ($1, $2, "
			"$3, $4, $5::jsonb, $6::text[], $7::boolean, $8::bigint, $9, $10, $11, "
			"to_timestamp($12::bigint), $13::jsonb) "
			"RETURNING " EXPORT_SCHEDULE_COLUMNS,
			13, p);
	*schedule = st == DB_OK ? export_schedule_json(res, 0) : NULL;
	return st;
}

enum db_status export_schedule_list(struct arena *a, const char *user_id, struct json_object **list)
{
	const char *p[] = {user_id};
	PGresult *res;
	enum db_status s = db_exec(a, &res,
				   "SELECT " EXPORT_SCHEDULE_COLUMNS " FROM export_schedules WHERE user_id = $1 "
				   "ORDER BY created_at DESC, id LIMIT 100",
				   1, p);
	*list = s == DB_OK ? rows_views(res, export_schedule_json) : NULL;
	return s;
}

enum db_status export_schedule_delete(struct arena *a, const char *user_id, const char *id, bool *deleted)
{
	const char *p[] = {user_id, id};
	PGresult *res;
	enum db_status s =
		db_exec(a, &res, "DELETE FROM export_schedules WHERE user_id = $1 AND id = $2 RETURNING 1", 2, p);
	if (s == DB_OK)
		*deleted = PQntuples(res) > 0;
	return s;
}

enum db_status export_schedules_run_due(struct arena *a, int *ran)
{
	*ran = 0;
	PGresult *res;
	enum db_status s = db_begin(a);
	if (s == DB_OK)
		s = db_exec(
			a, &res,
			"SELECT id, user_id, entity_type, format, "
			/* the window ends at the run time the schedule was due, not when we woke */
			"(filters || CASE WHEN window_seconds IS NULL THEN '{}'::jsonb ELSE jsonb_build_object("
			"'from', " SQL_RFC3339(
				"(next_run_at - make_interval(secs => window_seconds))") ", 'to', " SQL_RFC3339("next_"
														"run_"
														"at") ") END)::text, columns::text, bom, cron, time_zone, destination::text "
														      "FROM export_schedules WHERE next_run_at <= now() ORDER BY next_run_at LIMIT 20 "
														      "FOR UPDATE SKIP LOCKED",
			0, NULL);
	for (int i = 0; s == DB_OK && i < PQntuples(res); i++) {
		struct export_request er = {.entity = PQgetvalue(res, i, 2),
					    .format = PQgetvalue(res, i, 3),
					    .filters_json = PQgetvalue(res, i, 4),
					    .columns = db_value(res, i, 5),
					    .bom = PQgetvalue(res, i, 6)[0] == 't',
					    .schedule_id = PQgetvalue(res, i, 0),
					    .destination_json = db_value(res, i, 9)};
		PGresult *job;
		s = export_job_insert(a, PQgetvalue(res, i, 1), &er, &job);
		time_t next;
		const char *why;
		char nx[24];
		if (schedule_next(PQgetvalue(res, i, 7), PQgetvalue(res, i, 8), time(NULL), &next, &why))
			next = time(NULL) + 366L * 86400; /* cannot happen: checked when created */
		snprintf(nx, sizeof(nx), "%lld", (long long)next);
		const char *p[] = {PQgetvalue(res, i, 0), s == DB_OK ? PQgetvalue(job, 0, 0) : NULL, nx};
		if (s == DB_OK)
			s = db_exec(a, NULL,
				    "UPDATE export_schedules SET last_run_at = now(), last_job_id = $2, "
				    "next_run_at = to_timestamp($3::bigint) WHERE id = $1",
				    3, p);
		if (s == DB_OK)
			(*ran)++;
	}
	s = db_finish(a, s);
	if (s != DB_OK && s != DB_UNAVAILABLE)
		log_msg(LOG_WARN, "scheduled exports: a run failed; trying again next round");
	return s;
}
