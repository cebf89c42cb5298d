/* CSV imports; see import_run.h. */
#include "transfer/import_run.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/actor.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "events/audit.h"
#include "db/rows.h"
#include "events/events.h"
#include "transfer/csv_read.h"
#include "transfer/csv_write.h"
#include "transfer/entity.h"

#define BATCH	    500
#define KEEP_ERRORS 100
#define MAX_FIELDS  32

struct failed_row {
	size_t record;
	const char **cells;
	size_t n;
	const char *errors; /* "column: message; ..." */
};

struct run {
	struct arena *a;
	const struct import_entity *e;
	const char *user_id;
	void *state;
	bool write; /* not a dry run */
	size_t nfields;
	int col_of[MAX_FIELDS]; /* CSV column of each field */
	size_t ncsv;
	long max_rows;
	long rows, good;
	bool too_many, header_bad;
	const char *header_detail;
	struct json_object *details; /* the first KEEP_ERRORS {row, column, code, message} */
	long nerrors;		     /* cell errors */
	struct failed_row *failed;
	size_t nfailed, capfailed;
	struct json_object *batch_rows[BATCH];
	int batch_numbers[BATCH];
	size_t nbatch;
	enum db_status st;
};

static const char *error_code(const char *message)
{
	if (!strcmp(message, "is required"))
		return "required";
	if (strstr(message, "another of your") || strstr(message, "another device"))
		return "duplicate";
	if (strstr(message, "must be a whole number") || strstr(message, "must be true or false") ||
	    strstr(message, "must be a string") || strstr(message, "must be an integer"))
		return "invalid_type";
	if (strstr(message, "characters") || strstr(message, "between") || strstr(message, "at most") ||
	    strstr(message, "at least"))
		return "out_of_range";
	return "invalid";
}

static void flush(struct run *r)
{
	if (!r->nbatch || r->st != DB_OK)
		return;
	if (r->write) {
		struct import_batch b = {r->batch_rows, r->batch_numbers, r->nbatch};
		r->st = r->e->store(r->a, r->user_id, r->state, &b);
	}
	r->nbatch = 0;
}

static bool column_ignored(const struct import_entity *e, const char *name)
{
	for (size_t i = 0; e->ignored && e->ignored[i]; i++)
		if (!strcmp(e->ignored[i], name))
			return true;
	return false;
}

/* Maps the file's columns to the fields: every required field's column must be there,
 * an optional one may be left out (its cells are empty), an ignored one is skipped. */
static int header_row(struct run *r, const char *const *cells, size_t n)
{
	for (size_t f = 0; f < r->nfields; f++)
		r->col_of[f] = -1;
	r->ncsv = n;
	for (size_t c = 0; c < n; c++) {
		size_t f;
		for (f = 0; f < r->nfields; f++)
			if (!strcmp(cells[c], r->e->fields[f].name))
				break;
		if (f == r->nfields && column_ignored(r->e, cells[c]))
			continue;
		if (f == r->nfields) {
			r->header_detail =
				arena_printf(r->a, "column \"%s\" is not a column of %s", cells[c], r->e->name);
			return 1;
		}
		if (r->col_of[f] >= 0) {
			r->header_detail = arena_printf(r->a, "column \"%s\" appears twice", cells[c]);
			return 1;
		}
		r->col_of[f] = (int)c;
	}
	for (size_t f = 0; f < r->nfields; f++)
		if (r->col_of[f] < 0 && r->e->fields[f].required) {
			r->header_detail = arena_printf(r->a, "column \"%s\" is missing", r->e->fields[f].name);
			return 1;
		}
	return 0;
}

