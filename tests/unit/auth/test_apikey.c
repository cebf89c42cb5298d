/* Unit tests of lib/auth/apikey.c: base62 encoding (known values, padding, overflow), the
 * shape of generated secrets, the well-formedness check and the display prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "auth/apikey.h"
#include "core/arena.h"

static void test_base62_known_values(void **state)
{
	(void)state;
	char out[16];
	const unsigned char zero[] = {0}, sixty_one[] = {61}, sixty_two[] = {62}, big[] = {0x01, 0x00};
	assert_int_equal(base62_encode(zero, 1, out, 3), 0);
	assert_string_equal(out, "000");
	assert_int_equal(base62_encode(sixty_one, 1, out, 2), 0);
	assert_string_equal(out, "0z");
	assert_int_equal(base62_encode(sixty_two, 1, out, 2), 0);
	assert_string_equal(out, "10");
	/* 256 = 4*62 + 8 */
	assert_int_equal(base62_encode(big, 2, out, 2), 0);
	assert_string_equal(out, "48");
	const unsigned char ff[] = {0xff, 0xff};
	/* 65535 = 17*62^2 + 3*62 + 1 -> "H31" */
	assert_int_equal(base62_encode(ff, 2, out, 3), 0);
	assert_string_equal(out, "H31");
	assert_int_equal(base62_encode(ff, 2, out, 2), -1); /* does not fit */
}

static void test_base62_32_bytes_fit_43_digits(void **state)
{
	(void)state;
	unsigned char max[32];
	memset(max, 0xff, sizeof(max));
	char out[APIKEY_BODY_LEN + 1];
	assert_int_equal(base62_encode(max, sizeof(max), out, APIKEY_BODY_LEN), 0);
	assert_int_equal(strlen(out), APIKEY_BODY_LEN);
	assert_int_equal(base62_encode(max, sizeof(max), out, APIKEY_BODY_LEN - 1), -1);
	unsigned char zero[32] = {0};
	assert_int_equal(base62_encode(zero, sizeof(zero), out, APIKEY_BODY_LEN), 0);
	assert_true(apikey_well_formed("sb_0000000000000000000000000000000000000000000", "sb_"));
}

static void test_generate(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	char *k1 = apikey_generate(a, APIKEY_PREFIX), *k2 = apikey_generate(a, APIKEY_PREFIX);
	assert_non_null(k1);
	assert_int_equal(strlen(k1), 3 + APIKEY_BODY_LEN);
	assert_true(apikey_well_formed(k1, APIKEY_PREFIX));
	assert_string_not_equal(k1, k2);
	for (const char *p = k1 + 3; *p; p++)
		assert_non_null(strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", *p));
	char *t = apikey_generate(a, ACCESS_TOKEN_PREFIX);
	assert_true(apikey_well_formed(t, ACCESS_TOKEN_PREFIX));
	assert_false(apikey_well_formed(t, APIKEY_PREFIX));
	assert_string_equal(apikey_display_prefix(a, k1, APIKEY_PREFIX), arena_strndup(a, k1, 11));
	assert_string_equal(apikey_display_prefix(a, "sb_ab", APIKEY_PREFIX), "sb_ab");
	arena_free(a);
}

static void test_well_formed(void **state)
{
	(void)state;
	const char *good = "sb_abcdefghijABCDEFGHIJ0123456789abcdefghijXYZ";
	assert_int_equal(strlen(good), 46);
	assert_true(apikey_well_formed(good, "sb_"));
	assert_false(apikey_well_formed(NULL, "sb_"));
	assert_false(apikey_well_formed("", "sb_"));
	assert_false(apikey_well_formed("sb_", "sb_"));
	assert_false(apikey_well_formed("sb_abcdefghijABCDEFGHIJ0123456789abcdefghijXY", "sb_"));   /* 42 */
	assert_false(apikey_well_formed("sb_abcdefghijABCDEFGHIJ0123456789abcdefghijXYZW", "sb_")); /* 44 */
	assert_false(apikey_well_formed("sb_abcdefghijABCDEFGHIJ0123456789abcdefghij-YZ", "sb_"));
	assert_false(apikey_well_formed("sk_abcdefghijABCDEFGHIJ0123456789abcdefghijXYZ", "sb_"));
	assert_false(apikey_well_formed("sb_abcdefghijABCDEFGHIJ0123456789abcdefghij YZ", "sb_"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base62_known_values),
		cmocka_unit_test(test_base62_32_bytes_fit_43_digits),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_well_formed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
