/* GitHub sync as a tracked job: queued by POST .../github/sync {"async": true} (202 with
 * the job), read by GET .../github/sync/{id}, run by the worker under a lease. */
#ifndef SB_GITHUB_JOBS_H
#define SB_GITHUB_JOBS_H

#include <stdbool.h>

#include "db/db.h"

struct arena;
struct json_object;

/* Queues a sync of request ({repository_id, project_ids}) for user_id and wakes the
 * worker; *job is the job's JSON (status queued). In its own statement (no
 * transaction needed). */
enum db_status github_job_enqueue(struct arena *a, const char *user_id, struct json_object *request,
				  struct json_object **job);

/* The caller's job by id as JSON; *found false when there is none of theirs. */
enum db_status github_job_get(struct arena *a, const char *user_id, const char *id, struct json_object **job,
			      bool *found);

/* True when an event of type with data may queue an auto-sync (the type is one of
 * SB_GITHUB_AUTO_SYNC_EVENTS and data names a project id): only then does the
 * publication need a transaction around it and github_auto_sync. No database. */
bool github_auto_sync_applies(const char *type, struct json_object *data);

/* Auto-sync, after an event the host platform published through POST /events: when
 * type is one of SB_GITHUB_AUTO_SYNC_EVENTS (comma separated; "project.updated"), data
 * names data.project_id, the project is the user's, and the user's GitHub integration is
 * enabled with auto_sync on, one job per repository of its selected_repos syncs that
 * project. *queued counts the jobs. Runs in the caller's transaction. */
enum db_status github_auto_sync(struct arena *a, const char *user_id, const char *type, struct json_object *data,
				int *queued);

/* Claims one due job (queued, or running with a lapsed lease) for owner for
 * lease_seconds and runs it: the sync of github_ops.c, then the outcome recorded.
 * Returns 1 when a job ran, 0 when none was due, -1 on database trouble. */
int github_jobs_run_one(struct arena *a, const char *owner, long lease_seconds);

#endif
