/* Rows to JSON, lists, one-or-none and pages; see rows.h. */
#include "db/rows.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/arena.h"

static struct json_object *column_json(const PGresult *res, int r, int c, enum row_kind kind)
{
	if (PQgetisnull(res, r, c))
		return kind == ROW_JSON_OBJECT ? json_object_new_object() : NULL;
	const char *v = PQgetvalue(res, r, c);
	switch (kind) {
	case ROW_INT:
		return json_object_new_int64(strtoll(v, NULL, 10));
	case ROW_BOOL:
		return json_object_new_boolean(v[0] == 't');
	case ROW_JSON:
	case ROW_JSON_OBJECT: {
		struct json_object *o = json_tokener_parse(v);
		if (!o && kind == ROW_JSON_OBJECT)
			o = json_object_new_object();
		return o;
	}
	default:
		return json_object_new_string(v);
	}
}

struct json_object *rows_object(const PGresult *res, int r, int off, const struct row_field *fields)
{
	struct json_object *o = json_object_new_object();
	for (int i = 0; fields[i].name; i++)
		json_object_object_add(o, fields[i].name, column_json(res, r, off + i, fields[i].kind));
	return o;
}

struct json_object *rows_objects(const PGresult *res, int off, const struct row_field *fields)
{
	struct json_object *list = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(list, rows_object(res, i, off, fields));
	return list;
}

struct json_object *rows_views(const PGresult *res, struct json_object *(*view)(const PGresult *res, int r))
{
	struct json_object *list = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(list, view(res, i));
	return list;
}

struct json_object *rows_json_array(const PGresult *res, int col)
{
	struct json_object *list = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *o = json_tokener_parse(PQgetvalue(res, i, col));
		if (o)
			json_object_array_add(list, o);
	}
	return list;
}

enum db_status rows_fetch_list(struct arena *a, struct json_object **out, const char *sql, int n,
			       const char *const *params)
{
	PGresult *res;
	*out = NULL;
	enum db_status s = db_exec(a, &res, sql, n, params);
	if (s == DB_OK)
		*out = rows_json_array(res, 0);
	return s;
}

enum db_status rows_fetch_one(struct arena *a, struct json_object **out, const char *sql, int n,
			      const char *const *params)
{
	PGresult *res;
	*out = NULL;
	enum db_status s = db_exec(a, &res, sql, n, params);
	if (s != DB_OK || PQntuples(res) < 1)
		return s;
	*out = json_tokener_parse(PQgetvalue(res, 0, 0));
	return *out ? DB_OK : DB_ERROR;
}

/* Room for the caller's parameters plus limit and offset. */
#define ROWS_MAX_PARAMS 16

enum db_status rows_fetch_page(struct arena *a, struct rows_page page, const char *count_sql, const char *rows_sql,
			       int n, const char *const *params, PGresult **rows, long long *total)
{
	*rows = NULL;
	*total = 0;
	if (n < 0 || n > ROWS_MAX_PARAMS - 2)
		return DB_ERROR;
	const char *p[ROWS_MAX_PARAMS];
	for (int i = 0; i < n; i++)
		p[i] = params[i];
	p[n] = arena_printf(a, "%ld", page.limit);
	p[n + 1] = arena_printf(a, "%ld", (page.page - 1) * page.limit);
	PGresult *count;
	enum db_status s = db_exec(a, &count, count_sql, n, p);
	if (s == DB_OK)
		s = db_exec(a, rows, rows_sql, n + 2, p);
	if (s != DB_OK) {
		*rows = NULL;
		return s;
	}
	*total = PQntuples(count) == 1 ? strtoll(PQgetvalue(count, 0, 0), NULL, 10) : 0;
	return DB_OK;
}

struct json_object *rows_page_json(struct json_object *items, struct rows_page page, long long total)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "items", items);
	json_object_object_add(d, "page", json_object_new_int64(page.page));
	json_object_object_add(d, "limit", json_object_new_int64(page.limit));
	json_object_object_add(d, "total", json_object_new_int64(total));
	return d;
}
