/* Unit tests of lib/transfer: the CSV writer's quoting and formula guard, the CSV
 * parser (quotes, embedded newlines, BOM, strict errors, encoding), COPY text
 * unescaping, RFC 3339 parsing for XLSX dates, cron schedules and cell conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "transfer/csv_read.h"
#include "transfer/csv_write.h"
#include "transfer/entity.h"
#include "transfer/export_run.h"
#include "transfer/schedule.h"
#include "transfer/xlsx_write.h"

static char *cell(const char *s, bool guard)
{
	static char buf[256];
	memset(buf, 0, sizeof(buf));
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	csv_write_cell(f, true, s, strlen(s), guard);
	fclose(f);
	return buf;
}

static void test_csv_write_quoting_and_guard(void **state)
{
	(void)state;
	assert_string_equal(cell("plain", true), "plain");
	assert_string_equal(cell("a,b", true), "\"a,b\"");
	assert_string_equal(cell("say \"hi\"", true), "\"say \"\"hi\"\"\"");
	assert_string_equal(cell("two\nlines", true), "\"two\nlines\"");
	assert_string_equal(cell("=1+2", true), "'=1+2");
	assert_string_equal(cell("+1", true), "'+1");
	assert_string_equal(cell("-1", true), "'-1");
	assert_string_equal(cell("@SUM(A1)", true), "'@SUM(A1)");
	assert_string_equal(cell("\tx", true), "\"'\tx\"");
	assert_string_equal(cell("\rx", true), "\"'\rx\"");
	assert_string_equal(cell("=a,\"b\"", true), "\"'=a,\"\"b\"\"\"");
	assert_string_equal(cell("-1", false), "-1"); /* numbers are written as they are */
	assert_false(csv_cell_is_formula("", 0));
}

struct got {
	int rows;
	char cells[8][8][64];
	size_t n[8];
};

static int collect(void *ctx, size_t record, const char *const *cells, const size_t *lens, size_t n)
{
	struct got *g = ctx;
	(void)lens;
	if (record > 8)
		return 1;
	g->n[record - 1] = n;
	for (size_t i = 0; i < n && i < 8; i++)
		snprintf(g->cells[record - 1][i], 64, "%s", cells[i]);
	g->rows = (int)record;
	return 0;
}

static void test_csv_read_rfc4180(void **state)
{
	(void)state;
	struct got g = {0};
	size_t rec;
	const char *in = "\xEF\xBB\xBFname,url\r\n\"a, \"\"b\"\"\",\"line1\nline2\"\r\n c ,\r\n";
	assert_int_equal(csv_read(in, strlen(in), collect, &g, &rec), CSV_READ_OK);
	assert_int_equal(g.rows, 3);
	assert_string_equal(g.cells[0][0], "name");
	assert_string_equal(g.cells[1][0], "a, \"b\"");
	assert_string_equal(g.cells[1][1], "line1\nline2");
	assert_string_equal(g.cells[2][0], " c "); /* spaces kept */
	assert_int_equal(g.n[2], 2);
	assert_string_equal(g.cells[2][1], "");
}

static void test_csv_read_errors(void **state)
{
	(void)state;
	struct got g = {0};
	size_t rec;
	const char *unclosed = "a,b\r\n\"open,x\r\n";
	assert_int_equal(csv_read(unclosed, strlen(unclosed), collect, &g, &rec), CSV_READ_MALFORMED);
	const char *stray = "a,b\r\nx\"y,z\r\n";
	memset(&g, 0, sizeof(g));
	assert_int_equal(csv_read(stray, strlen(stray), collect, &g, &rec), CSV_READ_MALFORMED);
	const char *latin1 = "a,b\r\ncaf\xe9,x\r\n";
	memset(&g, 0, sizeof(g));
	assert_int_equal(csv_read(latin1, strlen(latin1), collect, &g, &rec), CSV_READ_NOT_UTF8);
	assert_int_equal(g.rows, 0); /* refused before any row */
	const char nul[] = "a,b\r\nx\0y,z\r\n";
	assert_int_equal(csv_read(nul, sizeof(nul) - 1, collect, &g, &rec), CSV_READ_NOT_UTF8);
}

