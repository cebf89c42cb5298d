/* OAuth integrations: the GitHub view, settings (PATCH), forced token refresh,
 * disconnect with revocation, GitHub sync and Google Drive export. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/validate.h"
#include "db/db.h"
#include "events/audit.h"
#include "events/events.h"
#include "handlers.h"
#include "http/authenticate.h"
#include "http/reply.h"
#include "http/request.h"
#include "integrations/integration.h"
#include "integrations/oauth_token.h"
#include "integrations/providers/github.h"
#include "integrations/providers/provider.h"
#include "oauth/oauth_client.h"

#define MAX_PROJECTS 100

static enum db_status publish(struct request *rq, const char *type, const char *provider, struct json_object *extra)
{
	struct json_object *ev = arena_defer(rq->arena, jsonx_put, extra ? extra : json_object_new_object());
	json_object_object_add(ev, "provider", json_object_new_string(provider));
	struct event_published pub;
	return events_publish(rq->arena, rq->user_id, type, ev, NULL, &pub);
}

/* 200 GitHubIntegrationResponse | 401 | 404 | 500 | 503
 * The repository list comes live from GitHub with the stored token (refreshed when
 * due); when GitHub cannot be reached the view still answers, with repositories_error. */
int handle_github_get(struct request *rq)
{
	const struct provider *p = provider_find("github");
	if (!p)
		return reply_error(rq, 404, "not_found", "No such integration provider");
	struct integration row;
	bool found;
	enum db_status s = integration_load(rq->arena, rq->user_id, "github", false, &row, &found);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!found)
		return reply_error(rq, 404, "not_found", "This integration is not configured");
	struct oauth_token_use use;
	enum oauth_token_status ts = oauth_token_get(rq, rq->user_id, "github", false, &use);
	if (ts == OAUTH_TOKEN_DB)
		return reply_db_failure(rq, use.db);
	/* The token use may have refreshed or expired the row: show what is stored now. */
	s = integration_load(rq->arena, rq->user_id, "github", false, &row, &found);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!found)
		return reply_error(rq, 404, "not_found", "This integration is not configured");
	struct json_object *v = p->view(rq->arena, &row);
	struct json_object *repos = NULL;
	const char *reason = NULL;
	int hs;
	if (ts == OAUTH_TOKEN_OK &&
	    github_list_repos(rq->arena, p->oauth, use.access_token, &repos, &reason, &hs) == GITHUB_OK) {
		PGresult *res;
		const char *q[] = {rq->user_id};
		s = db_exec(rq->arena, &res,
			    "SELECT repository_id::text, synced, " SQL_RFC3339(
				    "last_sync") " FROM github_repo_sync WHERE user_id = $1",
			    1, q);
		if (s != DB_OK) {
			json_object_put(v);
			return reply_db_failure(rq, s);
		}
		struct json_object *list = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(repos); i++) {
			struct json_object *r = json_object_get(json_object_array_get_idx(repos, i)), *id;
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
			json_object_array_add(list, r);
		}
		json_object_object_add(v, "repositories", list);
	} else {
		json_object_object_add(v, "repositories_error",
				       json_object_new_string(ts == OAUTH_TOKEN_OK ? reason : use.reason));
	}
	return reply_ok(rq, 200, v, NULL);
}

/* DELETE of an OAuth integration: revoke at the provider when it offers revocation,
 * then remove the row. A provider that cannot be reached does not keep the user
 * connected: the row goes, and the answer says revoked: false with the reason. */
