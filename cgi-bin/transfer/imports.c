/* CSV imports: the upload (text/csv or multipart/form-data; entity and mode from the
 * query or form fields), listing, one job, the errors CSV, and the templates. */
#define _GNU_SOURCE
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"
#include "transfer/csv_write.h"
#include "transfer/entity.h"
#include "transfer/import_run.h"
#include "transfer/xlsx_write.h"

struct upload {
	const char *data;
	size_t len;
	const char *filename, *entity, *mode;
};

/* The value of parameter name in a header value (boundary=..., name="..."), in the arena. */
static const char *header_param(struct arena *a, const char *v, size_t vlen, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = v, *end = v + vlen; p < end; p++) {
		if ((p == v || p[-1] == ';' || p[-1] == ' ') && (size_t)(end - p) > nl && !strncasecmp(p, name, nl) &&
		    p[nl] == '=') {
			const char *s = p + nl + 1;
			if (s < end && *s == '"') {
				const char *q = memchr(s + 1, '"', (size_t)(end - s - 1));
				return q ? arena_strndup(a, s + 1, (size_t)(q - s - 1)) : NULL;
			}
			size_t n = strcspn(s, "; \r\n");
			return arena_strndup(a, s, n < (size_t)(end - s) ? n : (size_t)(end - s));
		}
	}
	return NULL;
}

/* multipart/form-data (RFC 7578): the part named "file" is the CSV; parts "entity" and
 * "mode" may name those. Returns 0, or -1 when the body is not well-formed multipart. */
static int parse_multipart(struct request *rq, const char *ctype, struct upload *up)
{
	const char *boundary = header_param(rq->arena, ctype, strlen(ctype), "boundary");
	if (!boundary || !*boundary || strlen(boundary) > 200)
		return -1;
	const char *delim = arena_printf(rq->arena, "--%s", boundary);
	size_t dl = strlen(delim);
	const char *p = memmem(rq->body, rq->body_len, delim, dl), *end = rq->body + rq->body_len;
	bool got_file = false;
	while (p) {
		p += dl;
		if (end - p >= 2 && !memcmp(p, "--", 2))
			break; /* the closing delimiter */
		if (end - p < 2 || memcmp(p, "\r\n", 2))
			return -1;
		p += 2;
		const char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (!hend)
			return -1;
		const char *content = hend + 4;
		const char *next =
			memmem(content, (size_t)(end - content), arena_printf(rq->arena, "\r\n%s", delim), dl + 2);
		if (!next)
			return -1;
		const char *name = NULL, *filename = NULL;
		for (const char *line = p; line < hend;) {
			const char *eol = memmem(line, (size_t)(hend + 2 - line), "\r\n", 2);
			size_t ll = (size_t)(eol - line);
			if (ll > 20 && !strncasecmp(line, "content-disposition:", 20)) {
				name = header_param(rq->arena, line, ll, "name");
				filename = header_param(rq->arena, line, ll, "filename");
			}
			line = eol + 2;
		}
		size_t clen = (size_t)(next - content);
		if (name && !strcmp(name, "file") && !got_file) {
			up->data = content;
			up->len = clen;
			up->filename = filename;
			got_file = true;
		} else if (name && !strcmp(name, "entity")) {
			up->entity = arena_strndup(rq->arena, content, clen);
		} else if (name && !strcmp(name, "mode")) {
			up->mode = arena_strndup(rq->arena, content, clen);
		}
		p = next + 2;
	}
	return got_file ? 0 : -1;
}

/* The answer to a file refused as a whole: nothing of it was written. */
static int reply_refusal(struct request *rq, enum import_outcome out, const char *entity, const char *detail,
			 size_t record, long max_rows)
{
	switch (out) {
	case IMPORT_NOT_UTF8:
		return reply_error(
			rq, 422, "invalid_encoding",
			"The file is not UTF-8 text (another encoding, such as Latin-1?); save it as CSV UTF-8");
	case IMPORT_MALFORMED:
		return reply_error(rq, 422, "malformed_csv",
				   arena_printf(rq->arena, "%s (record %zu); nothing was imported", detail, record));
	case IMPORT_BAD_HEADER:
		return reply_error(
			rq, 422, "header_mismatch",
			arena_printf(rq->arena,
				     "The header row does not match the %s template: %s; nothing was imported",
				     entity, detail));
	case IMPORT_EMPTY:
		return reply_error(rq, 422, "empty_file", "The file has no header row");
	case IMPORT_TOO_MANY_ROWS:
		return reply_error(
			rq, 413, "too_many_rows",
			arena_printf(rq->arena, "The file has more than %ld rows; nothing was imported", max_rows));
	case IMPORT_KEY_REUSED:
		return reply_error(rq, 409, "idempotency_key_reused",
				   "This Idempotency-Key was used for another file; use a new key");
	default:
		return reply_internal(rq);
	}
}

