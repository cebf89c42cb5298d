/* GitHub: the integration view, repositories and the Git Data API push; see github.h. */
#include "integrations/providers/github.h"

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/urlenc.h"
#include "integrations/integration.h"
#include "integrations/providers/provider.h"
#include "net/outbound.h"
#include "oauth/oauth_client.h"

#define PUSH_ATTEMPTS 3
/* At most this many pages of 100 repositories are listed. */
#define GITHUB_REPO_PAGES 10

void github_blob_sha(const char *content, size_t len, char out[41])
{
	char head[64];
	int hl = snprintf(head, sizeof(head), "blob %zu", len) + 1; /* with its NUL */
	unsigned char d[20];
	unsigned int dl = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_DigestInit_ex(c, EVP_sha1(), NULL);
	EVP_DigestUpdate(c, head, (size_t)hl);
	EVP_DigestUpdate(c, content, len);
	EVP_DigestFinal_ex(c, d, &dl);
	EVP_MD_CTX_free(c);
	for (int i = 0; i < 20; i++)
		snprintf(out + i * 2, 3, "%02x", d[i]);
}

char *github_project_path(struct arena *a, const char *name)
{
	char *n = arena_strdup(a, name);
	for (char *c = n; *c; c++)
		if (*c == '/' || *c == '\\' || (unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '_';
	for (char *c = n; *c == '.'; c++)
		*c = '_';
	return arena_printf(a, "nexflux/%s.json", n);
}

static const char *const *headers(struct arena *a, const struct oauth_provider *p, bool json_body)
{
	const char **h = arena_alloc(a, sizeof(char *) * (OAUTH_MAX_HEADERS + 2));
	int n = 0;
	for (int i = 0; p->headers[i]; i++)
		h[n++] = p->headers[i];
	if (json_body)
		h[n++] = "Content-Type: application/json";
	h[n] = NULL;
	return h;
}

/* One API call; *json is the parsed answer (object or array) or NULL. Returns the HTTP
 * status, or 0 when no answer came (reason and http_status set). */
/* The epoch second GitHub (or our own limit) said to wait until, of the last call that
 * was rate limited in this process's current request; see github_rate_limited_until. */
static long last_retry_at;

long github_rate_limited_until(void)
{
	return last_retry_at;
}

static long api_call(struct arena *a, const struct oauth_provider *p, const char *token, const char *method,
		     const char *path, struct json_object *body, bool conditional, struct json_object **json,
		     const char **reason, int *http_status, struct outbound_response *resp)
{
	const char *base = oauth_url(a, p, "api");
	struct outbound_request rq = {.method = method,
				      .url = arena_printf(a, "%s%s", base ? base : "", path),
				      .headers = headers(a, p, body != NULL),
				      .bearer = token,
				      .idempotent = !strcmp(method, "GET"),
				      .conditional = conditional};
	if (body) {
		rq.body = arena_strdup(a, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
		rq.body_len = strlen(rq.body);
	}
	struct outbound_response r;
	*json = NULL;
	last_retry_at = 0;
	if (outbound_do(a, &rq, &r)) {
		if (r.error == OUTBOUND_RATE_LIMITED) {
			last_retry_at = r.retry_at;
			*reason = arena_printf(a, "rate_limited: GitHub %s %s: %s", method, path, r.message);
		} else {
			*reason = arena_printf(a, "GitHub %s %s: %s", method, path, r.message);
		}
		*http_status = outbound_http_status(&r);
		return 0;
	}
	*json = outbound_json(a, &r);
	if (resp)
		*resp = r;
	return r.status;
}

static long api(struct arena *a, const struct oauth_provider *p, const char *token, const char *method,
		const char *path, struct json_object *body, struct json_object **json, const char **reason,
		int *http_status)
{
	return api_call(a, p, token, method, path, body, false, json, reason, http_status, NULL);
}

static enum github_result fail(struct github_push *out, int status, const char *reason)
{
	out->http_status = status;
	out->reason = reason;
	return GITHUB_FAILED;
}

static const char *member(struct json_object *o, const char *path)
{
	struct json_object *v = oauth_json_path(o, path);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

enum github_result github_list_repos(struct arena *a, const struct oauth_provider *p, const char *token,
				     struct json_object **repos, const char **reason, int *http_status)
{
	struct json_object *list = arena_defer(a, jsonx_put, json_object_new_array());
	/* Pages of 100 (GitHub's most), followed while the Link header names a next page
	 * (an answer from the ETag cache carries no Link: a full page means there may be
	 * more), up to GITHUB_REPO_PAGES pages. */
	for (int page = 1; page <= GITHUB_REPO_PAGES; page++) {
		struct json_object *j;
		struct outbound_response resp;
		/* A list GitHub answers with an ETag: revalidated with If-None-Match (a 304
		 * does not count against GitHub's rate limit). */
		long st = api_call(a, p, token, "GET",
				   page == 1 ? "/user/repos?per_page=100&sort=updated"
					     : arena_printf(a, "/user/repos?per_page=100&sort=updated&page=%d", page),
				   NULL, true, &j, reason, http_status, &resp);
		if (!st)
			return GITHUB_FAILED;
		if (st != 200 || !j || !json_object_is_type(j, json_type_array)) {
			*reason = arena_printf(a, "GitHub answered %ld for the repository list", st);
			*http_status = 502;
			return GITHUB_FAILED;
		}
		size_t n = json_object_array_length(j);
		for (size_t i = 0; i < n; i++) {
			struct json_object *r = json_object_array_get_idx(j, i), *id;
			if (!json_object_object_get_ex(r, "id", &id))
				continue;
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "id", json_object_new_int64(json_object_get_int64(id)));
			json_object_object_add(o, "name", jsonx_string_or_null(jsonx_get_string(r, "name")));
			json_object_object_add(o, "full_name", jsonx_string_or_null(jsonx_get_string(r, "full_name")));
			json_object_object_add(o, "private", json_object_new_boolean(jsonx_get_bool(r, "private", 0)));
			json_object_array_add(list, o);
		}
		bool more = resp.from_cache ? n >= 100 : resp.link_next != NULL;
		if (!more || n == 0)
			break;
	}
	*repos = list;
	return GITHUB_OK;
}

/* Path segments of a repository name and branch are URL-encoded one by one. */
static const char *repo_path(struct arena *a, const char *full_name)
{
	const char *slash = strchr(full_name, '/');
	if (!slash)
		return url_encode(a, full_name);
	return arena_printf(a, "%s/%s", url_encode(a, arena_strndup(a, full_name, (size_t)(slash - full_name))),
			    url_encode(a, slash + 1));
}

/* One push: the API and repository it talks to, and what it answers. */
struct push {
	struct arena *a;
	const struct oauth_provider *p;
	const char *token;
	const char *repo; /* "owner/name", URL-encoded segments */
	struct github_push *out;
};

/* One API call of a push; *st is the HTTP status, 0 when no answer came (then the push
 * has failed with the reason: returns -1). */
static int call(struct push *x, const char *method, const char *path, struct json_object *body, struct json_object **j,
		long *st)
{
	const char *reason = NULL;
	int hs = 502;
	*st = api(x->a, x->p, x->token, method, path, body, j, &reason, &hs);
	if (!*st) {
		fail(x->out, hs, reason);
		return -1;
	}
	return 0;
}

/* The repository's name, default branch and push permission. */
static int push_repository(struct push *x, long long repo_id)
{
	struct json_object *j;
	long st;
	if (call(x, "GET", arena_printf(x->a, "/repositories/%lld", repo_id), NULL, &j, &st))
		return -1;
	if (st == 404 || st == 403)
		return fail(x->out, 404, "The repository does not exist or this account cannot see it"), -1;
	if (st != 200 || !j)
		return fail(x->out, 502, arena_printf(x->a, "GitHub answered %ld for the repository", st)), -1;
	x->out->full_name = member(j, "full_name");
	x->out->branch = member(j, "default_branch");
	struct json_object *push = oauth_json_path(j, "permissions.push");
	if (!x->out->full_name || !x->out->branch)
		return fail(x->out, 502, "GitHub's repository answer has no full_name or default_branch"), -1;
	if (push && !json_object_get_boolean(push))
		return fail(x->out, 403, "This account cannot push to the repository"), -1;
	x->repo = repo_path(x->a, x->out->full_name);
	return 0;
}

/* The branch head, its tree and the tree's entries. */
static int push_head(struct push *x, const char **head, const char **base_tree, struct json_object **entries)
{
	struct json_object *j;
	long st;
	if (call(x, "GET", arena_printf(x->a, "/repos/%s/git/ref/heads/%s", x->repo, url_encode(x->a, x->out->branch)),
		 NULL, &j, &st))
		return -1;
	if (st == 409 || st == 404)
		return fail(x->out, 409, "The repository is empty: create its first commit on GitHub, then sync"), -1;
	*head = member(j, "object.sha");
	if (st != 200 || !*head)
		return fail(x->out, 502, arena_printf(x->a, "GitHub answered %ld for the branch", st)), -1;
	if (call(x, "GET", arena_printf(x->a, "/repos/%s/git/commits/%s", x->repo, *head), NULL, &j, &st))
		return -1;
	*base_tree = st == 200 ? member(j, "tree.sha") : NULL;
	if (!*base_tree)
		return fail(x->out, 502, arena_printf(x->a, "GitHub answered %ld for the head commit", st)), -1;
	if (call(x, "GET", arena_printf(x->a, "/repos/%s/git/trees/%s?recursive=1", x->repo, *base_tree), NULL, &j,
		 &st))
		return -1;
	*entries = st == 200 ? oauth_json_path(j, "tree") : NULL;
	if (!*entries || !json_object_is_type(*entries, json_type_array))
		return fail(x->out, 502, arena_printf(x->a, "GitHub answered %ld for the tree", st)), -1;
	return 0;
}

/* Sets each file's result against the tree; returns how many changed. */
static size_t mark_changes(struct github_file *files, size_t n, struct json_object *entries)
{
	size_t changed = 0;
	for (size_t i = 0; i < n; i++) {
		const char *existing = NULL;
		for (size_t k = 0; k < json_object_array_length(entries) && !existing; k++) {
			struct json_object *e = json_object_array_get_idx(entries, k);
			const char *path = jsonx_get_string(e, "path");
			if (path && !strcmp(path, files[i].path))
				existing = jsonx_get_string(e, "sha");
		}
		files[i].result = !existing ? "created" : strcmp(existing, files[i].blob_sha) ? "updated" : "unchanged";
		changed += strcmp(files[i].result, "unchanged") != 0;
	}
	return changed;
}

/* Uploads the changed blobs not uploaded yet (blobs are content-addressed: one upload
 * serves every retry) and lists them as tree entries into tree. */
static int push_blobs(struct push *x, struct github_file *files, size_t n, bool *uploaded, struct json_object *tree)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(files[i].result, "unchanged"))
			continue;
		if (!uploaded[i]) {
			struct json_object *b = arena_defer(x->a, jsonx_put, json_object_new_object()), *j;
			json_object_object_add(b, "content", json_object_new_string(files[i].content));
			json_object_object_add(b, "encoding", json_object_new_string("utf-8"));
			long st;
			if (call(x, "POST", arena_printf(x->a, "/repos/%s/git/blobs", x->repo), b, &j, &st))
				return -1;
			if (st != 201 || !member(j, "sha"))
				return fail(x->out, st == 403 || st == 404 ? 403 : 502,
					    arena_printf(x->a, "GitHub answered %ld when uploading %s", st,
							 files[i].path)),
				       -1;
			uploaded[i] = true;
		}
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "path", json_object_new_string(files[i].path));
		json_object_object_add(e, "mode", json_object_new_string("100644"));
		json_object_object_add(e, "type", json_object_new_string("blob"));
		json_object_object_add(e, "sha", json_object_new_string(files[i].blob_sha));
		json_object_array_add(tree, e);
	}
	return 0;
}

