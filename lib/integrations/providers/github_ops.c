/* GitHub as an integration: the providers-file entry "github" with its own view (live
 * repositories with their sync state), settings (auto_sync, selected_repos), the sync
 * action and the sync rows removed on disconnect. The registry lays this over the
 * generic OAuth2 ops. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "events/audit.h"
#include "integrations/integration_ops.h"
#include "integrations/oauth_token.h"
#include "integrations/projects.h"
#include "integrations/providers/github.h"
#include "integrations/providers/github_jobs.h"
#include "net/outbound.h"
#include "integrations/providers/github_store.h"
#include "integrations/providers/provider.h"

/* The repositories, live from GitHub with the stored token (refreshed when due), with
 * their sync state; when GitHub cannot be reached the view still answers, with
 * repositories_error. */
static int github_get(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct integration row;
	if (integration_load_or_fail(c, p->name, &row, r))
		return r->outcome;
	if (!row.enabled) {
		/* Disabled: the view without GitHub's list; GitHub is not called. */
		struct json_object *v = p->view(c->a, &row);
		json_object_object_add(v, "repositories_error",
				       json_object_new_string("The GitHub integration is disabled: enable it with PATCH"));
		return provider_ok(r, v, NULL);
	}
	struct oauth_token_use use;
	enum oauth_token_status ts = oauth_token_get(c->a, c->who, p->name, false, &use);
	if (ts == OAUTH_TOKEN_DB)
		return provider_db(c->a, r, use.db);
	/* The token use may have refreshed or expired the row: show what is stored now. */
	if (integration_load_or_fail(c, p->name, &row, r))
		return r->outcome;
	struct json_object *v = p->view(c->a, &row), *repos = NULL;
	const char *reason = NULL;
	int hs;
	if (ts == OAUTH_TOKEN_OK &&
	    github_list_repos(c->a, p->oauth, use.access_token, &repos, &reason, &hs) == GITHUB_OK) {
		enum db_status s = github_store_annotate(c->a, c->user_id, repos);
		if (s != DB_OK) {
			json_object_put(v);
			return provider_db(c->a, r, s);
		}
		json_object_object_add(v, "repositories", json_object_get(repos));
	} else {
		json_object_object_add(v, "repositories_error",
				       json_object_new_string(ts == OAUTH_TOKEN_OK ? reason : use.reason));
		if (ts == OAUTH_TOKEN_OK && hs == 429 && github_rate_limited_until()) {
			/* GitHub asked us to wait (or our own per-user limit was reached): say until when. */
			struct json_object *rl = json_object_new_object();
			json_object_object_add(rl, "code", json_object_new_string("rate_limited"));
			json_object_object_add(
				rl, "reset_at",
				json_object_new_string(outbound_retry_at_text(c->a, github_rate_limited_until())));
			json_object_object_add(v, "rate_limited", rl);
		}
	}
	return provider_ok(r, v, NULL);
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

static const struct field github_settings[] = {
	{"auto_sync", FIELD_BOOL, false, 0, 0, NULL},
	{"selected_repos", FIELD_ARRAY, false, 0, 100, check_repo_ids},
	{NULL, 0, false, 0, 0, NULL},
};

static const struct field sync_fields[] = {
	{"repository_id", FIELD_INT, true, 1, 9007199254740991L, NULL},
	{"project_ids", FIELD_ARRAY, true, 1, PROJECTS_MAX, projects_check_ids},
	{"async", FIELD_BOOL, false, 0, 0, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

/* The files of the requested projects, or 0 with *r filled (two projects that would be
 * written to one path are an invalid request). Returns 1 when built. */
static int sync_files(const struct provider_call *c, struct github_file **out, size_t *n, struct provider_result *r)
{
	struct project *projects;
	if (projects_requested(c, &projects, n, r))
		return 0;
	struct github_file *files = arena_alloc(c->a, sizeof(*files) * (*n ? *n : 1));
	for (size_t i = 0; i < *n; i++) {
		files[i].project_id = projects[i].id;
		files[i].name = projects[i].name;
		files[i].path = github_project_path(c->a, files[i].name);
		files[i].content = project_file(c->a, &projects[i]);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(files[k].path, files[i].path)) {
				provider_invalid_field(r, "project_ids",
						       "two projects would be written to the same file name");
				return 0;
			}
	}
	*out = files;
	return 1;
}

/* A failed push: recorded and audited, then answered as GitHub's status says. */
static int sync_failed(const struct provider_call *c, long long repo_id, const struct github_push *out,
		       struct provider_result *r)
{
	enum db_status s = db_begin(c->a);
	if (s == DB_OK)
		s = github_store_failure(c->a, c->user_id, repo_id, out);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "repository_id", json_object_new_int64(repo_id));
		json_object_object_add(d, "error", json_object_new_string(out->reason));
		s = audit_record(c->a, c->who, "integration.sync_failed", "github", d);
	}
	db_finish(c->a, s);
	switch (out->http_status) {
	case 403:
		return provider_fail(r, PROVIDER_FORBIDDEN, "forbidden", out->reason);
	case 404:
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", out->reason);
	case 409:
		return provider_fail(r, PROVIDER_CONFLICT, "conflict", out->reason);
	case 429:
		return provider_rate_limited(r, github_rate_limited_until(), out->reason);
	default:
		return provider_upstream(r, out->http_status, out->reason);
	}
}

