/* One page of a list for the webhook stores: a count and the page's rows with the same
 * parameters. (To be replaced by the shared pagination helper of lib/db when it lands.) */
#ifndef SB_STORE_PAGE_H
#define SB_STORE_PAGE_H

#include "db/db.h"

struct arena;

/* Runs count_sql (one row, one count) with the n params, and rows_sql with the same
 * params plus $n+1 = limit and $n+2 = the offset of page (from 1). Fills *rows (owned by
 * the arena) and *total. */
enum db_status store_page_fetch(struct arena *a, long page, long limit, const char *count_sql, const char *rows_sql,
				int n, const char *const *params, PGresult **rows, long long *total);

#endif
