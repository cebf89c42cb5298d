/* Unit tests of lib/webhooks/webhook_options.c: the two body formats, the JSON-pointer
 * field filter, the checks of custom headers and pointers, and CIDR matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <string.h>

#include "core/arena.h"
#include "webhooks/webhook_options.h"

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

static const char *check_json(const char *(*check)(struct json_object *), const char *json)
{
	struct json_object *v = json_tokener_parse(json);
	const char *msg = check(v);
	json_object_put(v);
	return msg;
}

static void test_body_formats(void **state)
{
	(void)state;
	assert_string_equal(webhook_body_build(a, "standard", "order.placed", "msg_1", "2026-01-01T00:00:00Z",
					       "{\"n\": 1}", "[]", "[]"),
			    "{\"type\":\"order.placed\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"data\":{\"n\": 1}}");
	assert_string_equal(webhook_body_build(a, "envelope", "order.placed", "msg_1", "2026-01-01T00:00:00Z",
					       "{\"n\": 1}", NULL, NULL),
			    "{\"id\":\"msg_1\",\"event\":\"order.placed\",\"created_at\":\"2026-01-01T00:00:00Z\","
			    "\"data\":{\"n\": 1}}");
	/* Names are JSON-escaped. */
	assert_string_equal(webhook_body_build(a, "envelope", "a\"b", "m\"", "t", "{}", NULL, NULL),
			    "{\"id\":\"m\\\"\",\"event\":\"a\\\"b\",\"created_at\":\"t\",\"data\":{}}");
}

static void test_filter(void **state)
{
	(void)state;
	const char *data = "{\"order\":{\"id\":7,\"secret\":\"s\",\"items\":[{\"sku\":\"a\",\"p\":1},{\"sku\":\"b\"}]},"
			   "\"c\":{\"e\":\"x\",\"n\":\"y\"},\"a/b\":{\"~x\":1,\"y\":2}}";
	char *b = webhook_body_build(a, "standard", "t", "m", "ts", data,
				     "[\"/order\",\"/c/e\",\"/a~1b/~0x\",\"/none/x\",\"/order/id/deeper\"]",
				     "[\"/order/secret\",\"/order/items/1\",\"/order/items/0/p\",\"/order/items/9\"]");
	assert_string_equal(b, "{\"type\":\"t\",\"timestamp\":\"ts\",\"data\":{\"order\":{\"id\":7,\"items\":[{\"sku\":"
			       "\"a\"}]},\"c\":{\"e\":\"x\"},\"a/b\":{\"~x\":1}}}");
	/* Exclude alone; an index with a leading zero names nothing. */
	b = webhook_body_build(a, "standard", "t", "m", "ts", "{\"l\":[1,2,3],\"k\":null}", "[]",
			       "[\"/l/01\",\"/l/0\",\"/k\"]");
	assert_string_equal(b, "{\"type\":\"t\",\"timestamp\":\"ts\",\"data\":{\"l\":[2,3]}}");
	/* An included null is kept as null. */
	b = webhook_body_build(a, "standard", "t", "m", "ts", "{\"k\":null,\"j\":1}", "[\"/k\"]", NULL);
	assert_string_equal(b, "{\"type\":\"t\",\"timestamp\":\"ts\",\"data\":{\"k\":null}}");
}

static void test_pointer_check(void **state)
{
	(void)state;
	assert_null(check_json(webhook_pointers_check, "[]"));
	assert_null(check_json(webhook_pointers_check, "[\"/a\",\"/a/0\",\"/~0~1\",\"/\"]"));
	assert_non_null(check_json(webhook_pointers_check, "[\"a\"]"));
	assert_non_null(check_json(webhook_pointers_check, "[\"\"]"));
	assert_non_null(check_json(webhook_pointers_check, "[\"/a~2\"]"));
	assert_non_null(check_json(webhook_pointers_check, "[\"/a~\"]"));
	assert_non_null(check_json(webhook_pointers_check, "[1]"));
	assert_non_null(check_json(webhook_pointers_check, "[\"/a\\nb\"]"));
}

static void test_header_check(void **state)
{
	(void)state;
	assert_null(check_json(webhook_headers_check, "{}"));
	assert_null(check_json(webhook_headers_check, "{\"X-Tenant\":\"acme\",\"Authorization\":\"Bearer a\\tb\"}"));
	const char *bad[] = {"{\"webhook-id\":\"x\"}",	   "{\"WEBHOOK-SIGNATURE\":\"x\"}",
			     "{\"Content-Type\":\"x\"}",   "{\"host\":\"x\"}",
			     "{\"Content-Length\":\"1\"}", "{\"Transfer-Encoding\":\"chunked\"}",
			     "{\"X-A\":\"a\\r\\nB: c\"}",  "{\"X-A\":\"a\\nb\"}",
			     "{\"X A\":\"v\"}",		   "{\"X:A\":\"v\"}",
			     "{\"\":\"v\"}",		   "{\"X-A\":1}",
			     "{\"X-A\":\"v\",\"x-a\":\"w\"}", "[]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_non_null(check_json(webhook_headers_check, bad[i]));
}

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return ss;
}

static bool inside(const char *net, const char *ip)
{
	struct webhook_cidr c;
	assert_int_equal(webhook_cidr_parse(net, &c), 0);
	struct sockaddr_storage ss = addr(ip);
	return webhook_cidr_contains(&c, (struct sockaddr *)&ss);
}

static void test_cidr(void **state)
{
	(void)state;
	assert_true(inside("203.0.113.0/24", "203.0.113.200"));
	assert_false(inside("203.0.113.0/24", "203.0.114.1"));
	assert_true(inside("127.0.0.1", "127.0.0.1"));
	assert_false(inside("127.0.0.1", "127.0.0.2"));
	assert_true(inside("0.0.0.0/0", "8.8.8.8"));
	assert_true(inside("10.0.0.0/9", "10.127.255.255"));
	assert_false(inside("10.0.0.0/9", "10.128.0.0"));
	assert_true(inside("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(inside("2001:db8::/32", "2001:db9::1"));
	assert_false(inside("2001:db8::/32", "203.0.113.1"));
	assert_false(inside("203.0.113.0/24", "2001:db8::1"));
	assert_true(inside("203.0.113.0/24", "::ffff:203.0.113.9")); /* v4-mapped */
	assert_true(inside("::1", "::1"));
	struct webhook_cidr c;
	assert_int_equal(webhook_cidr_parse("10.0.0.1/8", &c), -1); /* host bits */
	assert_int_equal(webhook_cidr_parse("10.0.0.0/33", &c), -1);
	assert_int_equal(webhook_cidr_parse("10.0.0.0/", &c), -1);
	assert_int_equal(webhook_cidr_parse("10.0.0.0/-1", &c), -1);
	assert_int_equal(webhook_cidr_parse("::/129", &c), -1);
	assert_int_equal(webhook_cidr_parse("example.com", &c), -1);
	assert_int_equal(webhook_cidr_parse("", &c), -1);
	assert_null(check_json(webhook_allowed_ips_check, "[\"10.0.0.0/8\",\"::1\"]"));
	assert_non_null(check_json(webhook_allowed_ips_check, "[\"10.0.0.0/8\",5]"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_body_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pointer_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cidr, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
