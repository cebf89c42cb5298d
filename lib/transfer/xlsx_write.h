/* Formatted XLSX output over libxlsxwriter in constant-memory mode (each row goes to
 * a temporary file as it is written, so a million rows cost no more memory than ten):
 * a bold, frozen header row with an autofilter, column widths, and typed cells
 * (numbers, booleans, RFC 3339 times as real Excel dates in UTC). A sheet that fills
 * up (1,048,576 rows) continues on the next one under the same header. */
#ifndef SB_XLSX_WRITE_H
#define SB_XLSX_WRITE_H

#include <stddef.h>

#include "transfer/entity.h"

struct xlsx_out;

/* Opens path for writing with the given header; tmpdir holds libxlsxwriter's temporary
 * files. Returns NULL on failure. */
struct xlsx_out *xlsx_open(const char *path, const char *tmpdir, const char *sheet, const char *const *names,
			   const enum transfer_type *types, const unsigned *widths, size_t ncols);
/* Writes cell col of the current row: NULL is an empty cell; text that does not parse as
 * its type is written as text. Returns 0 or -1. */
int xlsx_cell(struct xlsx_out *x, size_t col, const char *value, size_t len);
/* Ends the current row. Returns 0 or -1. */
int xlsx_row_end(struct xlsx_out *x);
/* A second sheet: rows of text cells (the template's column rules). Returns 0 or -1. */
int xlsx_text_sheet(struct xlsx_out *x, const char *name, const char *const *header, size_t ncols,
		    const char *const *cells, size_t nrows);
/* Writes the workbook and frees x. Returns 0, or -1 when the file could not be written. */
int xlsx_close(struct xlsx_out *x);

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac]Z" into its fields. Returns 0 or -1. */
int xlsx_parse_time(const char *s, size_t n, int *y, int *mo, int *d, int *h, int *mi, double *sec);

#endif
