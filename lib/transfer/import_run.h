/* One CSV import, run inside the upload's request in one transaction: the job row, the
 * header check (before any row is read), every row converted and validated with the
 * entity's field table, rows written in batches by the mode (all_or_nothing rolls the
 * rows back to a savepoint when any row failed; valid_rows keeps the good ones; dry_run
 * writes none), every failing row kept for the errors CSV, the first 100 errors in the
 * job, an audit entry and import.completed / import.failed. */
#ifndef SB_IMPORT_RUN_H
#define SB_IMPORT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "db/db.h"

struct actor;
struct arena;
struct json_object;

enum import_outcome {
	IMPORT_DONE,	      /* the job row exists (completed or failed): *job_id */
	IMPORT_REPLAYED,      /* the Idempotency-Key was used before with this file: *job_id */
	IMPORT_KEY_REUSED,    /* ... with another file: 409 */
	IMPORT_NOT_UTF8,      /* 422, nothing written */
	IMPORT_MALFORMED,     /* 422 */
	IMPORT_BAD_HEADER,    /* 422: *detail says what differs */
	IMPORT_EMPTY,	      /* 422: no header row */
	IMPORT_TOO_MANY_ROWS, /* 413 */
	IMPORT_OUTCOME__MAX
};

struct import_params {
	const char *entity, *mode, *filename, *idempotency_key;
	const char *data;
	size_t len;
	long max_rows;
};

/* Columns of a job for import_job_json(), in this order. */
#define IMPORT_JOB_COLUMNS                                                                                     \
	"id, import_type, entity_type, original_filename, status, total_rows, processed_rows, success_count, " \
	"error_count, error_details::text, error_message, " SQL_RFC3339("started_at") ", " SQL_RFC3339(        \
		"completed_at") ", " SQL_RFC3339("created_at")
struct json_object *import_job_json(const PGresult *res, int r);

/* Runs the import for who->user_id. *detail (may be NULL) explains a refusal; *record
 * names the record where the CSV broke. Returns the database status; *outcome on DB_OK. */
enum db_status import_execute(struct arena *a, const struct actor *who, const struct import_params *ip,
			      enum import_outcome *outcome, const char **job_id, const char **detail, size_t *record);

/* The caller's import as its view (*job NULL: none), a page of them (newest first) and
 * their count. The caller owns the objects. */
enum db_status import_job_get(struct arena *a, const char *user_id, const char *id, struct json_object **job);
enum db_status import_job_list(struct arena *a, const char *user_id, long limit, long offset,
			       struct json_object **items, long long *total);
/* Writes the failing rows of the caller's import to out as CSV: row, the upload's cells
 * (column_1..N, by the widest row), error. *found tells whether the import exists. */
enum db_status import_job_errors_csv(struct arena *a, const char *user_id, const char *id, bool *found, FILE *out);

#endif
