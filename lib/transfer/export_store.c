/* Export jobs; see export_store.h. */
#include "transfer/export_store.h"

#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "db/rows.h"
#include "events/events.h"

const char *transfer_dir(void)
{
	static char dir[4096];
	snprintf(dir, sizeof(dir), "%s", config_str("SB_TRANSFER_DIR", "/var/lib/switchboard/transfer"));
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	return dir;
}

static struct json_object *json_or_null(const char *text)
{
	return text ? json_tokener_parse(text) : NULL;
}

static struct json_object *int_or_null(const char *v)
{
	return v ? json_object_new_int64(atoll(v)) : NULL;
}

struct json_object *export_job_json(const PGresult *res, int r)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(PQgetvalue(res, r, 0)));
	json_object_object_add(o, "export_type", json_object_new_string(PQgetvalue(res, r, 1)));
	json_object_object_add(o, "entity_type", json_object_new_string(PQgetvalue(res, r, 2)));
	json_object_object_add(o, "filters", json_or_null(db_value(res, r, 3)));
	json_object_object_add(o, "columns", json_or_null(db_value(res, r, 4)));
	json_object_object_add(o, "format", json_object_new_string(PQgetvalue(res, r, 5)));
	json_object_object_add(o, "bom", json_object_new_boolean(PQgetvalue(res, r, 6)[0] == 't'));
	json_object_object_add(o, "status", json_object_new_string(PQgetvalue(res, r, 7)));
	json_object_object_add(o, "file_url", jsonx_string_or_null(db_value(res, r, 8)));
	json_object_object_add(o, "file_size", int_or_null(db_value(res, r, 9)));
	json_object_object_add(o, "record_count", int_or_null(db_value(res, r, 10)));
	json_object_object_add(o, "rows_written", int_or_null(db_value(res, r, 11)));
	json_object_object_add(o, "started_at", jsonx_string_or_null(db_value(res, r, 12)));
	json_object_object_add(o, "completed_at", jsonx_string_or_null(db_value(res, r, 13)));
	json_object_object_add(o, "expires_at", jsonx_string_or_null(db_value(res, r, 14)));
	json_object_object_add(o, "error_message", jsonx_string_or_null(db_value(res, r, 15)));
	json_object_object_add(o, "schedule_id", jsonx_string_or_null(db_value(res, r, 16)));
	json_object_object_add(o, "created_at", json_object_new_string(PQgetvalue(res, r, 17)));
	json_object_object_add(o, "destination", json_or_null(db_value(res, r, 18)));
	json_object_object_add(o, "destination_key", jsonx_string_or_null(db_value(res, r, 19)));
	json_object_object_add(o, "destination_status", jsonx_string_or_null(db_value(res, r, 20)));
	return o;
}

enum db_status export_job_insert(struct arena *a, const char *user_id, const struct export_request *er, PGresult **res)
{
	const char *p[] = {user_id,	   er->entity,
			   er->format,	   er->filters_json ? er->filters_json : "{}",
			   er->columns,	   er->bom ? "true" : "false",
			   er->schedule_id, er->destination_json};
	enum db_status s =
		db_exec(a, res,
			"INSERT INTO export_jobs (user_id, export_type, entity_type, format, filters, columns, "
			"bom, schedule_id, created_by, destination, destination_status) VALUES ($1, CASE WHEN "
			"$7::uuid IS NULL THEN 'manual' ELSE 'scheduled' END, $2, $3, $4::jsonb, $5::text[], "
			"$6::boolean, $7::uuid, $1, $8::jsonb, CASE WHEN $8::jsonb IS NULL THEN NULL ELSE 'pending' END) "
			"RETURNING " EXPORT_JOB_COLUMNS,
			8, p);
	/* Delivered at commit, so the worker never looks before the row is visible. */
	if (s == DB_OK)
		s = db_exec(a, NULL, "SELECT pg_notify('sb_transfer', '')", 0, NULL);
	return s;
}

enum db_status export_job_create(struct arena *a, const char *user_id, const struct export_request *er,
				 struct json_object **job)
{
	PGresult *res;
	enum db_status s = export_job_insert(a, user_id, er, &res);
	*job = s == DB_OK ? export_job_json(res, 0) : NULL;
	return s;
}

enum db_status export_job_get(struct arena *a, const char *user_id, const char *id, struct json_object **job)
{
	const char *p[] = {user_id, id};
	PGresult *res;
	enum db_status s =
		db_exec(a, &res, "SELECT " EXPORT_JOB_COLUMNS " FROM export_jobs WHERE user_id = $1 AND id = $2", 2, p);
	*job = s == DB_OK && PQntuples(res) == 1 ? export_job_json(res, 0) : NULL;
	return s;
}