int oauth_delete(struct request *rq, const struct provider *p)
{
	struct integration row;
	bool found, deleted;
	enum db_status s = integration_load(rq->arena, rq->user_id, p->name, false, &row, &found);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!found)
		return reply_error(rq, 404, "not_found", "This integration is not configured");
	const struct oauth_provider *op = p->oauth;
	bool revocable = op->revoke != OAUTH_REVOKE_NONE && row.access_token;
	bool revoked = false;
	const char *revoke_error = NULL;
	if (revocable) {
		/* An RFC 7009 server ends the whole grant when given the refresh token. */
		bool use_refresh = op->revoke == OAUTH_REVOKE_RFC7009 && row.refresh_token;
		const char *col = use_refresh ? "refresh_token" : "access_token";
		char *token;
		if (crypto_open(rq->arena, use_refresh ? row.refresh_token : row.access_token,
				integration_token_aad(rq->arena, rq->user_id, p->name, col), &token, NULL)) {
			revoke_error = "the stored token could not be decrypted";
		} else if (oauth_revoke_token(rq->arena, op, token, &revoke_error) == OAUTH_OK) {
			revoked = true;
			revoke_error = NULL;
		}
		if (revoke_error)
			log_msg(LOG_WARN, "revocation at %s failed: %s", p->name, revoke_error);
	}
	s = db_begin(rq->arena);
	if (s == DB_OK)
		s = integration_delete(rq->arena, rq->user_id, p->name, &deleted);
	if (s == DB_OK && deleted) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "revoked", json_object_new_boolean(revoked));
		if (revoke_error)
			json_object_object_add(d, "revoke_error", json_object_new_string(revoke_error));
		s = audit_record(rq->arena, request_actor(rq, rq->user_id), "integration.disconnected", p->name, d);
	}
	if (s == DB_OK && deleted) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "revoked", json_object_new_boolean(revoked));
		s = publish(rq, "integration.disconnected", p->name, e);
	}
	if (s == DB_OK && !strcmp(p->name, "github") && deleted) {
		const char *q[] = {rq->user_id};
		s = db_exec(rq->arena, NULL, "DELETE FROM github_repo_sync WHERE user_id = $1", 1, q);
		if (s == DB_OK)
			s = db_exec(rq->arena, NULL, "DELETE FROM github_project_sync WHERE user_id = $1", 1, q);
	}
	if (s == DB_OK)
		s = deleted ? db_commit(rq->arena) : (db_rollback(rq->arena), DB_OK);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!deleted)
		return reply_error(rq, 404, "not_found", "This integration is not configured");
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "provider", json_object_new_string(p->name));
	json_object_object_add(d, "revoked", json_object_new_boolean(revoked));
	json_object_object_add(d, "revocation_supported", json_object_new_boolean(op->revoke != OAUTH_REVOKE_NONE));
	json_object_object_add(d, "revoke_error", jsonx_string_or_null(revoke_error));
	return reply_ok(rq, 200, d, "Integration removed");
}

static const char *check_repo_ids(struct json_object *v)
{
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_int) || json_object_get_int64(e) < 1)
			return "must be an array of repository ids (positive integers)";
	}
	return NULL;
}

static const struct field patch_fields[] = {
	{"enabled", FIELD_BOOL, false, 0, 0, NULL},
	{"auto_sync", FIELD_BOOL, false, 0, 0, NULL},
	{"selected_repos", FIELD_ARRAY, false, 0, 100, check_repo_ids},
	{NULL, 0, false, 0, 0, NULL},
};

/* 200 view | 400 | 401 | 404 | 415 | 422 | 503
 * enabled for every provider; auto_sync and selected_repos for GitHub only. */
int handle_patch(struct request *rq)
{
	const struct provider *p = provider_find(request_param(rq, "provider"));
	if (!p)
		return reply_error(rq, 404, "not_found", "No such integration provider");
	struct json_object *errors = NULL;
	validate_object(rq->json, patch_fields, &errors);
	if (!errors)
		errors = json_object_new_object();
	bool github = !strcmp(p->name, "github");
	json_object_object_foreach(rq->json, k, val)
	{
		(void)val;
		struct json_object *ignored;
		bool known =
			!strcmp(k, "enabled") || (github && (!strcmp(k, "auto_sync") || !strcmp(k, "selected_repos")));
		if (!known && !json_object_object_get_ex(errors, k, &ignored))
			json_object_object_add(errors, k,
					       json_object_new_string("is not a setting of this integration"));
	}
	if (json_object_object_length(errors) > 0)
		return reply_invalid(rq, errors);
	json_object_put(errors);

	struct integration row;
	bool found;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = integration_load(rq->arena, rq->user_id, p->name, true, &row, &found);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!found) {
		db_rollback(rq->arena);
		return reply_error(rq, 404, "not_found", "This integration is not configured");
	}
	struct json_object *settings = arena_defer(rq->arena, jsonx_put, json_object_new_object()), *v;
	if (json_object_object_get_ex(rq->json, "auto_sync", &v))
		json_object_object_add(settings, "auto_sync", json_object_get(v));
	if (json_object_object_get_ex(rq->json, "selected_repos", &v))
		json_object_object_add(settings, "selected_repos", json_object_get(v));
	bool enabled = jsonx_get_bool(rq->json, "enabled", row.enabled);
	const char *q[] = {rq->user_id, p->name, json_object_to_json_string_ext(settings, JSON_C_TO_STRING_PLAIN),
			   enabled ? "true" : "false"};
	s = db_exec(rq->arena, NULL,
		    "UPDATE user_integrations SET config = config || $3::jsonb, enabled = $4, updated_at = now() "
		    "WHERE user_id = $1 AND provider = $2",
		    4, q);
	if (s == DB_OK)
		s = audit_record(rq->arena, request_actor(rq, rq->user_id), "integration.updated", p->name,
				 json_object_get(rq->json));
	if (s == DB_OK)
		s = publish(rq, "integration.updated", p->name, json_object_get(rq->json));
	if (s == DB_OK)
		s = integration_load(rq->arena, rq->user_id, p->name, false, &row, &found);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, p->view(rq->arena, &row), "Settings saved");
}

