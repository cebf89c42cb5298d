/* The export runner; see export_run.h. */
#include "transfer/export_run.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "transfer/csv_write.h"
#include "transfer/export_deliver.h"
#include "transfer/entity.h"
#include "transfer/xlsx_write.h"

#define MAX_COLS       64
#define PROGRESS_EVERY 20000

size_t export_copy_unescape(char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 >= n) {
			s[o++] = s[i];
			continue;
		}
		char c = s[++i];
		switch (c) {
		case 'b':
			s[o++] = '\b';
			break;
		case 'f':
			s[o++] = '\f';
			break;
		case 'n':
			s[o++] = '\n';
			break;
		case 'r':
			s[o++] = '\r';
			break;
		case 't':
			s[o++] = '\t';
			break;
		case 'v':
			s[o++] = '\v';
			break;
		default:
			if (c >= '0' && c <= '7') { /* \ooo: COPY never writes it, but it may read it */
				int v = c - '0';
				for (int k = 0; k < 2 && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '7'; k++)
					v = v * 8 + (s[++i] - '0');
				s[o++] = (char)v;
			} else {
				s[o++] = c;
			}
		}
	}
	return o;
}

/* The SELECT of the job: constant SQL of the entity only; every value a user chose is
 * a session setting, read with current_setting() (set with parameters). */
static char *copy_sql(struct arena *a, const struct export_entity *e, const int *cols, size_t ncols)
{
	char *list = "";
	for (size_t i = 0; i < ncols; i++)
		list = arena_printf(a, "%s%s%s", list, i ? ", " : "", e->columns[cols[i]].sql);
	char *where =
		arena_printf(a,
			     /* nullif: a cast of '' would fail even on the branch not taken */
			     " AND (current_setting('sb.f_from') = '' OR %s >= nullif(current_setting('sb.f_from'), "
			     "'')::timestamptz) AND (current_setting('sb.f_to') = '' OR %s < "
			     "nullif(current_setting('sb.f_to'), '')::timestamptz)",
			     e->time_sql, e->time_sql);
	if (e->provider_sql)
		where = arena_printf(a,
				     "%s AND (current_setting('sb.f_provider') = '' OR %s = "
				     "current_setting('sb.f_provider'))",
				     where, e->provider_sql);
	if (e->webhook_sql)
		where = arena_printf(a,
				     "%s AND (current_setting('sb.f_webhook') = '' OR %s = "
				     "current_setting('sb.f_webhook'))",
				     where, e->webhook_sql);
	if (e->status_sql)
		where = arena_printf(a,
				     "%s AND (current_setting('sb.f_status') = '' OR %s = "
				     "current_setting('sb.f_status'))",
				     where, e->status_sql);
	return arena_printf(a, "COPY (SELECT %s %s%s ORDER BY %s) TO STDOUT", list, e->from, where, e->order_sql);
}

static int exec_ok(PGconn *c, const char *sql, int n, const char *const *p)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		log_msg(LOG_WARN, "export: %s", PQerrorMessage(c));
	PQclear(r);
	return ok ? 0 : -1;
}

/* nginx's workers (SB_TRANSFER_GROUP, www-data) serve the file: readable by that group only. */
static void file_permissions(int fd)
{
	struct group *g = getgrnam(config_str("SB_TRANSFER_GROUP", "www-data"));
	if (g && fchown(fd, (uid_t)-1, g->gr_gid) == 0)
		fchmod(fd, 0640);
	else
		fchmod(fd, 0644);
}

struct sink {
	FILE *csv;
	struct xlsx_out *xlsx;
	enum transfer_type types[MAX_COLS];
	size_t ncols;
};

static int sink_row(struct sink *k, char *line, size_t len)
{
	size_t col = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != '\t')
			continue;
		char *f = line + start;
		size_t n = i - start;
		bool null = n == 2 && f[0] == '\\' && f[1] == 'N';
		if (!null)
			n = export_copy_unescape(f, n);
		if (col >= k->ncols)
			return -1;
		int rc;
		if (col >= MAX_COLS)
			return -1;
		if (k->csv && k->types[col] == TT_BOOL && !null && n == 1) { /* COPY writes t/f */
			f = f[0] == 't' ? "true" : "false";
			n = strlen(f);
		}
		if (k->csv)
			rc = csv_write_cell(k->csv, col == 0, null ? "" : f, null ? 0 : n,
					    k->types[col] == TT_TEXT || k->types[col] == TT_TIME);
		else
			rc = xlsx_cell(k->xlsx, col, null ? NULL : f, n);
		if (rc)
			return -1;
		col++;
		start = i + 1;
	}
	if (col != k->ncols)
		return -1;
	return k->csv ? csv_write_row_end(k->csv) : xlsx_row_end(k->xlsx);
}

static const char *job_filter(struct json_object *filters, const char *name)
{
	const char *v = jsonx_get_string(filters, name);
	return v ? v : "";
}

