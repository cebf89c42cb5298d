/* RFC 4180 CSV output (CRLF rows, quoted when needed, UTF-8 with an optional BOM for
 * Excel) with the OWASP guard against formula injection: a text cell starting with
 * '=', '+', '-', '@', tab or CR is prefixed with a single quote so no spreadsheet
 * runs it. Writes to a stdio stream; the caller owns and closes it. */
#ifndef SB_CSV_WRITE_H
#define SB_CSV_WRITE_H

#include <stdbool.h>
#include <stdio.h>

/* True when a cell with this text would be read as a formula by a spreadsheet. */
bool csv_cell_is_formula(const char *s, size_t n);

/* Writes the UTF-8 byte order mark. Returns 0 or -1 (write error). */
int csv_write_bom(FILE *f);
/* Writes one cell: a separator first unless first is true; quotes the text when it
 * holds a comma, quote, CR or LF (quotes doubled); guard applies the formula guard
 * (text cells; numbers are written as they are). Returns 0 or -1. */
int csv_write_cell(FILE *f, bool first, const char *s, size_t n, bool guard);
/* Ends a row (CRLF). Returns 0 or -1. */
int csv_write_row_end(FILE *f);

#endif