/* 200 {provider, refreshed, token_expires_at} | 401 | 404 | 409 integration_expired,
 * refresh_unsupported | 500 | 502 | 503 | 504 */
int handle_refresh_token(struct request *rq)
{
	const struct provider *p = provider_find(request_param(rq, "provider"));
	if (!p)
		return reply_error(rq, 404, "not_found", "No such integration provider");
	if (!strcmp(p->name, "arduino_cloud"))
		return handle_arduino_refresh(rq);
	if (p->auth != PROVIDER_AUTH_OAUTH2)
		return reply_error(rq, 404, "not_found", "This integration has no OAuth token to refresh");
	struct oauth_token_use use;
	enum oauth_token_status st = oauth_token_get(rq, rq->user_id, p->name, true, &use);
	if (st != OAUTH_TOKEN_OK)
		return oauth_token_reply_error(rq, st, &use);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "provider", json_object_new_string(p->name));
	json_object_object_add(d, "refreshed", json_object_new_boolean(use.refreshed));
	json_object_object_add(d, "token_expires_at", jsonx_string_or_null(use.expires_at));
	json_object_object_add(d, "status", json_object_new_string("active"));
	return reply_ok(rq, 200, d, use.refreshed ? "Token refreshed" : "Token already renewed by another request");
}

static const char *check_project_ids(struct json_object *v)
{
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string) || !auth_is_uuid(json_object_get_string(e)))
			return "must be an array of project ids (UUIDs)";
	}
	return NULL;
}

const struct field github_sync_fields[] = {
	{"repository_id", FIELD_INT, true, 1, 9007199254740991L, NULL},
	{"project_ids", FIELD_ARRAY, true, 1, MAX_PROJECTS, check_project_ids},
	{NULL, 0, false, 0, 0, NULL},
};

const struct field drive_export_fields[] = {
	{"project_ids", FIELD_ARRAY, true, 1, MAX_PROJECTS, check_project_ids},
	{NULL, 0, false, 0, 0, NULL},
};

/* Loads the caller's projects named in rq->json's project_ids. Returns 0, or the status
 * answered: 404 project_not_found (unknown, or another user's: the same answer). */
static int load_projects(struct request *rq, PGresult **res)
{
	struct json_object *ids;
	json_object_object_get_ex(rq->json, "project_ids", &ids);
	const char *q[] = {rq->user_id, json_object_to_json_string_ext(ids, JSON_C_TO_STRING_PLAIN)};
	enum db_status s =
		db_exec(rq->arena, res,
			"SELECT p.id, p.name, p.content::text FROM projects p "
			"WHERE p.user_id = $1 AND p.id IN (SELECT jsonb_array_elements_text($2::jsonb)::uuid) "
			"ORDER BY p.name, p.id",
			2, q);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	struct json_object *missing = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(ids); i++) {
		const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
		bool have = false;
		for (int r = 0; r < PQntuples(*res); r++)
			have |= !strcasecmp(PQgetvalue(*res, r, 0), id);
		if (!have)
			json_object_array_add(missing, json_object_new_string(id));
	}
	if (json_object_array_length(missing) > 0) {
		/* The ids are the caller's own input: naming them leaks nothing. */
		const char *msg = arena_printf(rq->arena, "No such project of yours: %s",
					       json_object_to_json_string_ext(missing, JSON_C_TO_STRING_PLAIN));
		json_object_put(missing);
		return reply_error(rq, 404, "project_not_found", msg);
	}
	json_object_put(missing);
	return 0;
}