/* The columns the job asked for (indexes into e->columns), or all of them. */
static size_t job_columns(struct arena *a, const struct export_entity *e, const struct export_job *job, int *cols)
{
	size_t ncols = 0;
	struct json_object *want = job->columns_json ? json_tokener_parse(job->columns_json) : NULL;
	arena_defer(a, jsonx_put, want);
	if (want && json_object_is_type(want, json_type_array) && json_object_array_length(want) > 0) {
		for (size_t i = 0; i < json_object_array_length(want) && ncols < MAX_COLS; i++) {
			int c = export_column_index(e, json_object_get_string(json_object_array_get_idx(want, i)));
			if (c >= 0)
				cols[ncols++] = c;
		}
	} else {
		for (size_t i = 0; i < e->ncolumns && i < MAX_COLS; i++)
			cols[ncols++] = (int)i;
	}
	return ncols;
}

/* Creates the file at tmp_path in the job's format with its header (CSV) or
 * sheet (XLSX) written. Returns 0, or -1 with nothing open. */
static int sink_open(struct arena *a, struct sink *k, const struct export_entity *e, const struct export_job *job,
		     const int *cols, const char *dir, const char *tmp_path)
{
	const char *names[MAX_COLS];
	unsigned widths[MAX_COLS];
	for (size_t i = 0; i < k->ncols; i++) {
		k->types[i] = e->columns[cols[i]].type;
		names[i] = e->columns[cols[i]].name;
		widths[i] = e->columns[cols[i]].width;
	}
	if (strcmp(job->format, "csv")) {
		const char *tmpdir = arena_printf(a, "%s/tmp", dir);
		mkdir(tmpdir, 0700);
		k->xlsx = xlsx_open(tmp_path, tmpdir, e->name, names, k->types, widths, k->ncols);
		return k->xlsx ? 0 : -1;
	}
	int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	k->csv = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!k->csv) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setvbuf(k->csv, NULL, _IOFBF, 1 << 16);
	int rc = job->bom ? csv_write_bom(k->csv) : 0;
	for (size_t i = 0; i < k->ncols && !rc; i++)
		rc = csv_write_cell(k->csv, i == 0, names[i], strlen(names[i]), true);
	if (rc || csv_write_row_end(k->csv)) {
		fclose(k->csv);
		k->csv = NULL;
		return -1;
	}
	return 0;
}

/* Flushes, syncs and closes the file, with the permissions nginx needs. */
static int sink_close(struct sink *k, const char *tmp_path)
{
	int wrc;
	if (k->csv) {
		wrc = fflush(k->csv) || fsync(fileno(k->csv)) ? -1 : 0;
		if (!wrc)
			file_permissions(fileno(k->csv));
		if (fclose(k->csv))
			wrc = -1;
		return wrc;
	}
	wrc = xlsx_close(k->xlsx);
	int f2 = open(tmp_path, O_RDONLY | O_CLOEXEC);
	if (f2 >= 0) {
		if (!wrc && fsync(f2))
			wrc = -1;
		file_permissions(f2);
		close(f2);
	}
	return wrc;
}

/* How far the rows got: counted, and why they stopped when they did. */
struct copy_state {
	long long rows;
	bool lost;	      /* the lease went to another worker */
	const char *fail_msg; /* what the job says when it fails */
};

/* Opens the read-only snapshot on a connection of our own, with the job's
 * owner and filters as settings the COPY's query reads, and starts the COPY. */
static int copy_begin(struct arena *a, PGconn *c, const struct export_job *job, const struct export_entity *e,
		      const int *cols, size_t ncols)
{
	struct json_object *filters = json_tokener_parse(job->filters_json ? job->filters_json : "{}");
	arena_defer(a, jsonx_put, filters);
	const char *sets[] = {job->user_id,
			      job_filter(filters, "from"),
			      job_filter(filters, "to"),
			      job_filter(filters, "provider"),
			      job_filter(filters, "webhook_id"),
			      job_filter(filters, "status")};
	int rc = PQstatus(c) == CONNECTION_OK ? 0 : -1;
	if (!rc)
		rc = exec_ok(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL);
	if (!rc)
		rc = exec_ok(c,
			     "SELECT set_config('sb.export_user', $1, true), set_config('sb.f_from', $2, true), "
			     "set_config('sb.f_to', $3, true), set_config('sb.f_provider', $4, true), "
			     "set_config('sb.f_webhook', $5, true), set_config('sb.f_status', $6, true)",
			     6, sets);
	if (!rc) {
		PGresult *r = PQexec(c, copy_sql(a, e, cols, ncols));
		rc = PQresultStatus(r) == PGRES_COPY_OUT ? 0 : -1;
		if (rc)
			log_msg(LOG_WARN, "export %s: COPY refused: %s", job->id, PQerrorMessage(c));
		PQclear(r);
	}
	return rc;
}

/* Streams the COPY into the sink, reporting progress (and keeping the lease)
 * every PROGRESS_EVERY rows. */