/* The new tree on base_tree and a commit of it on head: *commit. */
static int push_commit(struct push *x, const char *head, const char *base_tree, struct json_object *tree,
		       const char *message, const char **commit)
{
	struct json_object *tb = arena_defer(x->a, jsonx_put, json_object_new_object()), *j;
	json_object_object_add(tb, "base_tree", json_object_new_string(base_tree));
	json_object_object_add(tb, "tree", json_object_get(tree));
	long st;
	if (call(x, "POST", arena_printf(x->a, "/repos/%s/git/trees", x->repo), tb, &j, &st))
		return -1;
	const char *new_tree = st == 201 ? member(j, "sha") : NULL;
	if (!new_tree)
		return fail(x->out, 502, arena_printf(x->a, "GitHub answered %ld when creating the tree", st)), -1;
	struct json_object *cb = arena_defer(x->a, jsonx_put, json_object_new_object()),
			   *parents = json_object_new_array();
	json_object_array_add(parents, json_object_new_string(head));
	json_object_object_add(cb, "message", json_object_new_string(message));
	json_object_object_add(cb, "tree", json_object_new_string(new_tree));
	json_object_object_add(cb, "parents", parents);
	if (call(x, "POST", arena_printf(x->a, "/repos/%s/git/commits", x->repo), cb, &j, &st))
		return -1;
	*commit = st == 201 ? member(j, "sha") : NULL;
	if (!*commit)
		return fail(x->out, 502, arena_printf(x->a, "GitHub answered %ld when creating the commit", st)), -1;
	return 0;
}

