/* Unit tests of lib/webhooks/webhook.c and lib/events/events.c: the Standard Webhooks published signing
 * vector, the delivered body, URL rules, the retry schedule with jitter, event names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "events/events.h"
#include "webhooks/webhook.h"

static struct arena *a;

static int setup(void **state)
{
	(void)state;
	a = arena_new();
	unsetenv("SB_WEBHOOK_RETRY_SCHEDULE");
	unsetenv("SB_WEBHOOK_ALLOW_HTTP");
	setenv("SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "1", 1); /* no DNS in unit tests */
	return a ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	arena_free(a);
	return 0;
}

/* The vector published with the Standard Webhooks specification. */
static void test_signature_published_vector(void **state)
{
	(void)state;
	const char *body = "{\"test\": 2432232314}";
	char *sig = webhook_signature(a, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
				      1614265330, body, strlen(body));
	assert_non_null(sig);
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* The prefix is optional; any other byte changes the signature. */
	assert_string_equal(webhook_signature(a, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
					      1614265330, body, strlen(body)),
			    sig);
	assert_string_not_equal(webhook_signature(a, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
						  "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, strlen(body)),
				sig);
	assert_null(webhook_signature(a, "whsec_not base64!", "msg_x", 1, body, strlen(body)));
}

static void test_secret_shape(void **state)
{
	(void)state;
	char *s = webhook_secret_new(a), *t = webhook_secret_new(a);
	assert_non_null(s);
	assert_int_equal(strncmp(s, "whsec_", 6), 0);
	assert_int_equal(strlen(s), 6 + 44); /* base64 of 32 bytes */
	assert_string_not_equal(s, t);
	/* A secret signs: it decodes to 32 bytes. */
	assert_non_null(webhook_signature(a, s, "msg_1", 1, "{}", 2));
}

static void test_body_is_stable_json(void **state)
{
	(void)state;
	char *b = webhook_body(a, "ticket.created", "2026-01-01T00:00:00Z", "{\"id\": 7}");
	assert_string_equal(
		b, "{\"type\":\"ticket.created\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"data\":{\"id\": 7}}");
	struct json_object *o = json_tokener_parse(b);
	assert_non_null(o);
	json_object_put(o);
	/* Quotes in a type are escaped, never break the document. */
	b = webhook_body(a, "a\"b", "t", "{}");
	o = json_tokener_parse(b);
	assert_non_null(o);
	json_object_put(o);
}

static void test_url_rules(void **state)
{
	(void)state;
	assert_null(webhook_url_check(a, "https://example.com/hook"));
	assert_null(webhook_url_check(a, "https://example.com:8443/hook?x=1"));
	assert_null(webhook_url_check(a, "https://[::1]:8443/hook"));
	assert_non_null(webhook_url_check(a, "http://example.com/hook")); /* http is off by default */
	assert_non_null(webhook_url_check(a, "ftp://example.com/"));
	assert_non_null(webhook_url_check(a, "https://user:pw@example.com/"));
	assert_non_null(webhook_url_check(a, "https:///nohost"));
	assert_non_null(webhook_url_check(a, "https://example.com:0/"));
	assert_non_null(webhook_url_check(a, "https://example.com:99999/"));
	assert_non_null(webhook_url_check(a, "https://exa mple.com/"));
	setenv("SB_WEBHOOK_ALLOW_HTTP", "1", 1);
	assert_null(webhook_url_check(a, "http://127.0.0.1:9000/hook"));
	unsetenv("SB_WEBHOOK_ALLOW_HTTP");
	/* With the guard on, a loopback receiver is refused at registration. */
	setenv("SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "0", 1);
	assert_non_null(webhook_url_check(a, "https://127.0.0.1/hook"));
	assert_non_null(webhook_url_check(a, "https://[::1]/hook"));
	setenv("SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "1", 1);
}

static void test_retry_schedule(void **state)
{
	(void)state;
	/* The default schedule, without jitter. */
	long want[] = {5, 300, 1800, 7200, 18000, 36000, 36000};
	for (int i = 0; i < 7; i++)
		assert_int_equal(webhook_retry_delay(i + 1, false), want[i]);
	assert_int_equal(webhook_retry_delay(20, false), 36000); /* past the end: the last step */
	/* Jitter stays within ±20%. */
	for (int i = 0; i < 200; i++) {
		long d = webhook_retry_delay(2, true);
		assert_in_range(d, 240, 360);
	}
	setenv("SB_WEBHOOK_RETRY_SCHEDULE", "1,2,3", 1);
	assert_int_equal(webhook_retry_delay(1, false), 1);
	assert_int_equal(webhook_retry_delay(3, false), 3);
	assert_int_equal(webhook_retry_delay(9, false), 3);
	setenv("SB_WEBHOOK_RETRY_SCHEDULE", "garbage", 1);
	assert_int_equal(webhook_retry_delay(1, false), 5);
	unsetenv("SB_WEBHOOK_RETRY_SCHEDULE");
}

static void test_event_type_names(void **state)
{
	(void)state;
	assert_true(events_type_valid("ticket.created"));
	assert_true(events_type_valid("a"));
	assert_true(events_type_valid("order_v2.line-item.added"));
	assert_false(events_type_valid(""));
	assert_false(events_type_valid(".a"));
	assert_false(events_type_valid("a."));
	assert_false(events_type_valid("a..b"));
	assert_false(events_type_valid("Ticket.Created"));
	assert_false(events_type_valid("a b"));
	assert_false(events_type_valid("a.*"));
	char long_name[102];
	memset(long_name, 'a', 101);
	long_name[101] = '\0';
	assert_false(events_type_valid(long_name));
	long_name[100] = '\0';
	assert_true(events_type_valid(long_name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signature_published_vector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_is_stable_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_url_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_schedule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_type_names, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
