/* Unit tests of lib/core/validate.c: field tables (types, required, bounds, checks, all failures
 * at once), check_email, check_not_blank, validate_query_int and utf8_length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/validate.h"

static int check_calls;

static const char *check_even(struct json_object *v)
{
	check_calls++;
	return json_object_get_int64(v) % 2 ? "must be even" : NULL;
}

static const struct field table[] = {
	{"name", FIELD_STRING, true, 1, 10, NULL},	   {"code", FIELD_STRING, false, 3, 5, NULL},
	{"note", FIELD_STRING, false, 0, 0, NULL},	   {"age", FIELD_INT, false, 0, 150, NULL},
	{"count", FIELD_INT, false, 0, 0, check_even},	   {"active", FIELD_BOOL, false, 0, 0, NULL},
	{"meta", FIELD_OBJECT, false, 0, 0, NULL},	   {"tags", FIELD_ARRAY, false, 1, 3, NULL},
	{"email", FIELD_STRING, false, 0, 0, check_email}, {NULL, FIELD_STRING, false, 0, 0, NULL},
};

/* Validates the JSON text against table; returns the failure count, *errors as given. */
static int run(const char *json, struct json_object **errors)
{
	struct json_object *o = json_tokener_parse(json);
	if (!o)
		fail_msg("test JSON does not parse: %s", json);
	int n = validate_object(o, table, errors);
	json_object_put(o);
	return n;
}

/* Asserts that json fails on exactly one field with exactly this message. */
static void expect_one(const char *json, const char *field, const char *message)
{
	struct json_object *errors = NULL;
	int n = run(json, &errors);
	if (n != 1 || !errors)
		fail_msg("%s: %d failures, want 1 (%s: %s)", json, n, field, message);
	assert_int_equal(json_object_object_length(errors), 1);
	struct json_object *m;
	if (!json_object_object_get_ex(errors, field, &m))
		fail_msg("%s: no error for %s but %s", json, field, json_object_to_json_string(errors));
	assert_string_equal(json_object_get_string(m), message);
	json_object_put(errors);
}

static void expect_ok(const char *json)
{
	static int sentinel;
	struct json_object *errors = (struct json_object *)&sentinel; /* must be reset to NULL */
	int n = run(json, &errors);
	if (n != 0)
		fail_msg("%s: unexpected failures %s", json, json_object_to_json_string(errors));
	assert_null(errors);
}

static void test_valid_object(void **state)
{
	(void)state;
	check_calls = 0;
	expect_ok("{\"name\":\"Ann\",\"code\":\"abc\",\"note\":\"\",\"age\":0,\"count\":4,\"active\":false,"
		  "\"meta\":{\"x\":[1]},\"tags\":[\"a\",\"b\",\"c\"],\"email\":\"ann@example.com\",\"extra\":1}");
	assert_int_equal(check_calls, 1);
	expect_ok("{\"name\":\"x\",\"age\":150,\"tags\":[1]}");
}

static void test_types(void **state)
{
	(void)state;
	expect_one("{\"name\":5}", "name", "must be a string");
	expect_one("{\"name\":[\"a\"]}", "name", "must be a string");
	expect_one("{\"name\":\"a\",\"age\":\"5\"}", "age", "must be an integer");
	expect_one("{\"name\":\"a\",\"age\":5.5}", "age", "must be an integer");
	expect_one("{\"name\":\"a\",\"age\":true}", "age", "must be an integer");
	expect_one("{\"name\":\"a\",\"active\":1}", "active", "must be true or false");
	expect_one("{\"name\":\"a\",\"active\":\"true\"}", "active", "must be true or false");
	expect_one("{\"name\":\"a\",\"meta\":[]}", "meta", "must be an object");
	expect_one("{\"name\":\"a\",\"meta\":\"{}\"}", "meta", "must be an object");
	expect_one("{\"name\":\"a\",\"tags\":{}}", "tags", "must be an array");
	expect_one("{\"name\":\"a\",\"tags\":\"a,b\"}", "tags", "must be an array");
}