static int copy_rows(PGconn *c, struct sink *k, const struct export_job *job, const char *owner, long lease_seconds,
		     struct copy_state *cs)
{
	int rc = 0;
	for (;;) {
		char *line = NULL;
		int n = PQgetCopyData(c, &line, 0);
		if (n == -1)
			break; /* done */
		if (n < 0)
			return -1;
		size_t len = (size_t)n;
		if (len && line[len - 1] == '\n')
			len--;
		rc = sink_row(k, line, len);
		PQfreemem(line);
		if (rc)
			return -1;
		if (++cs->rows % PROGRESS_EVERY == 0) {
			struct arena *pa = arena_new();
			if (export_job_progress(pa, job->id, owner, cs->rows, lease_seconds, &cs->lost) != DB_OK ||
			    cs->lost)
				rc = -1;
			arena_free(pa);
			if (rc)
				return -1;
		}
	}
	PGresult *r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		log_msg(LOG_WARN, "export %s: COPY failed: %s", job->id, PQerrorMessage(c));
		rc = -1;
		cs->fail_msg = "reading the rows failed";
	}
	PQclear(r);
	while ((r = PQgetResult(c)))
		PQclear(r);
	return rc;
}

/* The rows of the job into the sink: one read-only snapshot. */
static int write_rows(struct arena *a, struct sink *k, const struct export_job *job, const struct export_entity *e,
		      const int *cols, const char *owner, long lease_seconds, struct copy_state *cs)
{
	PGconn *c = PQconnectdb(config_str("DATABASE_URL", "postgresql:///switchboard"));
	int rc = copy_begin(a, c, job, e, cols, k->ncols);
	if (!rc)
		rc = copy_rows(c, k, job, owner, lease_seconds, cs);
	else if (PQstatus(c) != CONNECTION_OK)
		cs->fail_msg = "the database could not be reached";
	if (rc && !cs->lost && PQstatus(c) != CONNECTION_OK)
		cs->fail_msg = "the database could not be reached";
	PQfinish(c);
	return rc;
}

/* The finished file: delivered to the job's destination if it has one, then
 * published. Returns 0, or -1 when the job failed or is no longer ours. */
static int publish(struct arena *a, const struct export_job *job, const char *owner, const char *final_name,
		   const char *final_path, const struct stat *st, long long rows)
{
	/* Delivered before it is published: a failed upload fails the job and leaves no file. */
	const char *key = NULL, *why = NULL;
	if (job->destination_json && export_deliver(a, job, final_path, &key, &why)) {
		unlink(final_path);
		export_job_fail(a, job, owner, why);
		return -1;
	}
	/* nginx's own ETag of a static file: hex mtime and size. */
	const char *etag = arena_printf(a, "\"%lx-%llx\"", (long)st->st_mtime, (long long)st->st_size);
	bool lost = false;
	if (export_job_complete(a, job, owner, final_name, (long long)st->st_size, etag, rows, key, &lost) != DB_OK ||
	    lost) {
		/* Not ours any more (or not recorded): the new owner writes its own file. */
		if (lost)
			log_msg(LOG_WARN, "export %s: lease lost before publishing", job->id);
		return -1;
	}
	return 0;
}

int export_run(struct arena *a, const struct export_job *job, const char *owner, long lease_seconds,
	       struct export_result *out)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(out, 0, sizeof(*out));
	const struct export_entity *e = export_entity_find(job->entity);
	if (!e) {
		export_job_fail(a, job, owner, "unknown entity");
		return -1;
	}
	int cols[MAX_COLS];
	struct sink k = {.ncols = job_columns(a, e, job, cols)};
	const char *dir = transfer_dir();
	mkdir(dir, 0750);
	const char *final_name = arena_printf(a, "%s.%s", job->id, job->format);
	const char *final_path = arena_printf(a, "%s/%s", dir, final_name);
	const char *tmp_path = arena_printf(a, "%s/.%s.%d.%d.tmp", dir, job->id, (int)getpid(), job->attempts);
	struct copy_state cs = {.fail_msg = "the export file could not be written"};
	if (sink_open(a, &k, e, job, cols, dir, tmp_path)) {
		log_msg(LOG_ERROR, "export %s: cannot create %s: %s", job->id, tmp_path, strerror(errno));
		export_job_fail(a, job, owner, cs.fail_msg);
		return -1;
	}
	int rc = write_rows(a, &k, job, e, cols, owner, lease_seconds, &cs);
	int wrc = sink_close(&k, tmp_path);
	struct stat st;
	/* nginx serves the file (X-Accel-Redirect) as its own user: readable by the file's
	 * group, which on an installed host is nginx's (the directory is setgid www-data);
	 * never by anyone else. */
	if (!rc && !wrc && chmod(tmp_path, 0640))
		wrc = -1;
	if (rc || wrc || stat(tmp_path, &st)) {
		unlink(tmp_path);
		if (!cs.lost)
			export_job_fail(a, job, owner, cs.fail_msg);
		return -1;
	}
	/* Renamed into place, then published: the name the download serves is complete. */
	if (rename(tmp_path, final_path)) {
		unlink(tmp_path);
		export_job_fail(a, job, owner, cs.fail_msg);
		return -1;
	}
	if (publish(a, job, owner, final_name, final_path, &st, cs.rows))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	out->rows = cs.rows;
	out->bytes = (long long)st.st_size;
	out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	out->peak_rss_kib = ru.ru_maxrss;
	return 0;
}
