/* libFuzzer target: the CSV import parser (lib/transfer/csv_read.c) on arbitrary bytes.
 * Every cell handed out must be NUL-terminated at its length, record numbers must
 * count up from 1, and no status may be out of range. Build with the fuzz rule
 * (clang -fsanitize=fuzzer,address,undefined ... libswitchboard.a -lcsv). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "transfer/csv_read.h"

struct seen {
	size_t last;
};

static int on_row(void *ctx, size_t record, const char *const *cells, const size_t *lens, size_t n)
{
	struct seen *s = ctx;
	if (record != s->last + 1 || n == 0 || n > CSV_READ_MAX_CELLS)
		abort();
	s->last = record;
	for (size_t i = 0; i < n; i++)
		if (cells[i][lens[i]] != '\0')
			abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = {0};
	size_t record;
	enum csv_read_status st = csv_read((const char *)data, size, on_row, &s, &record);
	if (st >= CSV_READ_STATUS__MAX)
		abort();
	if (st == CSV_READ_OK && record != s.last)
		abort();
	return 0;
}
