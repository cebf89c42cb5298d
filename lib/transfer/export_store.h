/* Export jobs in PostgreSQL: created in the request's transaction (the worker is woken
 * by NOTIFY at commit), claimed by a worker under a lease with FOR UPDATE SKIP LOCKED
 * (a killed worker's job is taken up again when its lease runs out), settled only by
 * the lease owner, and published as export.completed / export.failed. */
#ifndef SB_EXPORT_STORE_H
#define SB_EXPORT_STORE_H

#include <stdbool.h>

#include "db/db.h"

struct arena;
struct json_object;

/* Columns of a job for export_job_json(), in this order. */
#define EXPORT_JOB_COLUMNS                                                                                             \
	"id, export_type, entity_type, filters::text, array_to_json(columns)::text, format, bom, status, file_url, "   \
	"file_size, record_count, rows_written, " SQL_RFC3339("started_at") ", " SQL_RFC3339(                          \
		"completed_at") ", " SQL_RFC3339("expires_at") ", error_message, schedule_id, " SQL_RFC3339("created_" \
													    "at") \
		", destination::text, destination_key, destination_status"

struct json_object *export_job_json(const PGresult *res, int r);

struct export_request {
	const char *entity, *format;
	const char *filters_json; /* {"from": RFC 3339, "to", "provider", "webhook_id", "status"} */
	const char *columns;	  /* PostgreSQL text[] literal, or NULL for every column */
	bool bom;
	const char *schedule_id; /* NULL: a manual export */
	const char *destination_json; /* {"type": "s3", "prefix"}, or NULL: the local download only */
};

/* Inserts a pending job for user_id in the open transaction; *res holds the row. */
enum db_status export_job_insert(struct arena *a, const char *user_id, const struct export_request *er, PGresult **res);
/* The same for the API: *job is the new job's view (the caller's to put). */
enum db_status export_job_create(struct arena *a, const char *user_id, const struct export_request *er,
				 struct json_object **job);
/* The caller's job id as its view; *job is NULL when there is none (the caller's to put). */
enum db_status export_job_get(struct arena *a, const char *user_id, const char *id, struct json_object **job);
/* A page of the caller's jobs, newest first, as an array of views, and their count. */
enum db_status export_job_list(struct arena *a, const char *user_id, long limit, long offset,
			       struct json_object **items, long long *total);
/* Deletes the caller's job and its file; *deleted tells whether there was one. */
enum db_status export_job_delete(struct arena *a, const char *user_id, const char *id, bool *deleted);
/* What a download needs: *state "ready", "expired", "not_ready" or NULL (no such job);
 * the file's name under SB_TRANSFER_DIR, the name offered to the browser, its type. */
enum db_status export_job_file(struct arena *a, const char *user_id, const char *id, const char **state,
			       const char **file, const char **download_name, const char **content_type);

/* A claimed job, as the runner needs it. */
struct export_job {
	const char *id, *user_id, *entity, *format, *filters_json, *columns_json;
	bool bom;
	int attempts;
	const char *destination_json; /* NULL: no delivery */
};

/* Claims the oldest pending job (or one whose lease ran out) for owner. *found false:
 * nothing to do. Jobs that failed SB_EXPORT_MAX_ATTEMPTS times are failed for good. */
enum db_status export_job_claim(struct arena *a, const char *owner, long lease_seconds, struct export_job *job,
				bool *found);
/* Records progress and extends the lease. *lost true: another worker owns the job now. */
enum db_status export_job_progress(struct arena *a, const char *id, const char *owner, long long rows,
				   long lease_seconds, bool *lost);
/* Publishes the finished file: completed, its size, ETag, row count, expiry, the object
 * key it was delivered to (NULL: none); the event export.completed in the same
 * transaction. *lost as above (then nothing changed). */
enum db_status export_job_complete(struct arena *a, const struct export_job *job, const char *owner, const char *file,
				   long long size, const char *etag, long long rows, const char *delivered_key,
				   bool *lost);
/* Fails the job with message (for the user: no secret, no path) and publishes export.failed. */
enum db_status export_job_fail(struct arena *a, const struct export_job *job, const char *owner, const char *message);

/* Housekeeping: jobs past expires_at become expired and their files are deleted. */
enum db_status export_jobs_expire(struct arena *a, int *expired);

/* The directory of export files (SB_TRANSFER_DIR), without a trailing slash. */
const char *transfer_dir(void);

#endif