static void add_failed(struct run *r, size_t record, const char *const *cells, size_t n, struct json_object *errors)
{
	char *joined = "";
	json_object_object_foreach(errors, col, msg)
	{
		const char *m = json_object_get_string(msg);
		joined = arena_printf(r->a, "%s%s%s: %s", joined, *joined ? "; " : "", col, m);
		if (json_object_array_length(r->details) < KEEP_ERRORS) {
			struct json_object *d = json_object_new_object();
			json_object_object_add(d, "row", json_object_new_int64((long long)record));
			json_object_object_add(d, "column", json_object_new_string(col));
			json_object_object_add(d, "code", json_object_new_string(error_code(m)));
			json_object_object_add(d, "message", json_object_new_string(m));
			json_object_array_add(r->details, d);
		}
		r->nerrors++;
	}
	if (r->nfailed == r->capfailed) {
		size_t cap = r->capfailed ? r->capfailed * 2 : 64;
		struct failed_row *f = arena_alloc(r->a, cap * sizeof(*f));
		if (r->nfailed)
			memcpy(f, r->failed, r->nfailed * sizeof(*f));
		r->failed = f;
		r->capfailed = cap;
	}
	struct failed_row *f = &r->failed[r->nfailed++];
	f->record = record;
	f->n = n;
	f->cells = arena_alloc(r->a, (n ? n : 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++)
		f->cells[i] = arena_strdup(r->a, cells[i]);
	f->errors = joined;
}

static int on_row(void *ctx, size_t record, const char *const *cells, const size_t *lens, size_t n)
{
	(void)lens;
	struct run *r = ctx;
	if (record == 1)
		return header_row(r, cells, n) ? (r->header_bad = true, 1) : 0;
	if (++r->rows > r->max_rows) {
		r->too_many = true;
		return 1;
	}
	struct json_object *row = json_object_new_object(), *errors = json_object_new_object();
	if (n != r->ncsv)
		json_object_object_add(
			errors, "row",
			json_object_new_string(arena_printf(r->a, "has %zu cells; the header has %zu", n, r->ncsv)));
	for (size_t f = 0; f < r->nfields && n == r->ncsv; f++) {
		struct json_object *v;
		const char *msg =
			import_cell_value(&r->e->fields[f], r->col_of[f] < 0 ? NULL : cells[r->col_of[f]], &v);
		if (msg)
			json_object_object_add(errors, r->e->fields[f].name, json_object_new_string(msg));
		else if (v)
			json_object_object_add(row, r->e->fields[f].name, v);
	}
	if (!json_object_object_length(errors)) {
		struct json_object *ve = NULL;
		if (validate_object(row, r->e->fields, &ve)) {
			json_object_put(errors);
			errors = ve;
		} else if (r->e->row_check) {
			r->e->row_check(r->a, r->user_id, row, errors);
		}
	}
	if (!json_object_object_length(errors) && r->e->cross_check)
		r->e->cross_check(r->a, r->state, row, errors);
	if (json_object_object_length(errors)) {
		add_failed(r, record, cells, n, errors);
		json_object_put(row);
	} else {
		r->good++;
		r->batch_rows[r->nbatch] = arena_defer(r->a, jsonx_put, row);
		r->batch_numbers[r->nbatch++] = (int)record;
		if (r->nbatch == BATCH)
			flush(r);
	}
	json_object_put(errors);
	return r->st == DB_OK ? 0 : 1;
}

static char *cells_literal(struct arena *a, const struct failed_row *f)
{
	size_t cap = 3;
	for (size_t i = 0; i < f->n; i++)
		cap += 2 * strlen(f->cells[i]) + 3;
	char *o = arena_alloc(a, cap);
	size_t k = 0;
	o[k++] = '{';
	for (size_t i = 0; i < f->n; i++) {
		if (i)
			o[k++] = ',';
		o[k++] = '"';
		for (const char *p = f->cells[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				o[k++] = '\\';
			o[k++] = *p;
		}
		o[k++] = '"';
	}
	o[k++] = '}';
	o[k] = '\0';
	return o;
}

static enum db_status existing_job(struct arena *a, const char *user_id, const char *key, const char *sha,
				   enum import_outcome *outcome, const char **job_id, bool *found)
{
	const char *p[] = {user_id, key};
	PGresult *res;
	enum db_status s = db_exec(
		a, &res, "SELECT id, file_url FROM import_jobs WHERE user_id = $1 AND idempotency_key = $2", 2, p);
	*found = s == DB_OK && PQntuples(res) > 0;
	if (*found) {
		*job_id = PQgetvalue(res, 0, 0);
		*outcome = strcmp(PQgetvalue(res, 0, 1), sha) ? IMPORT_KEY_REUSED : IMPORT_REPLAYED;
	}
	return s;
}

/* Opens the transaction, inserts the running job and sets the savepoint the
 * rows are written under. *raced is set when a concurrent upload with the
 * same idempotency key committed first (the transaction is then rolled back). */
static enum db_status start_job(struct run *r, const struct import_params *ip, const char *sha, const char **job_id,
				bool *raced)
{
	*raced = false;
	enum db_status s = db_begin(r->a);
	PGresult *res;
	const char *p[] = {r->user_id, ip->mode, ip->entity, sha, ip->filename, ip->idempotency_key};
	if (s == DB_OK)
		s = db_exec(r->a, &res,
			    "INSERT INTO import_jobs (user_id, import_type, entity_type, file_url, original_filename, "
			    "status, started_at, idempotency_key, created_by) VALUES ($1, $2, $3, $4, $5, 'running', "
			    "now(), $6, $1) ON CONFLICT DO NOTHING RETURNING id",
			    6, p);
	if (s == DB_OK && PQntuples(res) == 0) {
		db_rollback(r->a);
		*raced = true;
		return DB_OK;
	}
	if (s == DB_OK)
		*job_id = PQgetvalue(res, 0, 0);
	if (s == DB_OK && r->e->begin)
		s = r->e->begin(r->a, r->user_id, &r->state);
	if (s == DB_OK)
		s = db_exec(r->a, NULL, "SAVEPOINT import_rows", 0, NULL);
	if (s != DB_OK)
		db_rollback(r->a);
	return s;
}

/* Refusals of the file as a whole (they write nothing at all, not even the
 * job); IMPORT_OUTCOME__MAX when the file was read to its end or stopped. */
static enum import_outcome file_refusal(struct run *r, enum csv_read_status cs, size_t records, const char **detail)
{
	if (cs == CSV_READ_NOT_UTF8)
		return IMPORT_NOT_UTF8;
	if (cs == CSV_READ_MALFORMED || cs == CSV_READ_TOO_MANY_CELLS) {
		*detail = csv_read_message(cs);
		return IMPORT_MALFORMED;
	}
	if (r->header_bad) {
		*detail = r->header_detail;
		return IMPORT_BAD_HEADER;
	}
	if (r->too_many)
		return IMPORT_TOO_MANY_ROWS;
	if (cs == CSV_READ_OK && records == 0)
		return IMPORT_EMPTY;
	if (cs != CSV_READ_OK && r->st == DB_OK)
		r->st = DB_ERROR;
	return IMPORT_OUTCOME__MAX;
}

static enum db_status record_failed_rows(struct run *r, const char *job_id)
{
	enum db_status s = DB_OK;
	for (size_t i = 0; s == DB_OK && i < r->nfailed; i++) {
		char rn[24];
		snprintf(rn, sizeof(rn), "%zu", r->failed[i].record);
		const char *q[] = {job_id, rn, cells_literal(r->a, &r->failed[i]), r->failed[i].errors};
		s = db_exec(r->a, NULL,
			    "INSERT INTO import_errors (import_id, row_number, cells, errors) VALUES ($1, $2::int, "
			    "$3::text[], $4)",
			    4, q);
	}
	return s;
}

/* The audit entry and the import.completed / import.failed event of a
 * finished job (job: the row RETURNING IMPORT_JOB_COLUMNS). */
static enum db_status announce_job(struct run *r, const struct actor *who, const struct import_params *ip,
				   const char *job_id, const PGresult *job, bool failed)
{
	const char *what = failed ? "import.failed" : "import.completed";
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "import_id", json_object_new_string(job_id));
	json_object_object_add(d, "entity_type", json_object_new_string(ip->entity));
	json_object_object_add(d, "mode", json_object_new_string(ip->mode));
	json_object_object_add(d, "total_rows", json_object_new_int64(r->rows));
	json_object_object_add(d, "success_count", json_object_new_int64(failed ? 0 : r->good));
	json_object_object_add(d, "error_count", json_object_new_int64((long long)r->nfailed));
	enum db_status s = audit_record(r->a, who, what, NULL, json_object_get(d));
	json_object_put(d);
	if (s == DB_OK) {
		struct json_object *ev = import_job_json(job, 0);
		struct event_published out;
		s = events_publish(r->a, who->user_id, what, ev, NULL, &out);
		json_object_put(ev);
	}
	return s;
}

/* Keeps or drops the rows (all_or_nothing with failures and dry runs drop
 * them), records the failed rows and closes the job. */
static enum db_status complete_job(struct run *r, const struct actor *who, const struct import_params *ip,
				   const char *job_id)
{
	bool failed = !strcmp(ip->mode, "all_or_nothing") && r->nfailed > 0;
	enum db_status s = DB_OK;
	if (failed || !r->write)
		s = db_exec(r->a, NULL, "ROLLBACK TO SAVEPOINT import_rows", 0, NULL);
	if (s == DB_OK)
		s = record_failed_rows(r, job_id);
	char total[24], good[24], bad[24];
	snprintf(total, sizeof(total), "%ld", r->rows);
	snprintf(good, sizeof(good), "%ld", failed ? 0 : r->good);
	snprintf(bad, sizeof(bad), "%zu", r->nfailed);
	const char *message =
		failed ? arena_printf(r->a, "%zu of %ld rows failed validation; nothing was imported (all_or_nothing)",
				      r->nfailed, r->rows)
		       : NULL;
	const char *q[] = {job_id,
			   total,
			   good,
			   bad,
			   json_object_to_json_string_ext(r->details, JSON_C_TO_STRING_PLAIN),
			   message,
			   failed ? "failed" : "completed"};
	PGresult *job;
	if (s == DB_OK)
		s = db_exec(r->a, &job,
			    "UPDATE import_jobs SET status = $7, total_rows = $2::int, processed_rows = $2::int, "
			    "success_count = $3::int, error_count = $4::int, error_details = $5::jsonb, error_message "
			    "= $6, completed_at = now() WHERE id = $1 RETURNING " IMPORT_JOB_COLUMNS,
			    7, q);
	if (s == DB_OK)
		s = announce_job(r, who, ip, job_id, job, failed);
	return s;
}

enum db_status import_execute(struct arena *a, const struct actor *who, const struct import_params *ip,
			      enum import_outcome *outcome, const char **job_id, const char **detail, size_t *record)
{
	*detail = NULL;
	*record = 0;
	const struct import_entity *e = import_entity_find(ip->entity);
	const char *sha = arena_printf(a, "upload:sha256:%s", crypto_sha256_hex(a, ip->data, ip->len));
	bool found = false;
	enum db_status s = DB_OK;
	if (ip->idempotency_key) {
		s = existing_job(a, who->user_id, ip->idempotency_key, sha, outcome, job_id, &found);
		if (s != DB_OK || found)
			return s;
	}
	struct run r = {.a = a,
			.e = e,
			.user_id = who->user_id,
			.write = strcmp(ip->mode, "dry_run") != 0,
			.nfields = import_entity_ncolumns(e),
			.max_rows = ip->max_rows,
			.st = DB_OK};
	r.details = arena_defer(a, jsonx_put, json_object_new_array());
	if (r.nfields > MAX_FIELDS)
		return DB_ERROR;
	bool raced;
	s = start_job(&r, ip, sha, job_id, &raced);
	if (s == DB_OK && raced) {
		/* The same key committed by a concurrent upload just now. */
		s = existing_job(a, who->user_id, ip->idempotency_key, sha, outcome, job_id, &found);
		return s == DB_OK && !found ? DB_CONFLICT : s;
	}
	if (s != DB_OK)
		return s;
	enum csv_read_status cs = csv_read(ip->data, ip->len, on_row, &r, record);
	if (cs == CSV_READ_OK || cs == CSV_READ_STOPPED)
		flush(&r);
	if (r.st == DB_OK && cs == CSV_READ_OK && r.write && e->finish)
		r.st = e->finish(a, who->user_id, r.state);
	enum import_outcome refused = file_refusal(&r, cs, *record, detail);
	if (refused != IMPORT_OUTCOME__MAX || r.st != DB_OK) {
		db_rollback(a);
		*outcome = refused;
		if (refused != IMPORT_OUTCOME__MAX)
			return DB_OK;
		return r.st == DB_INVALID ? DB_ERROR : r.st;
	}
	s = db_finish(a, complete_job(&r, who, ip, *job_id));
	*outcome = IMPORT_DONE;
	return s;
}

struct json_object *import_job_json(const PGresult *res, int r)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(PQgetvalue(res, r, 0)));
	json_object_object_add(o, "mode", json_object_new_string(PQgetvalue(res, r, 1)));
	json_object_object_add(o, "entity_type", json_object_new_string(PQgetvalue(res, r, 2)));
	json_object_object_add(o, "original_filename", jsonx_string_or_null(db_value(res, r, 3)));
	json_object_object_add(o, "status", json_object_new_string(PQgetvalue(res, r, 4)));
	json_object_object_add(o, "total_rows", json_object_new_int64(atoll(PQgetvalue(res, r, 5))));
	json_object_object_add(o, "processed_rows", json_object_new_int64(atoll(PQgetvalue(res, r, 6))));
	json_object_object_add(o, "success_count", json_object_new_int64(atoll(PQgetvalue(res, r, 7))));
	json_object_object_add(o, "error_count", json_object_new_int64(atoll(PQgetvalue(res, r, 8))));
	json_object_object_add(o, "errors", json_tokener_parse(PQgetvalue(res, r, 9)));
	json_object_object_add(o, "error_message", jsonx_string_or_null(db_value(res, r, 10)));
	json_object_object_add(o, "started_at", jsonx_string_or_null(db_value(res, r, 11)));
	json_object_object_add(o, "completed_at", jsonx_string_or_null(db_value(res, r, 12)));
	json_object_object_add(o, "created_at", json_object_new_string(PQgetvalue(res, r, 13)));
	return o;
}