/* Moves the branch to commit: 0 moved, 1 not a fast-forward (someone pushed
 * meanwhile), -1 failed. */
static int push_ref(struct push *x, const char *commit)
{
	struct json_object *rb = arena_defer(x->a, jsonx_put, json_object_new_object()), *j;
	json_object_object_add(rb, "sha", json_object_new_string(commit));
	json_object_object_add(rb, "force", json_object_new_boolean(0));
	long st;
	if (call(x, "PATCH",
		 arena_printf(x->a, "/repos/%s/git/refs/heads/%s", x->repo, url_encode(x->a, x->out->branch)), rb, &j,
		 &st))
		return -1;
	if (st == 200)
		return 0;
	if (st == 422 || st == 409)
		return 1;
	fail(x->out, 502, arena_printf(x->a, "GitHub answered %ld when moving the branch", st));
	return -1;
}

enum github_result github_push_files(struct arena *a, const struct oauth_provider *p, const char *token,
				     long long repo_id, struct github_file *files, size_t n, const char *message,
				     struct github_push *out)
{
	memset(out, 0, sizeof(*out));
	struct push x = {a, p, token, NULL, out};
	if (push_repository(&x, repo_id))
		return GITHUB_FAILED;
	for (size_t i = 0; i < n; i++) {
		github_blob_sha(files[i].content, strlen(files[i].content), files[i].blob_sha);
		files[i].result = NULL;
	}
	bool *uploaded = arena_alloc(a, sizeof(bool) * (n ? n : 1));
	memset(uploaded, 0, sizeof(bool) * (n ? n : 1));
	for (int attempt = 1; attempt <= PUSH_ATTEMPTS; attempt++) {
		out->attempts = attempt;
		const char *head, *base_tree, *commit;
		struct json_object *entries, *tree = arena_defer(a, jsonx_put, json_object_new_array());
		if (push_head(&x, &head, &base_tree, &entries))
			return GITHUB_FAILED;
		if (!mark_changes(files, n, entries))
			return GITHUB_OK; /* nothing changed: no commit */
		if (push_blobs(&x, files, n, uploaded, tree) ||
		    push_commit(&x, head, base_tree, tree, message, &commit))
			return GITHUB_FAILED;
		int moved = push_ref(&x, commit);
		if (moved < 0)
			return GITHUB_FAILED;
		if (moved == 0) {
			out->commit_sha = commit;
			return GITHUB_OK;
		}
		/* Not a fast-forward: start again on the new head. */
	}
	return fail(out, 409, "The branch kept moving while syncing; try again");
}

