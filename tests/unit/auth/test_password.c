/* Unit tests of lib/auth/password.c: argon2id hashes verify only the password they were made
 * from, and verify(NULL) is always false. SB_ARGON2_MEMORY_KIB=1024 keeps them fast. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "core/arena.h"

static struct arena *a;

static int setup(void **state)
{
	(void)state;
	setenv("SB_ARGON2_MEMORY_KIB", "1024", 1);
	a = arena_new();
	return a ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	arena_free(a);
	return 0;
}

static bool verify(const char *encoded, const char *pw)
{
	return password_verify(encoded, pw, strlen(pw));
}

static void test_hash_then_verify(void **state)
{
	(void)state;
	char *h = password_hash(a, "correct horse", 13);
	assert_non_null(h);
	assert_int_equal(strncmp(h, "$argon2id$v=19$m=1024,t=2,p=1$", 30), 0);
	assert_true(verify(h, "correct horse"));

	assert_false(verify(h, "correct hors"));
	assert_false(verify(h, "correct horsf"));
	assert_false(verify(h, "Correct horse"));
	assert_false(verify(h, "correct horse "));
	assert_false(verify(h, ""));
}

static void test_salted(void **state)
{
	(void)state;
	char *h1 = password_hash(a, "same", 4), *h2 = password_hash(a, "same", 4);
	assert_non_null(h1);
	assert_non_null(h2);
	assert_string_not_equal(h1, h2);
	assert_true(verify(h1, "same"));
	assert_true(verify(h2, "same"));
}

static void test_length_is_explicit(void **state)
{
	(void)state;
	char *h = password_hash(a, "a\0b", 3);
	assert_non_null(h);
	assert_true(password_verify(h, "a\0b", 3));
	assert_false(password_verify(h, "a\0c", 3));
	assert_false(password_verify(h, "a", 1));

	char *empty = password_hash(a, "", 0);
	assert_non_null(empty);
	assert_true(password_verify(empty, "", 0));
	assert_false(password_verify(empty, "x", 1));
}

static void test_verify_without_hash(void **state)
{
	(void)state;
	assert_false(verify(NULL, "anything"));
	assert_false(verify(NULL, ""));
	/* Not even the password the dummy hash is built from. */
	assert_false(verify(NULL, "switchboard-dummy-password"));
	assert_false(verify(NULL, "anything"));
}

static void test_verify_garbage_hash(void **state)
{
	(void)state;
	assert_false(verify("", "x"));
	assert_false(verify("not a hash", "x"));
	assert_false(verify("$argon2id$v=19$m=1024,t=2,p=1$AAAA$AAAA", "x"));
	char *h = password_hash(a, "pw", 2);
	assert_non_null(h);
	h[strlen(h) - 2] = h[strlen(h) - 2] == 'A' ? 'B' : 'A';
	assert_false(verify(h, "pw"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hash_then_verify),    T(test_salted), T(test_length_is_explicit), T(test_verify_without_hash),
		T(test_verify_garbage_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
