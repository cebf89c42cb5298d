/* CSV import parser; see csv_read.h. */
#include "transfer/csv_read.h"

#include <csv.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"

struct row {
	char *buf; /* cells, each NUL-terminated, back to back */
	size_t used, cap;
	size_t off[CSV_READ_MAX_CELLS], lens[CSV_READ_MAX_CELLS];
	size_t n;
	size_t record;
	bool too_many, nomem, stopped;
	csv_row_fn fn;
	void *ctx;
};

static void on_cell(void *s, size_t len, void *data)
{
	struct row *r = data;
	if (r->stopped || r->nomem)
		return;
	if (r->n >= CSV_READ_MAX_CELLS) {
		r->too_many = true;
		return;
	}
	if (r->used + len + 1 > r->cap) {
		size_t cap = (r->used + len + 1) * 2;
		char *b = realloc(r->buf, cap);
		if (!b) {
			r->nomem = true;
			return;
		}
		r->buf = b;
		r->cap = cap;
	}
	if (len)
		memcpy(r->buf + r->used, s, len);
	r->buf[r->used + len] = '\0';
	r->off[r->n] = r->used;
	r->lens[r->n] = len;
	r->used += len + 1;
	r->n++;
}

static void on_row(int c, void *data)
{
	(void)c;
	struct row *r = data;
	if (r->stopped || r->nomem || r->too_many) {
		r->n = r->used = 0;
		return;
	}
	const char *cells[CSV_READ_MAX_CELLS];
	for (size_t i = 0; i < r->n; i++)
		cells[i] = r->buf + r->off[i];
	r->record++;
	if (r->fn(r->ctx, r->record, cells, r->lens, r->n))
		r->stopped = true;
	r->n = r->used = 0;
}

/* Keep every space: a name with a trailing blank is the user's to fix, not ours to trim. */
static int no_space(unsigned char c)
{
	(void)c;
	return 0;
}

enum csv_read_status csv_read(const char *data, size_t len, csv_row_fn fn, void *ctx, size_t *record)
{
	*record = 0;
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
		data += 3;
		len -= 3;
	}
	if (memchr(data, '\0', len) || utf8_length(data, len) < 0)
		return CSV_READ_NOT_UTF8;
	struct csv_parser p;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI))
		return CSV_READ_NOMEM;
	csv_set_space_func(&p, no_space);
	struct row r = {.fn = fn, .ctx = ctx};
	enum csv_read_status st = CSV_READ_OK;
	/* In pieces, so a stop or an error is noticed without parsing the rest. */
	size_t off = 0;
	while (off < len && st == CSV_READ_OK) {
		size_t n = len - off < 65536 ? len - off : 65536;
		if (csv_parse(&p, data + off, n, on_cell, on_row, &r) != n)
			st = csv_error(&p) == CSV_EPARSE ? CSV_READ_MALFORMED : CSV_READ_NOMEM;
		off += n;
		if (r.stopped)
			st = CSV_READ_STOPPED;
		else if (r.too_many)
			st = CSV_READ_TOO_MANY_CELLS;
		else if (r.nomem)
			st = CSV_READ_NOMEM;
	}
	if (st == CSV_READ_OK && csv_fini(&p, on_cell, on_row, &r))
		st = CSV_READ_MALFORMED;
	if (st == CSV_READ_OK)
		st = r.stopped	  ? CSV_READ_STOPPED
		     : r.too_many ? CSV_READ_TOO_MANY_CELLS
		     : r.nomem	  ? CSV_READ_NOMEM
				  : st;
	*record = r.record + (st == CSV_READ_MALFORMED || st == CSV_READ_TOO_MANY_CELLS ? 1 : 0);
	csv_free(&p);
	free(r.buf);
	return st;
}

const char *csv_read_message(enum csv_read_status s)
{
	switch (s) {
	case CSV_READ_OK:
		return "ok";
	case CSV_READ_NOT_UTF8:
		return "The file is not UTF-8 text; save it as CSV UTF-8 and upload it again";
	case CSV_READ_MALFORMED:
		return "The CSV is malformed (a quote is not closed or a field has a stray quote)";
	case CSV_READ_TOO_MANY_CELLS:
		return "A row has too many cells";
	case CSV_READ_STOPPED:
		return "stopped";
	default:
		return "The file could not be read";
	}
}
