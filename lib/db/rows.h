/* The shapes store modules share when they turn rows into answers: a list of JSON rows,
 * one row or none (the caller answers 404), a page of a list with its total, and a row
 * turned into a JSON object by a table of column names and kinds. HTTP-free: stores
 * return these and the handler picks the status. */
#ifndef SB_ROWS_H
#define SB_ROWS_H

#include "db/db.h"

struct arena;
struct json_object;

/* How one column becomes a JSON member. */
enum row_kind {
	ROW_TEXT,	 /* string; SQL NULL becomes JSON null */
	ROW_INT,	 /* 64-bit integer; SQL NULL becomes JSON null */
	ROW_BOOL,	 /* 't' is true; SQL NULL becomes JSON null */
	ROW_JSON,	 /* JSON text (json/jsonb::text); SQL NULL or unparsable: JSON null */
	ROW_JSON_OBJECT, /* as ROW_JSON, but SQL NULL or unparsable becomes {} */
	ROW_KIND__MAX
};

/* One member of a row's JSON object: the columns are read in the table's order. */
struct row_field {
	const char *name;
	enum row_kind kind;
};

/* Row r of res as a new JSON object: column off + i becomes member fields[i] (the table
 * ends with a NULL name). The caller owns the object. */
struct json_object *rows_object(const PGresult *res, int r, int off, const struct row_field *fields);

/* Every row of res through rows_object, as a new array the caller owns. */
struct json_object *rows_objects(const PGresult *res, int off, const struct row_field *fields);

/* Every row of res through view(res, r), as a new array the caller owns (for stores
 * whose row views are functions rather than field tables). */
struct json_object *rows_views(const PGresult *res, struct json_object *(*view)(const PGresult *res, int r));

/* Column col of every row parsed as JSON (queries that select json_build_object(...)::text),
 * as a new array; rows that do not parse are left out. */
struct json_object *rows_json_array(const PGresult *res, int col);

/* Runs sql (one JSON text column) and fills *out with the array of its rows (caller owns).
 * On failure *out is NULL. */
enum db_status rows_fetch_list(struct arena *a, struct json_object **out, const char *sql, int n,
			       const char *const *params);

/* Runs sql (one JSON text column, at most one row) and fills *out with the first row's
 * object, or NULL when there is none: the caller answers "not found". A row that does not
 * parse is DB_ERROR. */
enum db_status rows_fetch_one(struct arena *a, struct json_object **out, const char *sql, int n,
			      const char *const *params);

/* One page of a list: page counts from 1, limit rows per page. */
struct rows_page {
	long page;
	long limit;
};

/* Runs count_sql (one row, one count) with the n params, and rows_sql with the same params
 * plus $n+1 = limit and $n+2 = offset of page. Fills *rows (arena-owned) and *total. */
enum db_status rows_fetch_page(struct arena *a, struct rows_page page, const char *count_sql, const char *rows_sql,
			       int n, const char *const *params, PGresult **rows, long long *total);

/* {"items": items, "page", "limit", "total"}: the body of every paginated list. Takes
 * ownership of items. */
struct json_object *rows_page_json(struct json_object *items, struct rows_page page, long long total);

#endif