static struct json_object *file_results(const struct github_file *files, size_t n)
{
	struct json_object *projects = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "project_id", json_object_new_string(files[i].project_id));
		json_object_object_add(o, "name", json_object_new_string(files[i].name));
		json_object_object_add(o, "path", json_object_new_string(files[i].path));
		json_object_object_add(o, "result", json_object_new_string(files[i].result));
		json_object_object_add(o, "blob_sha", json_object_new_string(files[i].blob_sha));
		json_object_array_add(projects, o);
	}
	return projects;
}

/* A successful push: the sync rows and the audit entry, then the answer. */
static int sync_done(const struct provider_call *c, long long repo_id, const struct github_push *out,
		     const struct github_file *files, size_t n, struct provider_result *r)
{
	const char *last_sync = NULL;
	enum db_status s = db_begin(c->a);
	if (s == DB_OK)
		s = github_store_success(c->a, c->user_id, repo_id, out, files, n, &last_sync);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "repository_id", json_object_new_int64(repo_id));
		json_object_object_add(d, "commit_sha", jsonx_string_or_null(out->commit_sha));
		json_object_object_add(d, "projects", json_object_new_int64((int64_t)n));
		s = audit_record(c->a, c->who, "integration.synced", "github", d);
	}
	if (s == DB_OK)
		s = db_commit(c->a);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "repository_id", json_object_new_int64(repo_id));
	json_object_object_add(d, "full_name", json_object_new_string(out->full_name));
	json_object_object_add(d, "branch", json_object_new_string(out->branch));
	json_object_object_add(d, "committed", json_object_new_boolean(out->commit_sha != NULL));
	json_object_object_add(d, "commit_sha", jsonx_string_or_null(out->commit_sha));
	json_object_object_add(d, "attempts", json_object_new_int(out->attempts));
	json_object_object_add(d, "synced", json_object_new_boolean(1));
	json_object_object_add(d, "last_sync", json_object_new_string(last_sync));
	json_object_object_add(d, "projects", file_results(files, n));
	return provider_ok(r, d, out->commit_sha ? "Synced" : "Nothing changed");
}

static int github_sync(const struct provider_call *c, const struct provider *p, struct provider_result *r);

/* POST .../github/sync {"async": true}: checked like a sync now (the projects are the
 * caller's, the integration is connected), then queued for the worker: 202 with the job. */
static int github_sync_queue(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct github_file *files;
	size_t n;
	if (!sync_files(c, &files, &n, r))
		return r->outcome;
	struct integration row;
	if (integration_enabled_or_fail(c, p, &row, r))
		return r->outcome; /* a disabled integration queues nothing */
	struct json_object *req = arena_defer(c->a, jsonx_put, json_object_new_object()), *v;
	if (json_object_object_get_ex(c->body, "repository_id", &v))
		json_object_object_add(req, "repository_id", json_object_get(v));
	if (json_object_object_get_ex(c->body, "project_ids", &v))
		json_object_object_add(req, "project_ids", json_object_get(v));
	struct json_object *job;
	enum db_status s = github_job_enqueue(c->a, c->user_id, req, &job);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	json_object_object_add(
		job, "status_url",
		json_object_new_string(arena_printf(c->a, "/api/v1/users/me/integrations/github/sync/%s",
						    jsonx_get_string(job, "id"))));
	return provider_accepted(r, job, "Sync queued");
}

/* GET .../github/sync/{id}: the job's status, files, commit sha and error. */
static int github_sync_status(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)p;
	struct json_object *job;
	bool found;
	enum db_status s = github_job_get(c->a, c->user_id, c->param, &job, &found);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (!found)
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "No sync job of yours has this id");
	return provider_ok(r, job, NULL);
}

int github_sync_now(const struct provider_call *c, struct provider_result *r)
{
	const struct provider *p = provider_find("github");
	if (!p || !p->oauth)
		return provider_fail(r, PROVIDER_CONFLICT, "provider_not_configured",
				     "GitHub is not configured on this server");
	return github_sync(c, p, r);
}

/* POST .../github/sync: the chosen projects pushed as files in one commit. */
static int github_sync(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	if (jsonx_get_bool(c->body, "async", 0))
		return github_sync_queue(c, p, r);
	struct github_file *files;
	size_t n;
	if (!sync_files(c, &files, &n, r))
		return r->outcome;
	/* Disabled: GitHub is not called (a job queued before the integration was disabled
	 * fails with integration_disabled too). */
	struct integration row;
	if (integration_enabled_or_fail(c, p, &row, r))
		return r->outcome;
	struct oauth_token_use use;
	enum oauth_token_status st = oauth_token_get(c->a, c->who, p->name, false, &use);
	if (st != OAUTH_TOKEN_OK)
		return provider_token_failure(c->a, r, st, &use);
	struct json_object *rid;
	json_object_object_get_ex(c->body, "repository_id", &rid);
	long long repo_id = (long long)json_object_get_int64(rid);
	struct github_push out;
	const char *msg = arena_printf(c->a, "Sync %zu project%s from NexFlux", n, n == 1 ? "" : "s");
	if (github_push_files(c->a, p->oauth, use.access_token, repo_id, files, n, msg, &out) != GITHUB_OK)
		return sync_failed(c, repo_id, &out, r);
	return sync_done(c, repo_id, &out, files, n, r);
}

static const struct provider_action github_actions[] = {
	{"sync", true, sync_fields, github_sync, NULL},
	{"sync/*", false, NULL, github_sync_status, "GET"},
	{NULL, false, NULL, NULL, NULL},
};

const struct provider provider_github = {
	.name = "github",
	.description = "Back up and version projects in your GitHub repositories; sign in with GitHub",
	.view = github_view,
	.get = github_get,
	.settings = github_settings,
	.forget = github_store_forget,
	.actions = github_actions,
};