/* 201 job (completed, or failed in all_or_nothing) | 200 the same job again (replayed
 * Idempotency-Key) | 400 | 401 | 403 | 409 key reused with another file | 411 | 413
 * size or row cap | 415 | 422 entity, mode, encoding, malformed CSV, header | 503 */
int handle_import_create(struct request *rq)
{
	const char *ctype = request_header(rq, "content-type");
	if (rq->content_length < 0)
		return reply_error(rq, 411, "length_required", "Content-Length is required");
	struct upload up = {.entity = request_query(rq, "entity"),
			    .mode = request_query(rq, "mode"),
			    .filename = request_query(rq, "filename")};
	if (ctype && !strncasecmp(ctype, "multipart/form-data", 19)) {
		if (parse_multipart(rq, ctype, &up))
			return reply_error(rq, 400, "malformed_multipart",
					   "The multipart body is malformed or has no part named \"file\"");
	} else if (ctype && (!strncasecmp(ctype, "text/csv", 8) || !strncasecmp(ctype, "application/csv", 15))) {
		up.data = rq->body ? rq->body : "";
		up.len = rq->body_len;
	} else {
		return reply_error(rq, 415, "unsupported_media_type",
				   "Upload the file as text/csv or multipart/form-data");
	}
	long max_bytes = config_int("SB_IMPORT_MAX_BYTES", 10L << 20, 1024, 1L << 30);
	if ((long)up.len > max_bytes)
		return reply_error(rq, 413, "payload_too_large",
				   arena_printf(rq->arena, "The file is larger than %ld bytes", max_bytes));
	struct json_object *errors = json_object_new_object();
	if (!up.entity || !import_entity_find(up.entity))
		json_object_object_add(errors, "entity", json_object_new_string("must be webhooks or blynk_devices"));
	if (!up.mode)
		up.mode = "all_or_nothing";
	if (strcmp(up.mode, "all_or_nothing") && strcmp(up.mode, "valid_rows") && strcmp(up.mode, "dry_run"))
		json_object_object_add(errors, "mode",
				       json_object_new_string("must be all_or_nothing, valid_rows or dry_run"));
	const char *key = request_header(rq, "idempotency-key");
	if (key && (!*key || strlen(key) > 200))
		json_object_object_add(errors, "Idempotency-Key",
				       json_object_new_string("must be 1 to 200 characters"));
	if (up.filename && (strlen(up.filename) > 255 || utf8_length(up.filename, strlen(up.filename)) < 0))
		up.filename = NULL;
	if (json_object_object_length(errors))
		return reply_invalid(rq, errors);
	json_object_put(errors);
	if (up.len == 0)
		return reply_error(rq, 422, "empty_file", "The file is empty: send the header row and the rows");
	struct import_params ip = {.entity = up.entity,
				   .mode = up.mode,
				   .filename = up.filename,
				   .idempotency_key = key,
				   .data = up.data,
				   .len = up.len,
				   .max_rows = config_int("SB_IMPORT_MAX_ROWS", 100000, 1, 10000000)};
	enum import_outcome out;
	const char *job_id = NULL, *detail = NULL;
	size_t record;
	enum db_status s =
		import_execute(rq->arena, request_actor(rq, rq->user_id), &ip, &out, &job_id, &detail, &record);
	if (s == DB_CONFLICT)
		return reply_error(rq, 409, "conflict", "An upload with this Idempotency-Key is in progress");
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (out != IMPORT_DONE && out != IMPORT_REPLAYED)
		return reply_refusal(rq, out, up.entity, detail, record, ip.max_rows);
	struct json_object *job;
	s = import_job_get(rq->arena, rq->user_id, job_id, &job);
	if (s != DB_OK || !job)
		return reply_db_failure(rq, s == DB_OK ? DB_ERROR : s);
	reply_header(rq, "Location", arena_printf(rq->arena, "/api/v1/import/%s", job_id));
	if (out == IMPORT_REPLAYED) {
		reply_header(rq, "Idempotent-Replayed", "true");
		return reply_ok(rq, 200, job, "This upload was already imported");
	}
	return reply_ok(rq, 201, job, NULL);
}

/* 200 {items, page, limit, total} | 401 | 403 | 422 | 503 */
int handle_import_list(struct request *rq)
{
	long page, limit;
	if (reply_page_params(rq, &page, &limit))
		return rq->status;
	struct json_object *items;
	long long total;
	enum db_status s = import_job_list(rq->arena, rq->user_id, limit, (page - 1) * limit, &items, &total);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, reply_page(items, page, limit, total), NULL);
}

/* 200 job | 401 | 403 | 404 | 503 */
int handle_import_get(struct request *rq)
{
	const char *id = transfer_path_uuid(rq, "id", "No such import");
	if (!id)
		return rq->status;
	struct json_object *job;
	enum db_status s = import_job_get(rq->arena, rq->user_id, id, &job);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!job)
		return reply_error(rq, 404, "not_found", "No such import");
	return reply_ok(rq, 200, job, NULL);
}