static void test_required_and_null(void **state)
{
	(void)state;
	expect_one("{}", "name", "is required");
	expect_one("{\"name\":null}", "name", "is required");
	expect_one("{\"Name\":\"a\"}", "name", "is required"); /* names are exact */
	/* Optional fields may be absent or null. */
	expect_ok("{\"name\":\"a\",\"age\":null,\"tags\":null,\"meta\":null}");
}

static void test_string_length_in_characters(void **state)
{
	(void)state;
	expect_one("{\"name\":\"\"}", "name", "must not be empty");
	expect_ok("{\"name\":\"0123456789\"}");
	expect_one("{\"name\":\"0123456789A\"}", "name", "must be at most 10 characters");
	/* 10 x "é" is 20 bytes but 10 characters; 10 x U+1F600 is 40 bytes. */
	expect_ok("{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}");
	expect_ok("{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}");
	expect_ok("{\"name\":\"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00"
		  "\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\"}");
	expect_one("{\"name\":"
		   "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}",
		   "name", "must be at most 10 characters");
	/* min 3, max 5 */
	expect_one("{\"name\":\"a\",\"code\":\"ab\"}", "code", "must be at least 3 characters");
	expect_one("{\"name\":\"a\",\"code\":\"\"}", "code", "must be at least 3 characters");
	expect_ok("{\"name\":\"a\",\"code\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}");
	expect_one("{\"name\":\"a\",\"code\":\"abcdef\"}", "code", "must be at most 5 characters");
	/* 0,0: no bound at all */
	char big[3000] = "{\"name\":\"a\",\"note\":\"";
	memset(big + strlen(big), 'n', 2000);
	strcpy(big + strlen(big), "\"}");
	expect_ok(big);
}

static void test_invalid_text_rejected(void **state)
{
	(void)state;
	const char *msg = "must be valid UTF-8 text without NUL characters";
	expect_one("{\"name\":\"a\\u0000b\"}", "name", msg);
	expect_one("{\"name\":\"\\u0000\"}", "name", msg);
	expect_one("{\"name\":\"a\xff\"}", "name", msg);
	expect_one("{\"name\":\"\xc3\"}", "name", msg);
	expect_one("{\"name\":\"\xed\xa0\x80\"}", "name", msg);		   /* raw surrogate */
	expect_one("{\"name\":\"a\",\"note\":\"\xc0\xaf\"}", "note", msg); /* overlong, unbounded field */
	/* json-c turns an escaped lone surrogate into U+FFFD, which is valid text. */
	expect_ok("{\"name\":\"\\ud800\"}");
}

static void test_int_bounds(void **state)
{
	(void)state;
	expect_ok("{\"name\":\"a\",\"age\":0}");
	expect_ok("{\"name\":\"a\",\"age\":150}");
	expect_one("{\"name\":\"a\",\"age\":-1}", "age", "must be between 0 and 150");
	expect_one("{\"name\":\"a\",\"age\":151}", "age", "must be between 0 and 150");
	expect_one("{\"name\":\"a\",\"age\":99999999999999999999}", "age", "must be between 0 and 150");
	expect_one("{\"name\":\"a\",\"age\":-99999999999999999999}", "age", "must be between 0 and 150");
	/* 0,0: unbounded, so only the check decides. */
	expect_ok("{\"name\":\"a\",\"count\":-1000000000000}");
}

static void test_array_bounds(void **state)
{
	(void)state;
	expect_ok("{\"name\":\"a\",\"tags\":[1]}");
	expect_ok("{\"name\":\"a\",\"tags\":[1,2,3]}");
	expect_one("{\"name\":\"a\",\"tags\":[]}", "tags", "must have between 1 and 3 items");
	expect_one("{\"name\":\"a\",\"tags\":[1,2,3,4]}", "tags", "must have between 1 and 3 items");
}