/* The file pushed for a project: its id, name and content, pretty-printed so diffs read well. */
static const char *project_file(struct arena *a, const PGresult *res, int r)
{
	struct json_object *o = arena_defer(a, jsonx_put, json_object_new_object());
	struct json_object *content = json_tokener_parse(PQgetvalue(res, r, 2));
	json_object_object_add(o, "id", json_object_new_string(PQgetvalue(res, r, 0)));
	json_object_object_add(o, "name", json_object_new_string(PQgetvalue(res, r, 1)));
	json_object_object_add(o, "content", content ? content : json_object_new_object());
	return arena_printf(a, "%s\n",
			    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								      JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int token_or_reply(struct request *rq, const char *provider, struct oauth_token_use *use)
{
	enum oauth_token_status st = oauth_token_get(rq, rq->user_id, provider, false, use);
	return st == OAUTH_TOKEN_OK ? 0 : oauth_token_reply_error(rq, st, use);
}

/* 200 result | 400 | 401 | 403 (no push access) | 404 (not connected, repository, project) |
 * 409 (empty repository, branch kept moving, integration expired) | 415 | 422 | 502 | 503 | 504 */
int handle_github_sync(struct request *rq)
{
	const struct provider *p = provider_find("github");
	if (!p)
		return reply_error(rq, 404, "not_found", "No such integration provider");
	PGresult *res;
	if (load_projects(rq, &res))
		return rq->status;
	size_t n = (size_t)PQntuples(res);
	struct github_file *files = arena_alloc(rq->arena, sizeof(*files) * n);
	for (size_t i = 0; i < n; i++) {
		files[i].project_id = PQgetvalue(res, (int)i, 0);
		files[i].name = PQgetvalue(res, (int)i, 1);
		files[i].path = github_project_path(rq->arena, files[i].name);
		files[i].content = project_file(rq->arena, res, (int)i);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(files[k].path, files[i].path)) {
				struct json_object *f = json_object_new_object();
				json_object_object_add(
					f, "project_ids",
					json_object_new_string("two projects would be written to the same file name"));
				return reply_invalid(rq, f);
			}
	}
	struct oauth_token_use use;
	if (token_or_reply(rq, "github", &use))
		return rq->status;
	struct json_object *rid;
	json_object_object_get_ex(rq->json, "repository_id", &rid);
	long long repo_id = (long long)json_object_get_int64(rid);
	struct github_push out;
	const char *msg = arena_printf(rq->arena, "Sync %zu project%s from NexFlux", n, n == 1 ? "" : "s");
	enum github_result r = github_push_files(rq->arena, p->oauth, use.access_token, repo_id, files, n, msg, &out);
	char repo_text[24];
	snprintf(repo_text, sizeof(repo_text), "%lld", repo_id);

	enum db_status s = db_begin(rq->arena);
	if (r != GITHUB_OK) {
		if (out.full_name && s == DB_OK) {
			const char *q[] = {rq->user_id, repo_text, out.full_name, out.branch, out.reason};
			s = db_exec(
				rq->arena, NULL,
				"INSERT INTO github_repo_sync (user_id, repository_id, full_name, branch, last_error) "
				"VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, repository_id) DO UPDATE SET "
				"full_name = EXCLUDED.full_name, branch = EXCLUDED.branch, last_error = "
				"EXCLUDED.last_error, "
				"updated_at = now()",
				5, q);
		}
		if (s == DB_OK) {
			struct json_object *d = json_object_new_object();
			json_object_object_add(d, "repository_id", json_object_new_int64(repo_id));
			json_object_object_add(d, "error", json_object_new_string(out.reason));
			s = audit_record(rq->arena, request_actor(rq, rq->user_id), "integration.sync_failed", "github",
					 d);
		}
		if (s == DB_OK)
			s = db_commit(rq->arena);
		if (s != DB_OK)
			db_rollback(rq->arena);
		int hs = out.http_status ? out.http_status : 502;
		const char *code = hs == 403   ? "forbidden"
				   : hs == 404 ? "not_found"
				   : hs == 409 ? "conflict"
				   : hs == 504 ? "provider_timeout"
					       : "provider_unavailable";
		return reply_error(rq, hs, code, out.reason);
	}
	PGresult *sync;
	const char *q[] = {rq->user_id, repo_text, out.full_name, out.branch, out.commit_sha};
	if (s == DB_OK)
		s = db_exec(
			rq->arena, &sync,
			"INSERT INTO github_repo_sync (user_id, repository_id, full_name, branch, synced, last_sync, "
			"last_commit_sha, last_error) VALUES ($1, $2, $3, $4, true, now(), $5, NULL) "
			"ON CONFLICT (user_id, repository_id) DO UPDATE SET full_name = EXCLUDED.full_name, "
			"branch = EXCLUDED.branch, synced = true, last_sync = now(), "
			"last_commit_sha = coalesce(EXCLUDED.last_commit_sha, github_repo_sync.last_commit_sha), "
			"last_error = NULL, updated_at = now() RETURNING " SQL_RFC3339("last_sync"),
			5, q);
	struct json_object *projects = json_object_new_array();
	for (size_t i = 0; i < n && s == DB_OK; i++) {
		const char *pq[] = {rq->user_id,   repo_text,	      files[i].project_id,
				    files[i].path, files[i].blob_sha, files[i].result};
		s = db_exec(
			rq->arena, NULL,
			"INSERT INTO github_project_sync (user_id, repository_id, project_id, path, blob_sha, result) "
			"VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, repository_id, project_id) DO UPDATE "
			"SET path = EXCLUDED.path, blob_sha = EXCLUDED.blob_sha, result = EXCLUDED.result, synced_at = "
			"now()",
			6, pq);
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "project_id", json_object_new_string(files[i].project_id));
		json_object_object_add(o, "name", json_object_new_string(files[i].name));
		json_object_object_add(o, "path", json_object_new_string(files[i].path));
		json_object_object_add(o, "result", json_object_new_string(files[i].result));
		json_object_object_add(o, "blob_sha", json_object_new_string(files[i].blob_sha));
		json_object_array_add(projects, o);
	}
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "repository_id", json_object_new_int64(repo_id));
		json_object_object_add(d, "commit_sha", jsonx_string_or_null(out.commit_sha));
		json_object_object_add(d, "projects", json_object_new_int64((int64_t)n));
		s = audit_record(rq->arena, request_actor(rq, rq->user_id), "integration.synced", "github", d);
	}
	const char *last_sync = s == DB_OK ? arena_strdup(rq->arena, PQgetvalue(sync, 0, 0)) : NULL;
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK) {
		json_object_put(projects);
		return reply_db_failure(rq, s);
	}
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "repository_id", json_object_new_int64(repo_id));
	json_object_object_add(d, "full_name", json_object_new_string(out.full_name));
	json_object_object_add(d, "branch", json_object_new_string(out.branch));
	json_object_object_add(d, "committed", json_object_new_boolean(out.commit_sha != NULL));
	json_object_object_add(d, "commit_sha", jsonx_string_or_null(out.commit_sha));
	json_object_object_add(d, "attempts", json_object_new_int(out.attempts));
	json_object_object_add(d, "synced", json_object_new_boolean(1));
	json_object_object_add(d, "last_sync", json_object_new_string(last_sync));
	json_object_object_add(d, "projects", projects);
	return reply_ok(rq, 200, d, out.commit_sha ? "Synced" : "Nothing changed");
}