static void test_copy_unescape(void **state)
{
	(void)state;
	char s[] = "a\\tb\\nc\\\\d\\101";
	size_t n = export_copy_unescape(s, strlen(s));
	assert_int_equal(n, 8);
	assert_memory_equal(s, "a\tb\nc\\dA", 8);
}

static void test_parse_time(void **state)
{
	(void)state;
	int y, mo, d, h, mi;
	double sec;
	assert_int_equal(xlsx_parse_time("2026-12-02T07:05:57Z", 20, &y, &mo, &d, &h, &mi, &sec), 0);
	assert_int_equal(y, 2026);
	assert_int_equal(mo, 12);
	assert_int_equal(h, 7);
	assert_true(sec == 57.0);
	assert_int_equal(xlsx_parse_time("2026-12-02T07:05:57.5Z", 22, &y, &mo, &d, &h, &mi, &sec), 0);
	assert_true(sec == 57.5);
	assert_int_equal(xlsx_parse_time("2026-13-02T07:05:57Z", 20, &y, &mo, &d, &h, &mi, &sec), -1);
	assert_int_equal(xlsx_parse_time("not a time at all!!Z", 20, &y, &mo, &d, &h, &mi, &sec), -1);
}

static void test_schedule_next(void **state)
{
	(void)state;
	time_t next;
	const char *why;
	/* 2026-12-02 07:05:57 UTC */
	time_t now = 1796195157;
	assert_int_equal(schedule_next("30 6 * * *", "UTC", now, &next, &why), 0);
	assert_int_equal(next, 1796195157 - 7 * 3600 - 5 * 60 - 57 + 86400 + 6 * 3600 + 30 * 60);
	/* Daily at 06:30 in Berlin (UTC+1 in December) is 05:30 UTC. */
	assert_int_equal(schedule_next("30 6 * * *", "Europe/Berlin", now, &next, &why), 0);
	assert_int_equal(next, 1796195157 - 7 * 3600 - 5 * 60 - 57 + 86400 + 5 * 3600 + 30 * 60);
	assert_int_equal(schedule_next("*/15 * * * *", "UTC", now, &next, &why), 0);
	assert_int_equal(next % 900, 0);
	assert_true(next > now && next - now <= 900);
	assert_int_equal(schedule_next("0 0 * * 1", "UTC", now, &next, &why), 0); /* Mondays */
	struct tm tm;
	gmtime_r(&next, &tm);
	assert_int_equal(tm.tm_wday, 1);
	assert_int_equal(schedule_next("61 * * * *", "UTC", now, &next, &why), -1);
	assert_int_equal(schedule_next("* * *", "UTC", now, &next, &why), -1);
	assert_int_equal(schedule_next("0 0 31 2 *", "UTC", now, &next, &why), -1); /* never */
	assert_true(schedule_tz_valid("Europe/Berlin"));
	assert_false(schedule_tz_valid("../etc/passwd"));
	assert_false(schedule_tz_valid("Mars/Olympus"));
}

static void test_cell_values(void **state)
{
	(void)state;
	const struct import_entity *e = import_entity_find("webhooks");
	assert_non_null(e);
	struct json_object *v;
	assert_null(import_cell_value(&e->fields[3], "7", &v));
	assert_int_equal(json_object_get_int(v), 7);
	json_object_put(v);
	assert_non_null(import_cell_value(&e->fields[3], "7x", &v));
	assert_null(import_cell_value(&e->fields[5], "yes", &v));
	assert_true(json_object_get_boolean(v));
	json_object_put(v);
	assert_null(import_cell_value(&e->fields[2], "a.b, c.*  *", &v));
	assert_int_equal(json_object_array_length(v), 3);
	json_object_put(v);
	assert_null(import_cell_value(&e->fields[0], "", &v));
	assert_null(v);
	assert_non_null(export_entity_find("audit_log"));
	assert_null(export_entity_find("users"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_write_quoting_and_guard),
		cmocka_unit_test(test_csv_read_rfc4180),
		cmocka_unit_test(test_csv_read_errors),
		cmocka_unit_test(test_copy_unescape),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_schedule_next),
		cmocka_unit_test(test_cell_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
