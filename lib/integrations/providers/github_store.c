/* GitHub sync state; see github_store.h. */
#include "integrations/providers/github_store.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "integrations/providers/github.h"

enum db_status github_store_annotate(struct arena *a, const char *user_id, struct json_object *repos)
{
	PGresult *res;
	const char *q[] = {user_id};
	enum db_status s = db_exec(a, &res,
				   "SELECT repository_id::text, synced, " SQL_RFC3339(
					   "last_sync") " FROM github_repo_sync WHERE user_id = $1",
				   1, q);
	if (s != DB_OK)
		return s;
	for (size_t i = 0; i < json_object_array_length(repos); i++) {
		struct json_object *r = json_object_array_get_idx(repos, i), *id;
		json_object_object_get_ex(r, "id", &id);
		bool synced = false;
		const char *last = NULL;
		for (int k = 0; k < PQntuples(res); k++)
			if (json_object_get_int64(id) == atoll(PQgetvalue(res, k, 0))) {
				synced = PQgetvalue(res, k, 1)[0] == 't';
				last = db_value(res, k, 2);
			}
		json_object_object_add(r, "synced", json_object_new_boolean(synced));
		json_object_object_add(r, "last_sync", jsonx_string_or_null(last));
	}
	return DB_OK;
}

enum db_status github_store_failure(struct arena *a, const char *user_id, long long repo_id,
				    const struct github_push *out)
{
	if (!out->full_name)
		return DB_OK;
	const char *q[] = {user_id, arena_printf(a, "%lld", repo_id), out->full_name, out->branch, out->reason};
	return db_exec(a, NULL,
		       "INSERT INTO github_repo_sync (user_id, repository_id, full_name, branch, last_error) "
		       "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, repository_id) DO UPDATE SET "
		       "full_name = EXCLUDED.full_name, branch = EXCLUDED.branch, last_error = EXCLUDED.last_error, "
		       "updated_at = now()",
		       5, q);
}

enum db_status github_store_success(struct arena *a, const char *user_id, long long repo_id,
				    const struct github_push *out, const struct github_file *files, size_t n,
				    const char **last_sync)
{
	const char *repo_text = arena_printf(a, "%lld", repo_id);
	const char *q[] = {user_id, repo_text, out->full_name, out->branch, out->commit_sha};
	PGresult *sync;
	enum db_status s =
		db_exec(a, &sync,
			"INSERT INTO github_repo_sync (user_id, repository_id, full_name, branch, synced, last_sync, "
			"last_commit_sha, last_error) VALUES ($1, $2, $3, $4, true, now(), $5, NULL) "
			"ON CONFLICT (user_id, repository_id) DO UPDATE SET full_name = EXCLUDED.full_name, "
			"branch = EXCLUDED.branch, synced = true, last_sync = now(), "
			"last_commit_sha = coalesce(EXCLUDED.last_commit_sha, github_repo_sync.last_commit_sha), "
			"last_error = NULL, updated_at = now() RETURNING " SQL_RFC3339("last_sync"),
			5, q);
	for (size_t i = 0; i < n && s == DB_OK; i++) {
		const char *pq[] = {user_id,	   repo_text,	      files[i].project_id,
				    files[i].path, files[i].blob_sha, files[i].result};
		s = db_exec(a, NULL,
			    "INSERT INTO github_project_sync (user_id, repository_id, project_id, path, blob_sha, "
			    "result) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, repository_id, project_id) "
			    "DO UPDATE SET path = EXCLUDED.path, blob_sha = EXCLUDED.blob_sha, result = "
			    "EXCLUDED.result, synced_at = now()",
			    6, pq);
	}
	*last_sync = s == DB_OK ? arena_strdup(a, PQgetvalue(sync, 0, 0)) : NULL;
	return s;
}

enum db_status github_store_forget(struct arena *a, const char *user_id)
{
	const char *q[] = {user_id};
	enum db_status s = db_exec(a, NULL, "DELETE FROM github_repo_sync WHERE user_id = $1", 1, q);
	return s == DB_OK ? db_exec(a, NULL, "DELETE FROM github_project_sync WHERE user_id = $1", 1, q) : s;
}
