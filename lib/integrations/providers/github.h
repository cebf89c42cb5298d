/* GitHub specifics beyond the generic OAuth provider: the repositories list and the
 * atomic push of project files through the Git Data API. */
#ifndef SB_GITHUB_H
#define SB_GITHUB_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct json_object;
struct integration;
struct oauth_provider;

/* One file to push. path and content are the caller's; the push fills blob_sha and
 * result ("created", "updated", "unchanged"). */
struct github_file {
	const char *project_id, *name, *path, *content;
	char blob_sha[41];
	const char *result;
};

struct github_push {
	const char *full_name, *branch; /* of the repository */
	const char *commit_sha;		/* the new commit, NULL when nothing changed */
	int attempts;			/* ref updates tried */
	const char *reason;		/* on failure */
	int http_status;		/* on failure: 404, 409, 403, 502, 504 */
};

enum github_result { GITHUB_OK, GITHUB_FAILED, GITHUB_RESULT__MAX };

/* The git blob id of content: SHA-1 of "blob <len>\0<content>", lower-case hex. */
void github_blob_sha(const char *content, size_t len, char out[41]);
/* A project's path in the repository: "nexflux/<name>.json", with '/', '\\', control
 * characters and leading dots of the name replaced by '_'. */
char *github_project_path(struct arena *a, const char *name);

/* The user's repositories (first 100, most recently updated), as a JSON array of
 * {id, name, full_name, private} owned by the arena. */
/* After a GitHub call failed with http_status 429: the epoch second to wait until
 * (the service's X-RateLimit-Reset / Retry-After, or our own window's end); 0 when the
 * last call was not rate limited. */
long github_rate_limited_until(void);

struct provider_call;
struct provider_result;
/* The sync of POST .../github/sync run now (the worker runs queued jobs with it). */
int github_sync_now(const struct provider_call *c, struct provider_result *r);

enum github_result github_list_repos(struct arena *a, const struct oauth_provider *p, const char *token,
				     struct json_object **repos, const char **reason, int *http_status);

/* Pushes files into repository repo_id's default branch as one commit (blobs → tree →
 * commit → ref update); no commit when every file is unchanged. A rejected ref update
 * (someone pushed meanwhile) is retried on the new head, up to 3 times. */
enum github_result github_push_files(struct arena *a, const struct oauth_provider *p, const char *token,
				     long long repo_id, struct github_file *files, size_t n, const char *message,
				     struct github_push *out);

/* GitHubIntegrationResponse (spec 000) without repositories (the handler adds them). */
struct json_object *github_view(struct arena *a, const struct integration *row);

#endif