/* A CSV built in memory through the same writer as exports (tmpfile-free: open_memstream). */
struct memcsv {
	char *buf;
	size_t len;
	FILE *f;
};

static void memcsv_free(void *p)
{
	struct memcsv *m = p;
	if (m->f)
		fclose(m->f);
	free(m->buf);
}

static struct memcsv *memcsv_open(struct request *rq)
{
	struct memcsv *m = arena_alloc(rq->arena, sizeof(*m));
	m->f = open_memstream(&m->buf, &m->len);
	return m->f ? arena_defer(rq->arena, memcsv_free, m) : NULL;
}

static int memcsv_reply(struct request *rq, struct memcsv *m, const char *filename)
{
	fflush(m->f);
	reply_header(rq, "Content-Disposition", arena_printf(rq->arena, "attachment; filename=\"%s\"", filename));
	return reply_raw(rq, 200, "text/csv", m->buf, m->len);
}

/* 200 text/csv: every failing row as uploaded, the row number and an error column |
 * 401 | 403 | 404 | 503 */
int handle_import_errors(struct request *rq)
{
	const char *id = transfer_path_uuid(rq, "id", "No such import");
	if (!id)
		return rq->status;
	struct memcsv *m = memcsv_open(rq);
	if (!m)
		return reply_internal(rq);
	bool found;
	enum db_status s = import_job_errors_csv(rq->arena, rq->user_id, id, &found, m->f);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!found)
		return reply_error(rq, 404, "not_found", "No such import");
	return memcsv_reply(rq, m, arena_printf(rq->arena, "import-%s-errors.csv", id));
}

/* 200 the template: the header row and one example row (CSV), and in XLSX a second
 * sheet with each column's rules | 401 | 403 | 404 no such entity | 422 format | 500 */
int handle_import_template(struct request *rq)
{
	const struct import_entity *e = import_entity_find(request_param(rq, "entity"));
	if (!e)
		return reply_error(rq, 404, "not_found", "No such import entity (webhooks, blynk_devices)");
	const char *format = request_query(rq, "format");
	if (!format)
		format = "csv";
	if (strcmp(format, "csv") && strcmp(format, "xlsx"))
		return reply_invalid_field(rq, "format", "must be csv or xlsx");
	size_t n = import_entity_ncolumns(e);
	if (!strcmp(format, "csv")) {
		struct memcsv *m = memcsv_open(rq);
		if (!m)
			return reply_internal(rq);
		for (size_t i = 0; i < n; i++)
			csv_write_cell(m->f, i == 0, e->fields[i].name, strlen(e->fields[i].name), false);
		csv_write_row_end(m->f);
		for (size_t i = 0; i < n; i++)
			csv_write_cell(m->f, i == 0, e->examples[i], strlen(e->examples[i]), true);
		csv_write_row_end(m->f);
		return memcsv_reply(rq, m, arena_printf(rq->arena, "%s-template.csv", e->name));
	}
	/* libxlsxwriter writes files: a private temporary one, read back and removed. */
	char path[] = "/tmp/sb-template-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return reply_internal(rq);
	close(fd);
	const char **names = arena_alloc(rq->arena, n * sizeof(char *));
	for (size_t i = 0; i < n; i++)
		names[i] = e->fields[i].name;
	struct xlsx_out *x = xlsx_open(path, NULL, e->name, names, NULL, NULL, n);
	int rc = x ? 0 : -1;
	for (size_t i = 0; !rc && i < n; i++)
		rc = xlsx_cell(x, i, e->examples[i], strlen(e->examples[i]));
	if (!rc)
		rc = xlsx_row_end(x);
	const char *header[] = {"column", "type", "rules"};
	const char **cells = arena_alloc(rq->arena, 3 * n * sizeof(char *));
	static const char *const type_names[] = {"text", "whole number", "true/false", "object", "list"};
	for (size_t i = 0; i < n; i++) {
		cells[3 * i] = e->fields[i].name;
		cells[3 * i + 1] = type_names[e->fields[i].type];
		cells[3 * i + 2] = e->rules[i];
	}
	if (!rc)
		rc = xlsx_text_sheet(x, "Column rules", header, 3, cells, n);
	if (x && xlsx_close(x))
		rc = -1;
	FILE *f = rc ? NULL : fopen(path, "rb");
	char *buf = NULL;
	long size = 0;
	if (f && !fseek(f, 0, SEEK_END) && (size = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET)) {
		buf = arena_alloc(rq->arena, (size_t)size);
		if (fread(buf, 1, (size_t)size, f) != (size_t)size)
			buf = NULL;
	}
	if (f)
		fclose(f);
	unlink(path);
	if (!buf)
		return reply_internal(rq);
	reply_header(rq, "Content-Disposition",
		     arena_printf(rq->arena, "attachment; filename=\"%s-template.xlsx\"", e->name));
	return reply_raw(rq, 200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf,
			 (size_t)size);
}