struct json_object *github_view(struct arena *a, const struct integration *row)
{
	(void)a;
	struct json_object *v = json_object_new_object(), *sel;
	json_object_object_add(v, "connected", json_object_new_boolean(oauth_row_connected(row)));
	json_object_object_add(v, "username", jsonx_string_or_null(oauth_row_profile(row, "username")));
	json_object_object_add(v, "avatar_url", jsonx_string_or_null(oauth_row_profile(row, "avatar_url")));
	json_object_object_add(v, "email", jsonx_string_or_null(oauth_row_profile(row, "email")));
	json_object_object_add(v, "name", jsonx_string_or_null(oauth_row_profile(row, "name")));
	json_object_object_add(v, "connected_at", jsonx_string_or_null(row->connected_at));
	json_object_object_add(v, "repositories", json_object_new_array());
	json_object_object_add(v, "auto_sync", json_object_new_boolean(jsonx_get_bool(row->config, "auto_sync", 0)));
	json_object_object_add(v, "selected_repos",
			       json_object_object_get_ex(row->config, "selected_repos", &sel) &&
					       json_object_is_type(sel, json_type_array)
				       ? json_object_get(sel)
				       : json_object_new_array());
	json_object_object_add(v, "scopes", oauth_row_scopes(row));
	json_object_object_add(v, "enabled", json_object_new_boolean(row->enabled));
	json_object_object_add(v, "status", jsonx_string_or_null(row->status));
	json_object_object_add(v, "last_error", jsonx_string_or_null(row->last_error));
	json_object_object_add(v, "token_expires_at", jsonx_string_or_null(row->token_expires_at));
	return v;
}