enum db_status import_job_get(struct arena *a, const char *user_id, const char *id, struct json_object **job)
{
	const char *p[] = {user_id, id};
	PGresult *res;
	enum db_status s =
		db_exec(a, &res, "SELECT " IMPORT_JOB_COLUMNS " FROM import_jobs WHERE user_id = $1 AND id = $2", 2, p);
	*job = s == DB_OK && PQntuples(res) == 1 ? import_job_json(res, 0) : NULL;
	return s;
}

enum db_status import_job_list(struct arena *a, const char *user_id, long limit, long offset,
			       struct json_object **items, long long *total)
{
	PGresult *rows, **res = &rows;
	char lim[24], off[24];
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	const char *p[] = {user_id, lim, off};
	PGresult *count;
	enum db_status s = db_exec(a, &count, "SELECT count(*) FROM import_jobs WHERE user_id = $1", 1, p);
	if (s == DB_OK)
		s = db_exec(a, res,
			    "SELECT " IMPORT_JOB_COLUMNS " FROM import_jobs WHERE user_id = $1 "
			    "ORDER BY created_at DESC, id LIMIT $2 OFFSET $3",
			    3, p);
	if (s == DB_OK)
		*total = atoll(PQgetvalue(count, 0, 0));
	*items = s == DB_OK ? rows_views(rows, import_job_json) : NULL;
	return s;
}