enum db_status export_job_list(struct arena *a, const char *user_id, long limit, long offset,
			       struct json_object **items, long long *total)
{
	PGresult *rows, **res = &rows;
	char lim[24], off[24];
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	const char *p[] = {user_id, lim, off};
	PGresult *count;
	enum db_status s = db_exec(a, &count, "SELECT count(*) FROM export_jobs WHERE user_id = $1", 1, p);
	if (s == DB_OK)
		s = db_exec(a, res,
			    "SELECT " EXPORT_JOB_COLUMNS " FROM export_jobs WHERE user_id = $1 "
			    "ORDER BY created_at DESC, id LIMIT $2 OFFSET $3",
			    3, p);
	if (s == DB_OK)
		*total = atoll(PQgetvalue(count, 0, 0));
	*items = s == DB_OK ? rows_views(rows, export_job_json) : NULL;
	return s;
}

static void unlink_file(struct arena *a, const char *file)
{
	if (file && *file && !strchr(file, '/'))
		unlink(arena_printf(a, "%s/%s", transfer_dir(), file));
}

enum db_status export_job_delete(struct arena *a, const char *user_id, const char *id, bool *deleted)
{
	const char *p[] = {user_id, id};
	PGresult *res;
	enum db_status s =
		db_exec(a, &res, "DELETE FROM export_jobs WHERE user_id = $1 AND id = $2 RETURNING file_name", 2, p);
	if (s != DB_OK)
		return s;
	*deleted = PQntuples(res) > 0;
	/* A worker still writing it writes a temporary name and fails to publish it. */
	if (*deleted)
		unlink_file(a, db_value(res, 0, 0));
	return DB_OK;
}

enum db_status export_job_file(struct arena *a, const char *user_id, const char *id, const char **state,
			       const char **file, const char **download_name, const char **content_type)
{
	const char *p[] = {user_id, id};
	PGresult *res;
	enum db_status s =
		db_exec(a, &res,
			"SELECT CASE WHEN status = 'expired' OR (status = 'completed' AND expires_at <= now()) "
			"THEN 'expired' WHEN status = 'completed' THEN 'ready' ELSE 'not_ready' END, "
			"file_name, entity_type || '-' || to_char(created_at AT TIME ZONE 'UTC', "
			"'YYYYMMDD\"T\"HH24MISS\"Z\"') || '.' || format, format "
			"FROM export_jobs WHERE user_id = $1 AND id = $2",
			2, p);
	if (s != DB_OK)
		return s;
	*state = PQntuples(res) ? PQgetvalue(res, 0, 0) : NULL;
	if (*state) {
		*file = db_value(res, 0, 1);
		*download_name = PQgetvalue(res, 0, 2);
		*content_type = !strcmp(PQgetvalue(res, 0, 3), "xlsx")
					? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
					: "text/csv";
	}
	return DB_OK;
}

enum db_status export_job_claim(struct arena *a, const char *owner, long lease_seconds, struct export_job *job,
				bool *found)
{
	char lease[24], max[24];
	snprintf(lease, sizeof(lease), "%ld", lease_seconds);
	snprintf(max, sizeof(max), "%ld", config_int("SB_EXPORT_MAX_ATTEMPTS", 3, 1, 100));
	const char *p[] = {owner, lease, max};
	*found = false;
	/* A job that killed its worker again and again is given up, not retried forever. */
	enum db_status s =
		db_exec(a, NULL,
			"UPDATE export_jobs SET status = 'failed', completed_at = now(), lease_owner = NULL, "
			"error_message = 'the export stopped ' || attempts || ' times before it finished', "
			"destination_status = CASE WHEN destination IS NULL THEN NULL ELSE 'failed' END "
			"WHERE status = 'running' AND lease_expires_at < now() AND attempts >= $1::int",
			1, (const char *const[]){max});
	if (s != DB_OK)
		return s;
	PGresult *res;
	s = db_exec(
		a, &res,
		"UPDATE export_jobs j SET status = 'running', lease_owner = $1, "
		"lease_expires_at = now() + make_interval(secs => $2::int), attempts = j.attempts + 1, "
		"started_at = coalesce(j.started_at, now()), rows_written = 0 "
		"WHERE j.id = (SELECT id FROM export_jobs WHERE (status = 'pending' OR (status = 'running' AND "
		"lease_expires_at < now())) AND attempts < $3::int ORDER BY created_at LIMIT 1 "
		"FOR UPDATE SKIP LOCKED) "
		"RETURNING j.id, j.user_id, j.entity_type, j.format, j.filters::text, array_to_json(j.columns)::text, "
		"j.bom, j.attempts, j.destination::text",
		3, p);
	if (s != DB_OK || PQntuples(res) == 0)
		return s;
	*found = true;
	job->id = PQgetvalue(res, 0, 0);
	job->user_id = PQgetvalue(res, 0, 1);
	job->entity = PQgetvalue(res, 0, 2);
	job->format = PQgetvalue(res, 0, 3);
	job->filters_json = PQgetvalue(res, 0, 4);
	job->columns_json = db_value(res, 0, 5);
	job->bom = PQgetvalue(res, 0, 6)[0] == 't';
	job->attempts = atoi(PQgetvalue(res, 0, 7));
	job->destination_json = db_value(res, 0, 8);
	return DB_OK;
}

