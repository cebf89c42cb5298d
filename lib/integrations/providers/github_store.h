/* GitHub sync state: github_repo_sync (per repository: synced, last_sync, last_error)
 * and github_project_sync (per project file pushed). */
#ifndef SB_GITHUB_STORE_H
#define SB_GITHUB_STORE_H

#include "db/db.h"

struct arena;
struct json_object;
struct github_file;
struct github_push;

/* Adds synced and last_sync to each repository of repos (GitHub's list) from the rows. */
enum db_status github_store_annotate(struct arena *a, const char *user_id, struct json_object *repos);
/* Records a failed push to repo_id (when GitHub named the repository) in the open
 * transaction. */
enum db_status github_store_failure(struct arena *a, const char *user_id, long long repo_id,
				    const struct github_push *out);
/* Records a successful push and each file's result; *last_sync receives its time. */
enum db_status github_store_success(struct arena *a, const char *user_id, long long repo_id,
				    const struct github_push *out, const struct github_file *files, size_t n,
				    const char **last_sync);
/* Removes the user's sync rows (the integration was disconnected). */
enum db_status github_store_forget(struct arena *a, const char *user_id);

#endif
