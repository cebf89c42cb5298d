/* CSV writer; see csv_write.h. */
#include "transfer/csv_write.h"

#include <string.h>

bool csv_cell_is_formula(const char *s, size_t n)
{
	return n > 0 && strchr("=+-@\t\r", s[0]) && s[0] != '\0';
}

int csv_write_bom(FILE *f)
{
	return fwrite("\xEF\xBB\xBF", 1, 3, f) == 3 ? 0 : -1;
}

int csv_write_cell(FILE *f, bool first, const char *s, size_t n, bool guard)
{
	if (!first && putc_unlocked(',', f) == EOF)
		return -1;
	bool formula = guard && csv_cell_is_formula(s, n);
	bool quote = formula && (s[0] == '\t' || s[0] == '\r');
	for (size_t i = 0; i < n && !quote; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			quote = true;
	if (!quote && !formula)
		return n == 0 || fwrite(s, 1, n, f) == n ? 0 : -1;
	if (quote && putc_unlocked('"', f) == EOF)
		return -1;
	if (formula && putc_unlocked('\'', f) == EOF)
		return -1;
	const char *p = s, *end = s + n;
	while (p < end) {
		const char *q = memchr(p, '"', (size_t)(end - p));
		size_t run = q ? (size_t)(q - p) + 1 : (size_t)(end - p);
		if (fwrite(p, 1, run, f) != run)
			return -1;
		if (q && putc_unlocked('"', f) == EOF) /* the quote just written, doubled */
			return -1;
		p += run;
	}
	if (quote && putc_unlocked('"', f) == EOF)
		return -1;
	return 0;
}

int csv_write_row_end(FILE *f)
{
	return fwrite("\r\n", 1, 2, f) == 2 ? 0 : -1;
}
