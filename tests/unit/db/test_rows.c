/* Unit tests of lib/db/rows.c on results built in memory (libpq's PQmakeEmptyPGresult and
 * PQsetvalue, no server): each column kind with values and SQL NULL, a whole result as an
 * array, JSON rows that do not parse, and the page envelope. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <string.h>

#include "db/rows.h"

/* A result of ncols text columns with nrows rows of cells (NULL: SQL NULL). */
static PGresult *result(int nrows, int ncols, const char *const *cells)
{
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc attrs[8];
	memset(attrs, 0, sizeof(attrs));
	for (int c = 0; c < ncols; c++)
		attrs[c].name = (char *)"c";
	assert_int_equal(PQsetResultAttrs(res, ncols, attrs), 1);
	for (int r = 0; r < nrows; r++)
		for (int c = 0; c < ncols; c++) {
			const char *v = cells[r * ncols + c];
			assert_int_equal(PQsetvalue(res, r, c, (char *)v, v ? (int)strlen(v) : -1), 1);
		}
	return res;
}

static const char *json_of(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static const struct row_field fields[] = {
	{"s", ROW_TEXT}, {"n", ROW_INT}, {"b", ROW_BOOL}, {"j", ROW_JSON}, {"o", ROW_JSON_OBJECT}, {NULL, ROW_TEXT},
};

static void test_object_kinds(void **state)
{
	(void)state;
	const char *cells[] = {"skip", "a\"b", "-42", "t", "[1,2]", "{\"k\":\"v\"}"};
	PGresult *res = result(1, 6, cells);
	struct json_object *o = rows_object(res, 0, 1, fields); /* column 0 is skipped by off */
	assert_string_equal(json_of(o), "{\"s\":\"a\\\"b\",\"n\":-42,\"b\":true,\"j\":[1,2],\"o\":{\"k\":\"v\"}}");
	json_object_put(o);
	PQclear(res);
}

static void test_object_nulls_and_bad_json(void **state)
{
	(void)state;
	const char *nulls[] = {NULL, NULL, NULL, NULL, NULL};
	PGresult *res = result(1, 5, nulls);
	struct json_object *o = rows_object(res, 0, 0, fields);
	assert_string_equal(json_of(o), "{\"s\":null,\"n\":null,\"b\":null,\"j\":null,\"o\":{}}");
	json_object_put(o);
	PQclear(res);

	const char *bad[] = {"", "0", "f", "{not json", "[unterminated"};
	res = result(1, 5, bad);
	o = rows_object(res, 0, 0, fields);
	assert_string_equal(json_of(o), "{\"s\":\"\",\"n\":0,\"b\":false,\"j\":null,\"o\":{}}");
	json_object_put(o);
	PQclear(res);
}

static void test_objects_and_json_array(void **state)
{
	(void)state;
	static const struct row_field two[] = {{"hour", ROW_TEXT}, {"requests", ROW_INT}, {NULL, ROW_TEXT}};
	const char *cells[] = {"10:00", "3", "11:00", "5"};
	PGresult *res = result(2, 2, cells);
	struct json_object *list = rows_objects(res, 0, two);
	assert_string_equal(json_of(list), "[{\"hour\":\"10:00\",\"requests\":3},{\"hour\":\"11:00\",\"requests\":5}]");
	json_object_put(list);
	PQclear(res);

	const char *rows[] = {"{\"id\":1}", "oops", "{\"id\":3}"};
	res = result(3, 1, rows);
	list = rows_json_array(res, 0);
	assert_string_equal(json_of(list), "[{\"id\":1},{\"id\":3}]"); /* the row that does not parse is left out */
	json_object_put(list);
	PQclear(res);

	res = result(0, 1, NULL);
	list = rows_json_array(res, 0);
	assert_string_equal(json_of(list), "[]");
	json_object_put(list);
	PQclear(res);
}

static void test_page_json(void **state)
{
	(void)state;
	struct rows_page page = {3, 20};
	struct json_object *d = rows_page_json(json_object_new_array(), page, 41);
	assert_string_equal(json_of(d), "{\"items\":[],\"page\":3,\"limit\":20,\"total\":41}");
	json_object_put(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_object_kinds),
		cmocka_unit_test(test_object_nulls_and_bad_json),
		cmocka_unit_test(test_objects_and_json_array),
		cmocka_unit_test(test_page_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
