/* Unit tests of the sliding-window arithmetic of lib/http/ratelimit.c: admission, remaining,
 * reset and Retry-After (the database applies the same admission rule). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "http/ratelimit.h"

static void test_fits_without_history(void **state)
{
	(void)state;
	assert_true(ratelimit_fits(3, 3600, 0, 0, 10));
	assert_true(ratelimit_fits(3, 3600, 0, 2, 10));
	assert_false(ratelimit_fits(3, 3600, 0, 3, 10));
	assert_true(ratelimit_fits(1, 60, 0, 0, 0));
	assert_false(ratelimit_fits(1, 60, 0, 1, 59.9));
}

static void test_previous_window_decays(void **state)
{
	(void)state;
	/* Previous window full (100 of 100): at the start of this one nothing fits ... */
	assert_false(ratelimit_fits(100, 3600, 100, 0, 0));
	/* ... a quarter in, 75 still count: 25 fit. */
	assert_true(ratelimit_fits(100, 3600, 100, 24, 900));
	assert_false(ratelimit_fits(100, 3600, 100, 25, 900));
	/* At the very end the previous window no longer counts. */
	assert_true(ratelimit_fits(100, 3600, 100, 99, 3600));
	/* Elapsed out of range is clamped. */
	assert_false(ratelimit_fits(100, 3600, 100, 0, -5));
	assert_true(ratelimit_fits(100, 3600, 100, 0, 99999));
}

static void test_compute_allowed(void **state)
{
	(void)state;
	struct ratelimit_result r;
	ratelimit_compute(10, 60, 0, 1, 15.5, true, &r);
	assert_true(r.allowed);
	assert_int_equal(r.limit, 10);
	assert_int_equal(r.remaining, 9);
	assert_int_equal(r.reset, 45); /* ceil(60 - 15.5) */
	assert_int_equal(r.retry_after, 0);
	/* 10 previous at half way weigh 5; 3 current: 8 used, 2 left. */
	ratelimit_compute(10, 60, 10, 3, 30, true, &r);
	assert_int_equal(r.remaining, 2);
	/* The last slot: none left, but allowed. */
	ratelimit_compute(10, 60, 0, 10, 1, true, &r);
	assert_true(r.allowed);
	assert_int_equal(r.remaining, 0);
	assert_int_equal(r.reset, 59);
	/* Reset is at least 1 even at the boundary. */
	ratelimit_compute(10, 60, 0, 1, 60, true, &r);
	assert_int_equal(r.reset, 1);
}

static void test_retry_after_current_window_full(void **state)
{
	(void)state;
	struct ratelimit_result r;
	/* 3 of 3 used, 1 s into a 4 s window: the window ends in 3 s, then the 3 decay
	 * until one more fits: 3 * (4 - s) / 4 + 1 <= 3 -> s >= 4/3: 3 + 1.34 -> 5 s. */
	ratelimit_compute(3, 4, 0, 3, 1, false, &r);
	assert_false(r.allowed);
	assert_int_equal(r.remaining, 0);
	assert_int_equal(r.retry_after, 5);
	assert_int_equal(r.reset, 5);
	/* A limit of 1: the whole next window must pass. */
	ratelimit_compute(1, 3600, 0, 1, 600, false, &r);
	assert_int_equal(r.retry_after, 3000 + 3600);
	/* And the claim holds: at that time one more request fits. */
	assert_true(ratelimit_fits(3, 4, 3, 0, 1 + 5 - 4));
}

static void test_retry_after_previous_window_in_the_way(void **state)
{
	(void)state;
	struct ratelimit_result r;
	/* 100 previous, 0 current, at 0 s: (100 - t/36) + 1 <= 100 -> t >= 36 s. */
	ratelimit_compute(100, 3600, 100, 0, 0, false, &r);
	assert_int_equal(r.retry_after, 36);
	assert_true(ratelimit_fits(100, 3600, 100, 0, 36));
	assert_false(ratelimit_fits(100, 3600, 100, 0, 35));
	/* Never less than one second. */
	ratelimit_compute(100, 3600, 100, 0, 35.99, false, &r);
	assert_int_equal(r.retry_after, 1);
}

static void test_window_config(void **state)
{
	(void)state;
	unsetenv("SB_RATE_LIMIT_WINDOW_SECONDS");
	assert_int_equal(ratelimit_window(), 3600);
	setenv("SB_RATE_LIMIT_WINDOW_SECONDS", "5", 1);
	assert_int_equal(ratelimit_window(), 5);
	setenv("SB_RATE_LIMIT_WINDOW_SECONDS", "0", 1);
	assert_int_equal(ratelimit_window(), 1);
	unsetenv("SB_RATE_LIMIT_WINDOW_SECONDS");
}

