/* Unit tests of lib/net/s3.c: object URLs in both addressing styles, the field checks,
 * and the user-facing reason of a failed call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/arena.h"
#include "net/s3.h"

static void test_urls(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct s3_target t = {.endpoint = "https://s3.eu-central-1.amazonaws.com", .region = "eu-central-1",
			      .bucket = "acme-exports"};
	assert_string_equal(s3_url(a, &t, "x/y.csv"), "https://s3.eu-central-1.amazonaws.com/acme-exports/x/y.csv");
	assert_string_equal(s3_url(a, &t, NULL), "https://s3.eu-central-1.amazonaws.com/acme-exports");
	t.virtual_host = true;
	assert_string_equal(s3_url(a, &t, "x/y.csv"), "https://acme-exports.s3.eu-central-1.amazonaws.com/x/y.csv");
	t.endpoint = "http://127.0.0.1:9000/";
	assert_string_equal(s3_url(a, &t, "k"), "http://acme-exports.127.0.0.1:9000/k");
	t.virtual_host = false;
	assert_string_equal(s3_url(a, &t, "k"), "http://127.0.0.1:9000/acme-exports/k");
	t.endpoint = "https://host/with/path";
	assert_null(s3_url(a, &t, "k"));
	t.endpoint = "https://user:pw@host";
	assert_null(s3_url(a, &t, "k"));
	arena_free(a);
}

static void test_checks(void **state)
{
	(void)state;
	assert_null(s3_check_endpoint("https://s3.amazonaws.com", false));
	assert_null(s3_check_endpoint("https://minio.example.org:9000/", false));
	assert_non_null(s3_check_endpoint("http://minio.example.org", false));
	assert_null(s3_check_endpoint("http://minio.example.org", true));
	assert_non_null(s3_check_endpoint("ftp://minio.example.org", true));
	assert_non_null(s3_check_endpoint("https://h/p", false));
	assert_non_null(s3_check_endpoint("https://h/?q=1", false));
	assert_null(s3_check_bucket("acme-exports.2026"));
	assert_non_null(s3_check_bucket("ab"));
	assert_non_null(s3_check_bucket("Acme"));
	assert_non_null(s3_check_bucket("-acme"));
	assert_non_null(s3_check_bucket("a..b"));
	assert_null(s3_check_region("eu-central-1"));
	assert_non_null(s3_check_region("EU central"));
	assert_non_null(s3_check_region(""));
	assert_null(s3_check_key(""));
	assert_null(s3_check_key("team/exports/2026_12.csv"));
	assert_non_null(s3_check_key("/abs"));
	assert_non_null(s3_check_key("a//b"));
	assert_non_null(s3_check_key("../up"));
	assert_non_null(s3_check_key("sp ace"));
	assert_non_null(s3_check_key("q?x"));
	assert_non_null(s3_check_key("pct%41"));
}

static void test_failure_text(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct outbound_response r = {.error = OUTBOUND_OK, .status = 403};
	r.body = "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request "
		 "signature we calculated does not match</Message></Error>";
	assert_string_equal(s3_failure(a, &r), "the storage service answered 403 SignatureDoesNotMatch: The request "
					       "signature we calculated does not match");
	r.body = "";
	r.status = 500;
	assert_string_equal(s3_failure(a, &r), "the storage service answered 500");
	r.error = OUTBOUND_TIMEOUT;
	r.message = "the service did not answer in time";
	assert_string_equal(s3_failure(a, &r), "the service did not answer in time");
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_failure_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