enum db_status import_job_errors_csv(struct arena *a, const char *user_id, const char *id, bool *found, FILE *out)
{
	const char *p[] = {user_id, id};
	PGresult *job, *res;
	enum db_status s = db_exec(a, &job, "SELECT entity_type FROM import_jobs WHERE user_id = $1 AND id = $2", 2, p);
	*found = s == DB_OK && PQntuples(job) > 0;
	if (s != DB_OK || !*found)
		return s;
	s = db_exec(a, &res,
		    "SELECT row_number, array_to_json(cells)::text, errors FROM import_errors WHERE import_id = $2 "
		    "AND EXISTS (SELECT 1 FROM import_jobs WHERE id = $2 AND user_id = $1) ORDER BY row_number",
		    2, p);
	if (s != DB_OK)
		return s;
	/* The header: row, the upload's cells (c1..cN by the widest row), error. */
	int n = PQntuples(res);
	struct json_object **cells = arena_alloc(a, sizeof(*cells) * (size_t)(n ? n : 1));
	size_t width = 0;
	for (int i = 0; i < n; i++) {
		cells[i] = arena_defer(a, jsonx_put, json_tokener_parse(PQgetvalue(res, i, 1)));
		if (cells[i] && json_object_array_length(cells[i]) > width)
			width = json_object_array_length(cells[i]);
	}
	csv_write_cell(out, true, "row", 3, false);
	for (size_t c = 0; c < width; c++) {
		const char *h = arena_printf(a, "column_%zu", c + 1);
		csv_write_cell(out, false, h, strlen(h), false);
	}
	csv_write_cell(out, false, "error", 5, false);
	csv_write_row_end(out);
	for (int i = 0; i < n; i++) {
		const char *rn = PQgetvalue(res, i, 0), *err = PQgetvalue(res, i, 2);
		size_t have = cells[i] ? json_object_array_length(cells[i]) : 0;
		csv_write_cell(out, true, rn, strlen(rn), false);
		for (size_t c = 0; c < width; c++) {
			const char *v = c < have ? json_object_get_string(json_object_array_get_idx(cells[i], c)) : "";
			csv_write_cell(out, false, v ? v : "", strlen(v ? v : ""), true);
		}
		csv_write_cell(out, false, err, strlen(err), true);
		csv_write_row_end(out);
	}
	return DB_OK;
}
