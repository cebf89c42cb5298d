/* Unit tests of the pacing helpers of lib/net/outbound.c: backoff with full jitter,
 * Retry-After in both of its forms (RFC 9110 §10.2.3), reset times as RFC 3339. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/arena.h"
#include "net/outbound.h"

static void test_backoff_is_bounded_and_jittered(void **state)
{
	(void)state;
	assert_int_equal(outbound_backoff_ms(0, 200, 5000, 0), 0);
	assert_int_equal(outbound_backoff_ms(0, 200, 5000, UINT32_MAX), 200);
	assert_int_equal(outbound_backoff_ms(1, 200, 5000, UINT32_MAX), 400);
	assert_int_equal(outbound_backoff_ms(3, 200, 5000, UINT32_MAX), 1600);
	assert_int_equal(outbound_backoff_ms(10, 200, 5000, UINT32_MAX), 5000); /* capped */
	long half = outbound_backoff_ms(2, 200, 5000, UINT32_MAX / 2);
	assert_true(half >= 399 && half <= 400);
}

static void test_retry_after(void **state)
{
	(void)state;
	long now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
	assert_int_equal(outbound_retry_after_s("120", now), 120);
	assert_int_equal(outbound_retry_after_s("0", now), 0);
	assert_int_equal(outbound_retry_after_s("Sun, 06 Nov 1994 08:50:37 GMT", now), 60);
	assert_int_equal(outbound_retry_after_s("Sun, 06 Nov 1994 08:40:37 GMT", now), 0); /* past */
	assert_int_equal(outbound_retry_after_s(NULL, now), -1);
	assert_int_equal(outbound_retry_after_s("", now), -1);
	assert_int_equal(outbound_retry_after_s("12s", now), -1);
	assert_int_equal(outbound_retry_after_s("soon", now), -1);
	assert_int_equal(outbound_retry_after_s("99999999999", now), -1);
}

static void test_retry_at_text(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	assert_string_equal(outbound_retry_at_text(a, 784111777), "1994-11-06T08:49:37Z");
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_is_bounded_and_jittered),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_retry_at_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
