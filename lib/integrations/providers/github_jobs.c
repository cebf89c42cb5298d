/* GitHub sync jobs; see github_jobs.h. */
#include "integrations/providers/github_jobs.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/actor.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/validate.h"
#include "db/rows.h"
#include "integrations/providers/github.h"
#include "integrations/providers/provider.h"

#define MAX_ATTEMPTS 3

#define JOB_JSON                                                                                              \
	"json_build_object('id', id, 'status', status, 'request', request, 'attempts', attempts, 'result', "   \
	"result, 'commit_sha', commit_sha, 'error', error, 'error_code', error_code, 'created_at', "            \
	"to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'started_at', "             \
	"to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'finished_at', "           \
	"to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))::text"

static struct json_object *parse(PGresult *res)
{
	struct json_object *o = json_tokener_parse(PQgetvalue(res, 0, 0));
	return o;
}

enum db_status github_job_enqueue(struct arena *a, const char *user_id, struct json_object *request,
				  struct json_object **job)
{
	PGresult *res;
	*job = NULL;
	const char *p[] = {user_id, json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN)};
	enum db_status s = db_exec(a, &res,
				   "WITH j AS (INSERT INTO github_sync_jobs (user_id, request) VALUES ($1, $2::jsonb) "
				   "RETURNING *), n AS (SELECT pg_notify('sb_transfer', 'github_sync')) "
				   "SELECT " JOB_JSON " FROM j, n",
				   2, p);
	if (s != DB_OK)
		return s;
	*job = parse(res);
	return *job ? DB_OK : DB_ERROR;
}

enum db_status github_job_get(struct arena *a, const char *user_id, const char *id, struct json_object **job,
			      bool *found)
{
	PGresult *res;
	*job = NULL;
	*found = false;
	if (!text_is_uuid(id))
		return DB_OK;
	const char *p[] = {user_id, id};
	enum db_status s = db_exec(
		a, &res, "SELECT " JOB_JSON " FROM github_sync_jobs WHERE user_id = $1 AND id = $2::uuid", 2, p);
	if (s != DB_OK || PQntuples(res) != 1)
		return s;
	*job = parse(res);
	*found = *job != NULL;
	return DB_OK;
}

static bool auto_sync_type(const char *type)
{
	const char *list = config_str("SB_GITHUB_AUTO_SYNC_EVENTS", "project.updated");
	size_t n = strlen(type);
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len && *p == ' ')
			p++, len--;
		while (len && p[len - 1] == ' ')
			len--;
		if (len == n && !memcmp(p, type, n))
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

bool github_auto_sync_applies(const char *type, struct json_object *data)
{
	const char *project = jsonx_get_string(data, "project_id");
	return type && auto_sync_type(type) && project && text_is_uuid(project);
}

enum db_status github_auto_sync(struct arena *a, const char *user_id, const char *type, struct json_object *data,
				int *queued)
{
	*queued = 0;
	if (!github_auto_sync_applies(type, data))
		return DB_OK;
	const char *project = jsonx_get_string(data, "project_id");
	PGresult *res;
	const char *p[] = {user_id, project};
	enum db_status s = db_exec(
		a, &res,
		"WITH j AS (INSERT INTO github_sync_jobs (user_id, request) "
		"SELECT $1::uuid, jsonb_build_object('repository_id', r.id::bigint, 'project_ids', jsonb_build_array($2::text), "
		"'auto', true) "
		"FROM user_integrations ui, jsonb_array_elements_text(coalesce(ui.config->'selected_repos', '[]')) AS r(id) "
		"WHERE ui.user_id = $1::uuid AND ui.provider = 'github' AND ui.enabled "
		"AND coalesce((ui.config->>'auto_sync')::boolean, false) "
		"AND EXISTS (SELECT 1 FROM projects WHERE id = $2::uuid AND user_id = $1::uuid) RETURNING id) "
		"SELECT count(*), (SELECT pg_notify('sb_transfer', 'github_sync') WHERE EXISTS (SELECT 1 FROM j)) FROM j",
		2, p);
	if (s != DB_OK)
		return s;
	*queued = PQntuples(res) == 1 ? atoi(PQgetvalue(res, 0, 0)) : 0;
	return DB_OK;
}

static void finish(struct arena *a, const char *id, const char *owner, const char *status, struct json_object *result,
		   const char *commit_sha, const char *error_code, const char *error)
{
	const char *p[] = {id,
			   owner,
			   status,
			   result ? json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN) : NULL,
			   commit_sha,
			   error_code,
			   error};
	if (db_exec(a, NULL,
		    "UPDATE github_sync_jobs SET status = $3, result = $4::jsonb, commit_sha = $5, error_code = $6, "
		    "error = $7, finished_at = now(), lease_owner = NULL, lease_until = NULL "
		    "WHERE id = $1 AND lease_owner = $2",
		    7, p) != DB_OK)
		log_msg(LOG_WARN, "github sync job %s: could not record its outcome (its lease will lapse)", id);
}

int github_jobs_run_one(struct arena *a, const char *owner, long lease_seconds)
{
	PGresult *res;
	char *lease = arena_printf(a, "%ld", lease_seconds), *max = arena_printf(a, "%d", MAX_ATTEMPTS);
	/* Jobs whose lease lapsed MAX_ATTEMPTS times fail for good. */
	const char *pm[] = {max};
	db_exec(a, NULL,
		"UPDATE github_sync_jobs SET status = 'failed', error_code = 'worker_lost', error = "
		"'the worker running this sync stopped too many times', finished_at = now(), lease_owner = NULL "
		"WHERE status = 'running' AND lease_until < now() AND attempts >= $1::int",
		1, pm);
	const char *p[] = {owner, lease};
	enum db_status s = db_exec(
		a, &res,
		"UPDATE github_sync_jobs SET status = 'running', attempts = attempts + 1, lease_owner = $1, "
		"lease_until = now() + make_interval(secs => $2::int), started_at = coalesce(started_at, now()) "
		"WHERE id = (SELECT id FROM github_sync_jobs WHERE status = 'queued' OR (status = 'running' AND "
		"lease_until < now()) ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1) "
		"RETURNING id::text, user_id::text, request::text, attempts",
		2, p);
	if (s != DB_OK)
		return -1;
	if (PQntuples(res) != 1)
		return 0;
	const char *id = arena_strdup(a, PQgetvalue(res, 0, 0));
	const char *user_id = arena_strdup(a, PQgetvalue(res, 0, 1));
	struct json_object *body = arena_defer(a, jsonx_put, json_tokener_parse(PQgetvalue(res, 0, 2)));
	struct actor who = {.user_id = user_id};
	struct provider_call c = {a, &who, user_id, body, false, NULL, NULL};
	struct provider_result r;
	github_sync_now(&c, &r);
	if (r.outcome == PROVIDER_OK) {
		finish(a, id, owner, "succeeded", r.data, jsonx_get_string(r.data, "commit_sha"), NULL, NULL);
		log_msg(LOG_INFO, "github sync job %s: done", id);
	} else {
		finish(a, id, owner, "failed", NULL, NULL, r.code ? r.code : "internal_error",
		       r.message ? r.message : "the sync failed");
		log_msg(LOG_INFO, "github sync job %s: failed (%s)", id, r.code ? r.code : "internal_error");
	}
	json_object_put(r.data);
	return 1;
}
