/* XLSX writer; see xlsx_write.h. */
#include "transfer/xlsx_write.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

#define XLSX_MAX_ROWS 1048576
#define MAX_COLS      64
#define CELL_MAX      32767 /* Excel's limit on characters in a cell */

struct xlsx_out {
	lxw_workbook *wb;
	lxw_worksheet *ws;
	lxw_format *bold, *date;
	const char *sheet;
	const char *const *names;
	enum transfer_type types[MAX_COLS];
	unsigned widths[MAX_COLS];
	size_t ncols;
	lxw_row_t row; /* the row being written on ws */
	unsigned sheets;
	char buf[CELL_MAX + 1];
	bool failed;
};

static int sheet_start(struct xlsx_out *x)
{
	char name[32];
	x->sheets++;
	if (x->sheets == 1)
		snprintf(name, sizeof(name), "%.31s", x->sheet);
	else
		snprintf(name, sizeof(name), "%.24s (%u)", x->sheet, x->sheets);
	x->ws = workbook_add_worksheet(x->wb, name);
	if (!x->ws)
		return -1;
	for (size_t c = 0; c < x->ncols; c++) {
		if (worksheet_set_column(x->ws, (lxw_col_t)c, (lxw_col_t)c, x->widths[c], NULL))
			return -1;
		if (worksheet_write_string(x->ws, 0, (lxw_col_t)c, x->names[c], x->bold))
			return -1;
	}
	worksheet_freeze_panes(x->ws, 1, 0);
	worksheet_autofilter(x->ws, 0, 0, XLSX_MAX_ROWS - 1, (lxw_col_t)(x->ncols ? x->ncols - 1 : 0));
	x->row = 1;
	return 0;
}

struct xlsx_out *xlsx_open(const char *path, const char *tmpdir, const char *sheet, const char *const *names,
			   const enum transfer_type *types, const unsigned *widths, size_t ncols)
{
	if (ncols == 0 || ncols > MAX_COLS)
		return NULL;
	struct xlsx_out *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = (char *)tmpdir, .use_zip64 = LXW_TRUE};
	x->wb = workbook_new_opt(path, &opt);
	if (!x->wb) {
		free(x);
		return NULL;
	}
	x->sheet = sheet;
	x->names = names;
	x->ncols = ncols;
	for (size_t c = 0; c < ncols; c++) {
		x->types[c] = types ? types[c] : TT_TEXT;
		x->widths[c] = widths ? widths[c] : 20;
	}
	x->bold = workbook_add_format(x->wb);
	format_set_bold(x->bold);
	format_set_bg_color(x->bold, 0xDDEBF7);
	format_set_bottom(x->bold, LXW_BORDER_THIN);
	x->date = workbook_add_format(x->wb);
	format_set_num_format(x->date, "yyyy-mm-dd hh:mm:ss");
	if (sheet_start(x)) {
		workbook_close(x->wb);
		free(x);
		return NULL;
	}
	return x;
}

int xlsx_parse_time(const char *s, size_t n, int *y, int *mo, int *d, int *h, int *mi, double *sec)
{
	/* 2026-12-02T07:05:57Z: fixed positions, then optional fraction, then Z. */
	if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' ||
	    s[n - 1] != 'Z')
		return -1;
	static const int digits[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
	for (size_t i = 0; i < sizeof(digits) / sizeof(digits[0]); i++)
		if (!isdigit((unsigned char)s[digits[i]]))
			return -1;
	*y = atoi(s);
	*mo = atoi(s + 5);
	*d = atoi(s + 8);
	*h = atoi(s + 11);
	*mi = atoi(s + 14);
	*sec = atoi(s + 17);
	if (n > 20) {
		if (s[19] != '.')
			return -1;
		double f = 0, scale = 0.1;
		for (size_t i = 20; i < n - 1; i++, scale /= 10) {
			if (!isdigit((unsigned char)s[i]))
				return -1;
			f += (s[i] - '0') * scale;
		}
		*sec += f;
	}
	return *mo >= 1 && *mo <= 12 && *d >= 1 && *d <= 31 && *h < 24 && *mi < 60 && *sec < 61 ? 0 : -1;
}

int xlsx_cell(struct xlsx_out *x, size_t col, const char *value, size_t len)
{
	if (x->failed || col >= x->ncols)
		return -1;
	if (!value)
		return 0;
	if (len > CELL_MAX) { /* Excel refuses longer cells; cut at a character boundary */
		len = CELL_MAX;
		while (len > 0 && ((unsigned char)value[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(x->buf, value, len);
	x->buf[len] = '\0';
	lxw_col_t c = (lxw_col_t)col;
	lxw_error e = LXW_NO_ERROR;
	char *end;
	switch (x->types[col]) {
	case TT_INT:
	case TT_NUMBER: {
		double v = strtod(x->buf, &end);
		if (len && *end == '\0') {
			e = worksheet_write_number(x->ws, x->row, c, v, NULL);
			goto done;
		}
		break;
	}
	case TT_BOOL:
		if (!strcmp(x->buf, "t") || !strcmp(x->buf, "true") || !strcmp(x->buf, "f") ||
		    !strcmp(x->buf, "false")) {
			e = worksheet_write_boolean(x->ws, x->row, c, x->buf[0] == 't', NULL);
			goto done;
		}
		break;
	case TT_TIME: {
		int y, mo, d, h, mi;
		double sec;
		if (!xlsx_parse_time(x->buf, len, &y, &mo, &d, &h, &mi, &sec)) {
			lxw_datetime dt = {y, mo, d, h, mi, sec};
			e = worksheet_write_datetime(x->ws, x->row, c, &dt, x->date);
			goto done;
		}
		break;
	}
	default:
		break;
	}
	/* Text. The XLSX string cell is never evaluated, so no formula guard is needed. */
	e = worksheet_write_string(x->ws, x->row, c, x->buf, NULL);
done:
	if (e != LXW_NO_ERROR)
		x->failed = true;
	return x->failed ? -1 : 0;
}

int xlsx_row_end(struct xlsx_out *x)
{
	if (x->failed)
		return -1;
	if (++x->row >= XLSX_MAX_ROWS && sheet_start(x))
		x->failed = true;
	return x->failed ? -1 : 0;
}

int xlsx_text_sheet(struct xlsx_out *x, const char *name, const char *const *header, size_t ncols,
		    const char *const *cells, size_t nrows)
{
	lxw_worksheet *ws = workbook_add_worksheet(x->wb, name);
	if (!ws)
		return -1;
	for (size_t c = 0; c < ncols; c++) {
		worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, c + 1 == ncols ? 80 : 20, NULL);
		if (worksheet_write_string(ws, 0, (lxw_col_t)c, header[c], x->bold))
			return -1;
	}
	for (size_t r = 0; r < nrows; r++)
		for (size_t c = 0; c < ncols; c++)
			if (worksheet_write_string(ws, (lxw_row_t)(r + 1), (lxw_col_t)c, cells[r * ncols + c], NULL))
				return -1;
	worksheet_freeze_panes(ws, 1, 0);
	return 0;
}

int xlsx_close(struct xlsx_out *x)
{
	if (!x)
		return -1;
	lxw_error e = workbook_close(x->wb);
	int rc = (x->failed || e != LXW_NO_ERROR) ? -1 : 0;
	free(x);
	return rc;
}
