/* Unit tests of lib/net/azblob.c: Shared Key signatures against vectors computed
 * independently (Python's hmac over the string to sign of the Azure docs), and the
 * field checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/arena.h"
#include "net/azblob.h"

#define KEY  "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
#define DATE "Wed, 02 Dec 2026 17:00:00 GMT"

static void test_put_blob_signature(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *sig = azblob_sign(a, KEY, "PUT", 11, "text/plain", DATE, "x-ms-blob-type:BlockBlob\n", "acct",
				      "/cont/a/b.txt", "");
	assert_string_equal(sig, "YV8aLxEzk11mnXYeV9c2bCKtOjMO4Y5je/w0jH3suUo=");
	arena_free(a);
}

static void test_container_signature_zero_length(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *sig = azblob_sign(a, KEY, "GET", 0, NULL, DATE, "", "acct", "/cont", "\nrestype:container");
	assert_string_equal(sig, "+KuANgNrphIrDjYlakCcPGoVyvFvvCO0T63nx6tHeWk=");
	assert_null(azblob_sign(a, "not base64!", "GET", 0, NULL, DATE, "", "acct", "/cont", ""));
	arena_free(a);
}

static void test_checks(void **state)
{
	(void)state;
	assert_null(azblob_check_account("acmeexports1"));
	assert_non_null(azblob_check_account("Acme"));
	assert_non_null(azblob_check_account("ab"));
	assert_null(azblob_check_container("sb-exports"));
	assert_non_null(azblob_check_container("sb--exports"));
	assert_non_null(azblob_check_container("-sb"));
	assert_null(azblob_check_key(KEY));
	assert_non_null(azblob_check_key("c2hvcnQ="));
	assert_non_null(azblob_check_key("not base64 at all!"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_blob_signature),
		cmocka_unit_test(test_container_signature_zero_length),
		cmocka_unit_test(test_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