static void test_lease_size(void **state)
{
	(void)state;
	assert_int_equal(ratelimit_lease_size(3, 32), 1);
	assert_int_equal(ratelimit_lease_size(511, 32), 1); /* small budgets: exact counting */
	assert_int_equal(ratelimit_lease_size(1000, 32), 3);
	assert_int_equal(ratelimit_lease_size(1000000, 32), 32);
	assert_int_equal(ratelimit_lease_size(1000000, 1), 1); /* SB_RATE_LIMIT_LEASE_MAX=1: off */
}

static void test_lease_spends_exactly_what_was_granted(void **state)
{
	(void)state;
	ratelimit_lease_clear();
	struct ratelimit_counts c, after = {.prev = 7, .cur = 14, .elapsed = 10.0}; /* 4 granted: 10 -> 14 */
	assert_false(ratelimit_lease_take("key:a:read", 1000, 3600, 5000.0, &c));
	ratelimit_lease_store("key:a:read", 1000, 3600, 5000.0, 4, &after);
	for (long used = 12; used <= 14; used++) {
		assert_true(ratelimit_lease_take("key:a:read", 1000, 3600, 6000.0, &c));
		assert_int_equal(c.cur, used); /* the request at grant was the 11th */
		assert_int_equal(c.prev, 7);
		assert_true(c.elapsed > 10.9 && c.elapsed < 11.1);
	}
	assert_false(ratelimit_lease_take("key:a:read", 1000, 3600, 6000.0, &c)); /* all spent */
}

static void test_lease_is_per_id_limit_and_window(void **state)
{
	(void)state;
	ratelimit_lease_clear();
	struct ratelimit_counts c, after = {.prev = 0, .cur = 8, .elapsed = 1.0};
	ratelimit_lease_store("key:a:read", 2000, 60, 0.0, 8, &after);
	assert_false(ratelimit_lease_take("key:a:write", 2000, 60, 1.0, &c));
	assert_false(ratelimit_lease_take("key:b:read", 2000, 60, 1.0, &c));
	assert_false(ratelimit_lease_take("key:a:read", 3000, 60, 1.0, &c)); /* the limit changed */
	assert_false(ratelimit_lease_take("key:a:read", 2000, 30, 1.0, &c));
	assert_true(ratelimit_lease_take("key:a:read", 2000, 60, 1.0, &c));
}

static void test_lease_dies_with_its_window(void **state)
{
	(void)state;
	ratelimit_lease_clear();
	struct ratelimit_counts c, after = {.prev = 0, .cur = 8, .elapsed = 55.0};
	ratelimit_lease_store("key:a:read", 2000, 60, 0.0, 8, &after);
	assert_true(ratelimit_lease_take("key:a:read", 2000, 60, 4000.0, &c));  /* 59 s in */
	assert_false(ratelimit_lease_take("key:a:read", 2000, 60, 5000.0, &c)); /* the next window */
	assert_false(ratelimit_lease_take("key:a:read", 2000, 60, 1000.0, &c)); /* and it stays gone */
	ratelimit_lease_store("key:a:read", 2000, 60, 0.0, 1, &after);	       /* one slot: nothing kept */
	assert_false(ratelimit_lease_take("key:a:read", 2000, 60, 1.0, &c));
}

static void test_lease_table_full_replaces_one(void **state)
{
	(void)state;
	ratelimit_lease_clear();
	struct ratelimit_counts c, after = {.prev = 0, .cur = 4, .elapsed = 0.0};
	char id[32];
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "key:%d:read", i);
		ratelimit_lease_store(id, 2000, 60, 0.0, 4, &after);
	}
	assert_true(ratelimit_lease_take("key:39:read", 2000, 60, 1.0, &c)); /* the newest is kept */
	ratelimit_lease_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fits_without_history),
		cmocka_unit_test(test_previous_window_decays),
		cmocka_unit_test(test_compute_allowed),
		cmocka_unit_test(test_retry_after_current_window_full),
		cmocka_unit_test(test_retry_after_previous_window_in_the_way),
		cmocka_unit_test(test_window_config),
		cmocka_unit_test(test_lease_size),
		cmocka_unit_test(test_lease_spends_exactly_what_was_granted),
		cmocka_unit_test(test_lease_is_per_id_limit_and_window),
		cmocka_unit_test(test_lease_dies_with_its_window),
		cmocka_unit_test(test_lease_table_full_replaces_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