static void test_custom_check(void **state)
{
	(void)state;
	check_calls = 0;
	expect_one("{\"name\":\"a\",\"count\":3}", "count", "must be even");
	assert_int_equal(check_calls, 1);
	expect_ok("{\"name\":\"a\",\"count\":2}");
	assert_int_equal(check_calls, 2);
	/* A value of the wrong type never reaches the check. */
	expect_one("{\"name\":\"a\",\"count\":\"3\"}", "count", "must be an integer");
	assert_int_equal(check_calls, 2);
	expect_ok("{\"name\":\"a\"}");
	assert_int_equal(check_calls, 2);
	expect_one("{\"name\":\"a\",\"email\":\"nope\"}", "email", "must be a valid email address");
}

static void test_all_failures_at_once(void **state)
{
	(void)state;
	struct json_object *errors = NULL;
	int n = run("{\"code\":\"toolong\",\"age\":200,\"active\":\"yes\",\"meta\":1,\"tags\":[],"
		    "\"email\":\"a@b\",\"count\":7,\"note\":\"ok\"}",
		    &errors);
	assert_int_equal(n, 8);
	assert_non_null(errors);
	assert_int_equal(json_object_object_length(errors), 8);
	static const char *const want[][2] = {
		{"name", "is required"},
		{"code", "must be at most 5 characters"},
		{"age", "must be between 0 and 150"},
		{"count", "must be even"},
		{"active", "must be true or false"},
		{"meta", "must be an object"},
		{"tags", "must have between 1 and 3 items"},
		{"email", "must be a valid email address"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct json_object *m;
		assert_true(json_object_object_get_ex(errors, want[i][0], &m));
		assert_string_equal(json_object_get_string(m), want[i][1]);
	}
	json_object_put(errors);
}

static const char *email(const char *s)
{
	struct json_object *v = json_object_new_string(s);
	const char *r = check_email(v);
	json_object_put(v);
	return r;
}

static void test_check_email(void **state)
{
	(void)state;
	static const char *const good[] = {
		"ann@example.com",
		"a.b+tag@sub.example.co.uk",
		"x@y.io",
		"o'neil@example.org",
		"user@xn--bcher-kva.example",
		"UPPER@EXAMPLE.COM",
		"d\xc3\xa9j\xc3\xa0@exampl\xc3\xa9.fr",
		"a-b@my-host.example",
	};
	static const char *const bad[] = {
		"",
		"ann",
		"@example.com",
		"ann@",
		"ann@example",
		"ann@@example.com",
		"ann@ex@ample.com",
		"ann@.example.com",
		"ann@example.com.",
		"ann@exa..mple.com",
		"a b@example.com",
		"ann@exa mple.com",
		"ann@exam_ple.com",
		"<ann>@example.com",
		"ann@example.com\n",
		"\"ann\"@example.com",
		"ann,bob@example.com",
		"ann;x@example.com",
		"a\\b@example.com",
		"ann@example.com>",
		"tab\t@example.com",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (email(good[i]))
			fail_msg("rejected good address \"%s\"", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *m = email(bad[i]);
		if (!m || strcmp(m, "must be a valid email address"))
			fail_msg("accepted bad address \"%s\"", bad[i]);
	}

	/* Local part up to 64 characters, whole address up to 254. */
	char addr[400];
	memset(addr, 'l', 64);
	strcpy(addr + 64, "@example.com");
	assert_null(email(addr));
	memset(addr, 'l', 65);
	strcpy(addr + 65, "@example.com");
	assert_non_null(email(addr));

	/* "a@" + 62 + "." + 62 + "." + 62 + "." + 59 + ".com" = 254 characters. */
	char d[64];
	memset(d, 'd', 63);
	d[63] = '\0';
	snprintf(addr, sizeof(addr), "a@%.62s.%.62s.%.62s.%.59s.com", d, d, d, d);
	assert_int_equal(strlen(addr), 254);
	assert_null(email(addr));
	snprintf(addr, sizeof(addr), "a@%.62s.%.62s.%.62s.%.60s.com", d, d, d, d);
	assert_int_equal(strlen(addr), 255);
	assert_non_null(email(addr));
}

static void test_check_not_blank(void **state)
{
	(void)state;
	static const char *const blank[] = {"", " ", "\t\r\n ", "   "};
	for (size_t i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
		struct json_object *v = json_object_new_string(blank[i]);
		const char *m = check_not_blank(v);
		json_object_put(v);
		assert_non_null(m);
		assert_string_equal(m, "must not be blank");
	}
	struct json_object *v = json_object_new_string("  a ");
	assert_null(check_not_blank(v));
	json_object_put(v);
}

static void test_validate_query_int(void **state)
{
	(void)state;
	long out = -7;
	assert_int_equal(validate_query_int(NULL, 20, 1, 100, &out), 0);
	assert_int_equal(out, 20);
	assert_int_equal(validate_query_int("5", 20, 1, 100, &out), 0);
	assert_int_equal(out, 5);
	assert_int_equal(validate_query_int("1", 20, 1, 100, &out), 0);
	assert_int_equal(out, 1);
	assert_int_equal(validate_query_int("100", 20, 1, 100, &out), 0);
	assert_int_equal(out, 100);
	assert_int_equal(validate_query_int("-3", 0, -10, 10, &out), 0);
	assert_int_equal(out, -3);
	assert_int_equal(validate_query_int("007", 0, 0, 10, &out), 0);
	assert_int_equal(out, 7);

	static const char *const bad[] = {
		"",
		"0",
		"101",
		"-1",
		"abc",
		"5x",
		"x5",
		"+5",
		" 5",
		"5 ",
		"\t5",
		"\n5",
		"\v5",
		"\f5",
		"\r5",
		"1e2",
		"0x10",
		"1.0",
		"--5",
		"99999999999999999999",
		"1000000000000000000",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = 4242;
		if (validate_query_int(bad[i], 20, 1, 100, &out) != -1)
			fail_msg("accepted query int \"%s\" as %ld", bad[i], out);
	}
}

static void test_utf8_length(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		long want;
	} cases[] = {
		{"", 0},
		{"abc", 3},
		{"\xc3\xa9", 1},	 /* U+00E9 */
		{"\xe2\x82\xac", 1},	 /* U+20AC */
		{"\xf0\x9f\x98\x80", 1}, /* U+1F600 */
		{"a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", 5},
		{"\xc2\x80", 1},		  /* U+0080, smallest two-byte */
		{"\xe0\xa0\x80", 1},		  /* U+0800, smallest three-byte */
		{"\xf0\x90\x80\x80", 1},	  /* U+10000, smallest four-byte */
		{"\xed\x9f\xbf", 1},		  /* U+D7FF, just below the surrogates */
		{"\xee\x80\x80", 1},		  /* U+E000, just above */
		{"\xef\xbf\xbf", 1},		  /* U+FFFF */
		{"\xf4\x8f\xbf\xbf", 1},	  /* U+10FFFF, the last code point */
		{"\xc0\x80", -1},		  /* overlong NUL */
		{"\xc0\xaf", -1},		  /* overlong '/' */
		{"\xc1\xbf", -1},		  /* overlong U+007F */
		{"\xe0\x80\xaf", -1},		  /* overlong three-byte */
		{"\xe0\x9f\xbf", -1},		  /* overlong U+07FF */
		{"\xf0\x80\x80\xaf", -1},	  /* overlong four-byte */
		{"\xf0\x8f\xbf\xbf", -1},	  /* overlong U+FFFF */
		{"\xed\xa0\x80", -1},		  /* U+D800 */
		{"\xed\xbf\xbf", -1},		  /* U+DFFF */
		{"\xed\xa0\xbd\xed\xb8\x80", -1}, /* CESU-8 pair */
		{"\xf4\x90\x80\x80", -1},	  /* U+110000 */
		{"\xf5\x80\x80\x80", -1},
		{"\xf7\xbf\xbf\xbf", -1},
		{"\xf8\x88\x80\x80\x80", -1},	  /* five-byte form */
		{"\xfc\x84\x80\x80\x80\x80", -1}, /* six-byte form */
		{"\xfe", -1},
		{"\xff", -1},
		{"\x80", -1}, /* lone continuation */
		{"a\xbf", -1},
		{"\xc3", -1}, /* truncated */
		{"\xe2\x82", -1},
		{"\xf0\x9f\x98", -1},
		{"\xc3\x28", -1}, /* bad continuation */
		{"\xe2\x28\xac", -1},
		{"\xf0\x9f\x28\x80", -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long got = utf8_length(cases[i].s, strlen(cases[i].s));
		if (got != cases[i].want)
			fail_msg("case %zu: got %ld, want %ld", i, got, cases[i].want);
	}
	/* Length-bounded: NUL inside is rejected, a sequence cut by n is truncated. */
	assert_int_equal(utf8_length("a\0b", 3), -1);
	assert_int_equal(utf8_length("a\0b", 1), 1);
	assert_int_equal(utf8_length("\xc3\xa9", 1), -1);
	assert_int_equal(utf8_length("\xf0\x9f\x98\x80", 3), -1);
	assert_int_equal(utf8_length("abc", 0), 0);
}

static const struct field extra[] = {
	{"timeout", FIELD_INT, false, 0, 0, NULL},
	{NULL, FIELD_STRING, false, 0, 0, NULL},
};

/* Members in none of the tables are named "unknown field"; nested members are not judged. */
static void test_unknown_members(void **state)
{
	(void)state;
	struct json_object *o =
		json_tokener_parse("{\"name\":\"a\",\"timeout\":3,\"nmae\":1,\"meta\":{\"free\":1},\"x\":null}");
	const struct field *const both[] = {table, extra, NULL};
	struct json_object *errors = NULL;
	assert_int_equal(validate_unknown(o, both, &errors), 2);
	assert_non_null(errors);
	assert_int_equal(json_object_object_length(errors), 2);
	struct json_object *v;
	assert_true(json_object_object_get_ex(errors, "nmae", &v));
	assert_string_equal(json_object_get_string(v), "unknown field");
	assert_true(json_object_object_get_ex(errors, "x", &v));
	json_object_put(errors);

	/* One table only: timeout is unknown too; existing errors are added to. */
	const struct field *const one[] = {table, NULL};
	errors = json_object_new_object();
	json_object_object_add(errors, "name", json_object_new_string("is wrong"));
	assert_int_equal(validate_unknown(o, one, &errors), 3);
	assert_int_equal(json_object_object_length(errors), 4);
	json_object_put(errors);

	/* An empty list declares nothing; a known-only body adds nothing. */
	const struct field *const none[] = {NULL};
	errors = NULL;
	assert_int_equal(validate_unknown(o, none, &errors), 5);
	json_object_put(errors);
	struct json_object *ok = json_tokener_parse("{\"name\":\"a\",\"timeout\":1}");
	errors = NULL;
	assert_int_equal(validate_unknown(ok, both, &errors), 0);
	assert_null(errors);
	json_object_put(ok);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_object),	      cmocka_unit_test(test_types),
		cmocka_unit_test(test_required_and_null),     cmocka_unit_test(test_string_length_in_characters),
		cmocka_unit_test(test_invalid_text_rejected), cmocka_unit_test(test_int_bounds),
		cmocka_unit_test(test_array_bounds),	      cmocka_unit_test(test_custom_check),
		cmocka_unit_test(test_all_failures_at_once),  cmocka_unit_test(test_check_email),
		cmocka_unit_test(test_check_not_blank),	      cmocka_unit_test(test_validate_query_int),
		cmocka_unit_test(test_utf8_length),	      cmocka_unit_test(test_unknown_members),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