/* 200 {files: [...]} | 400 | 401 | 404 | 409 | 415 | 422 | 502 | 503 | 504
 * Each project is uploaded as "<name>.json"; the first failure stops the export and is
 * answered with what was uploaded before it in the audit log. */
int handle_drive_export(struct request *rq)
{
	const struct provider *p = provider_find("google");
	if (!p)
		return reply_error(rq, 404, "not_found", "No such integration provider");
	PGresult *res;
	if (load_projects(rq, &res))
		return rq->status;
	struct oauth_token_use use;
	if (token_or_reply(rq, "google", &use))
		return rq->status;
	struct json_object *files = arena_defer(rq->arena, jsonx_put, json_object_new_array());
	for (int i = 0; i < PQntuples(res); i++) {
		const char *name = arena_printf(rq->arena, "%s.json", PQgetvalue(res, i, 1)), *file_id, *reason;
		int hs = 502;
		if (google_drive_upload(rq->arena, p->oauth, use.access_token, name, project_file(rq->arena, res, i),
					&file_id, &reason, &hs) != GITHUB_OK) {
			struct json_object *d = json_object_new_object();
			json_object_object_add(d, "uploaded", json_object_get(files));
			json_object_object_add(d, "error", json_object_new_string(reason));
			audit_record(rq->arena, request_actor(rq, rq->user_id), "integration.export_failed", "google",
				     d);
			return reply_error(rq, hs == 504 ? 504 : 502,
					   hs == 504 ? "provider_timeout" : "provider_unavailable", reason);
		}
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "project_id", json_object_new_string(PQgetvalue(res, i, 0)));
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "file_id", json_object_new_string(file_id));
		json_object_object_add(o, "status", json_object_new_string("uploaded"));
		json_object_array_add(files, o);
	}
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "files", json_object_get(files));
	enum db_status s = audit_record(rq->arena, request_actor(rq, rq->user_id), "integration.exported", "google", d);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	struct json_object *out = json_object_new_object();
	json_object_object_add(out, "files", json_object_get(files));
	return reply_ok(rq, 200, out, "Exported to Google Drive");
}
