/* Pages of lists; see store_page.h. */
#include "webhooks/store_page.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/arena.h"

#define MAX_PAGE_PARAMS 8

enum db_status store_page_fetch(struct arena *a, long page, long limit, const char *count_sql, const char *rows_sql,
				int n, const char *const *params, PGresult **rows, long long *total)
{
	*total = 0;
	if (n < 0 || n > MAX_PAGE_PARAMS)
		return DB_ERROR;
	char lim[24], off[24];
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", (page - 1) * limit);
	const char *p[MAX_PAGE_PARAMS + 2];
	for (int i = 0; i < n; i++)
		p[i] = params[i];
	p[n] = lim;
	p[n + 1] = off;
	PGresult *count;
	enum db_status s = db_exec(a, &count, count_sql, n, p);
	if (s == DB_OK)
		s = db_exec(a, rows, rows_sql, n + 2, p);
	if (s == DB_OK)
		*total = atoll(PQgetvalue(count, 0, 0));
	return s;
}