enum db_status export_job_progress(struct arena *a, const char *id, const char *owner, long long rows,
				   long lease_seconds, bool *lost)
{
	char n[24], lease[24];
	snprintf(n, sizeof(n), "%lld", rows);
	snprintf(lease, sizeof(lease), "%ld", lease_seconds);
	const char *p[] = {id, owner, n, lease};
	PGresult *res;
	enum db_status s = db_exec(a, &res,
				   "UPDATE export_jobs SET rows_written = $3::bigint, "
				   "lease_expires_at = now() + make_interval(secs => $4::int) "
				   "WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING 1",
				   4, p);
	if (s == DB_OK)
		*lost = PQntuples(res) == 0;
	return s;
}

static enum db_status publish(struct arena *a, const char *user_id, const char *type, const PGresult *row)
{
	struct json_object *d = export_job_json(row, 0);
	struct event_published ev;
	enum db_status s = events_publish(a, user_id, type, d, NULL, &ev);
	json_object_put(d);
	return s;
}

enum db_status export_job_complete(struct arena *a, const struct export_job *job, const char *owner, const char *file,
				   long long size, const char *etag, long long rows, const char *delivered_key,
				   bool *lost)
{
	char sz[24], n[24], ttl[24];
	snprintf(sz, sizeof(sz), "%lld", size);
	snprintf(n, sizeof(n), "%lld", rows);
	snprintf(ttl, sizeof(ttl), "%ld", config_int("SB_EXPORT_TTL_DAYS", 7, 1, 3650));
	const char *p[] = {job->id, owner, file, sz, etag, n, ttl, delivered_key};
	PGresult *res;
	enum db_status s = db_begin(a);
	if (s == DB_OK)
		s = db_exec(
			a, &res,
			"UPDATE export_jobs SET status = 'completed', file_name = $3, file_size = $4::bigint, "
			"file_etag = $5, record_count = $6::bigint, rows_written = $6::bigint, completed_at = now(), "
			"expires_at = now() + make_interval(days => $7::int), lease_owner = NULL, "
			"lease_expires_at = NULL, file_url = '/api/v1/export/' || id || '/download', "
			"destination_key = $8, destination_status = CASE WHEN $8::text IS NULL THEN NULL "
			"ELSE 'delivered' END "
			"WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING " EXPORT_JOB_COLUMNS,
			8, p);
	if (s == DB_OK) {
		*lost = PQntuples(res) == 0;
		if (!*lost)
			s = publish(a, job->user_id, "export.completed", res);
	}
	return db_finish(a, s);
}

enum db_status export_job_fail(struct arena *a, const struct export_job *job, const char *owner, const char *message)
{
	const char *p[] = {job->id, owner, message};
	PGresult *res;
	enum db_status s = db_begin(a);
	if (s == DB_OK)
		s = db_exec(a, &res,
			    "UPDATE export_jobs SET status = 'failed', error_message = $3, completed_at = now(), "
			    "lease_owner = NULL, lease_expires_at = NULL, destination_status = CASE WHEN "
			    "destination IS NULL THEN NULL ELSE 'failed' END "
			    "WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING " EXPORT_JOB_COLUMNS,
			    3, p);
	if (s == DB_OK && PQntuples(res) > 0)
		s = publish(a, job->user_id, "export.failed", res);
	return db_finish(a, s);
}

enum db_status export_jobs_expire(struct arena *a, int *expired)
{
	PGresult *res;
	*expired = 0;
	enum db_status s = db_exec(a, &res,
				   "UPDATE export_jobs SET status = 'expired' WHERE status = 'completed' AND "
				   "expires_at <= now() RETURNING file_name",
				   0, NULL);
	if (s != DB_OK)
		return s;
	for (int i = 0; i < PQntuples(res); i++)
		unlink_file(a, db_value(res, i, 0));
	*expired = PQntuples(res);
	/* Temporary files of workers killed mid-export: their jobs were taken up again. */
	DIR *d = opendir(transfer_dir());
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct stat st;
		const char *path = arena_printf(a, "%s/%s", transfer_dir(), de->d_name);
		if (de->d_name[0] == '.' && n > 4 && !strcmp(de->d_name + n - 4, ".tmp") && !stat(path, &st) &&
		    st.st_mtime < time(NULL) - 3600)
			unlink(path);
	}
	if (d)
		closedir(d);
	return DB_OK;
}
