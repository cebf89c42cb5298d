/* CSV import parsing over libcsv (RFC 4180: quoted fields, doubled quotes, embedded
 * newlines), strict: a stray quote or an unclosed quoted field is an error, not a
 * guess. The input must be UTF-8 (a BOM is skipped); that is checked before any row is
 * handed out, so a file in another encoding is refused whole. Cells are kept exactly,
 * spaces included. */
#ifndef SB_CSV_READ_H
#define SB_CSV_READ_H

#include <stddef.h>

#define CSV_READ_MAX_CELLS 256

enum csv_read_status {
	CSV_READ_OK,
	CSV_READ_NOT_UTF8,	 /* invalid UTF-8 or a NUL byte: another encoding */
	CSV_READ_MALFORMED,	 /* quoting error (libcsv strict mode) */
	CSV_READ_TOO_MANY_CELLS, /* a row with more than CSV_READ_MAX_CELLS cells */
	CSV_READ_STOPPED,	 /* the row callback asked to stop */
	CSV_READ_NOMEM,
	CSV_READ_STATUS__MAX
};

/* Called per record with its 1-based number (the header is record 1) and its cells
 * (NUL-terminated, valid until the callback returns). Non-zero stops the parse. */
typedef int (*csv_row_fn)(void *ctx, size_t record, const char *const *cells, const size_t *lens, size_t n);

/* Parses data[0..len). *record receives the number of the record being read when an
 * error happened (or the count read). */
enum csv_read_status csv_read(const char *data, size_t len, csv_row_fn fn, void *ctx, size_t *record);

/* A sentence for the user about a status. */
const char *csv_read_message(enum csv_read_status s);

#endif
