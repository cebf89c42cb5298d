/* Unit tests of lib/http/form.c: x-www-form-urlencoded bodies and HTTP Basic credentials
 * (RFC 6749 §2.3.1: id and secret form-encoded before base64). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/arena.h"
#include "http/form.h"
#include "http/request.h"

static struct arena *a;

static int setup(void **state)
{
	(void)state;
	a = arena_new();
	return a ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	arena_free(a);
	return 0;
}

static int parse(const char *body, struct kv *kv, size_t *n)
{
	return form_parse(a, body, strlen(body), kv, FORM_MAX_FIELDS, n);
}

static void test_form_fields(void **state)
{
	(void)state;
	struct kv kv[FORM_MAX_FIELDS];
	size_t n;
	assert_int_equal(parse("grant_type=client_credentials&scope=read+integrations%3Aread&x=", kv, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(kv[0].name, "grant_type");
	assert_string_equal(kv[0].value, "client_credentials");
	assert_string_equal(kv[1].value, "read integrations:read");
	assert_string_equal(kv[2].name, "x");
	assert_string_equal(kv[2].value, "");
	assert_int_equal(parse("", kv, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(parse("&&a=1&&", kv, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(parse("flag", kv, &n), 0);
	assert_string_equal(kv[0].value, "");
	/* Not NUL-terminated at len: only len bytes count. */
	assert_int_equal(form_parse(a, "a=1&b=2", 3, kv, FORM_MAX_FIELDS, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(kv[0].value, "1");
}

static void test_form_refusals(void **state)
{
	(void)state;
	struct kv kv[FORM_MAX_FIELDS];
	size_t n;
	assert_int_equal(parse("a=%zz", kv, &n), -1);
	assert_int_equal(parse("a=%00", kv, &n), -1);
	assert_int_equal(parse("a=%4", kv, &n), -1);
	assert_int_equal(parse("=value", kv, &n), -1);
	assert_int_equal(parse("token=a&token=b", kv, &n), -1); /* RFC 6749 §3.2 */
	struct kv two[2];
	assert_int_equal(form_parse(a, "a=1&b=2&c=3", 11, two, 2, &n), -1);
}

static void test_form_value_and_type(void **state)
{
	(void)state;
	struct request rq;
	memset(&rq, 0, sizeof(rq));
	rq.arena = a;
	assert_int_equal(form_parse(a, "token=abc", 9, rq.form, REQUEST_MAX_FORM, &rq.nform), 0);
	assert_string_equal(form_value(&rq, "token"), "abc");
	assert_null(form_value(&rq, "other"));
	assert_false(form_is_form(&rq));
	rq.headers[0].name = "content-type";
	rq.headers[0].value = "application/x-www-form-urlencoded; charset=UTF-8";
	rq.nheaders = 1;
	assert_true(form_is_form(&rq));
	rq.headers[0].value = "Application/X-WWW-Form-Urlencoded";
	assert_true(form_is_form(&rq));
	rq.headers[0].value = "application/json";
	assert_false(form_is_form(&rq));
	rq.headers[0].value = "application/x-www-form-urlencodedx";
	assert_false(form_is_form(&rq));
}

static void test_basic(void **state)
{
	(void)state;
	const char *u, *p;
	/* "sbc_id:s3cr:et" */
	assert_int_equal(basic_auth_parse(a, "Basic c2JjX2lkOnMzY3I6ZXQ=", &u, &p), 1);
	assert_string_equal(u, "sbc_id");
	assert_string_equal(p, "s3cr:et");
	/* Scheme is case-insensitive; "a%2Bb:c%20d" decodes to "a+b" / "c d". */
	assert_int_equal(basic_auth_parse(a, "basic YSUyQmI6YyUyMGQ=", &u, &p), 1);
	assert_string_equal(u, "a+b");
	assert_string_equal(p, "c d");
	/* Empty secret is parsed (and then fails authentication). "id:" */
	assert_int_equal(basic_auth_parse(a, "Basic aWQ6", &u, &p), 1);
	assert_string_equal(p, "");
}

static void test_basic_refusals(void **state)
{
	(void)state;
	const char *u, *p;
	assert_int_equal(basic_auth_parse(a, NULL, &u, &p), 0);
	assert_int_equal(basic_auth_parse(a, "Bearer abc", &u, &p), 0);
	assert_int_equal(basic_auth_parse(a, "Basic ", &u, &p), -1);
	assert_int_equal(basic_auth_parse(a, "Basic !!!", &u, &p), -1);
	assert_int_equal(basic_auth_parse(a, "Basic bm9jb2xvbg==", &u, &p), -1); /* "nocolon" */
	assert_int_equal(basic_auth_parse(a, "Basic OnNlY3JldA==", &u, &p), -1); /* ":secret" */
	assert_int_equal(basic_auth_parse(a, "Basic YSUwMDpi", &u, &p), -1);	 /* "a%00:b" */
	assert_int_equal(basic_auth_parse(a, "Basic YQBiOmM=", &u, &p), -1);	 /* "a\0b:c" */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_form_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_form_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_form_value_and_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_basic_refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
