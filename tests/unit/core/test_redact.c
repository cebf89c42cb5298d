/* Unit tests of lib/core/redact.c (what the request log keeps of a body) and of
 * validate_rfc3339 (the from/to filters of the log and audit lists). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/arena.h"
#include "core/redact.h"
#include "core/validate.h"

static void test_secret_names(void **state)
{
	(void)state;
	const char *secret[] = {"password",	"new_password", "client_secret", "refresh_token", "access-token",
				"Authorization", "code",	 "code_verifier", "X-API-Key",	  "credentials",
				"private_key",	 "Cookie",	 "session_id",	  "key",	  "client_assertion"};
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		assert_true(redact_is_secret_name(secret[i]));
	const char *plain[] = {"name", "email", "grant_type", "client_id", "scopes", "url", "events", "codes_list"};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		assert_false(redact_is_secret_name(plain[i]));
}

static void test_json_body_redacted_at_depth(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *body = "{\"name\":\"n\",\"password\":\"hunter2\",\"config\":{\"broker\":\"x\",\"credentials\":"
			   "{\"user\":\"u\"}},\"list\":[{\"token\":1},{\"ok\":true}]}  \n";
	bool cut;
	const char *out = redact_body(a, body, strlen(body), true, REDACT_BODY_MAX, &cut);
	assert_false(cut);
	assert_string_equal(out, "{\"name\":\"n\",\"password\":\"[REDACTED]\",\"config\":{\"broker\":\"x\","
				 "\"credentials\":\"[REDACTED]\"},\"list\":[{\"token\":\"[REDACTED]\"},{\"ok\":true}]}");
	assert_null(strstr(out, "hunter2"));
	out = redact_body(a, "{\"password\":\"hunter2\"", 21, true, REDACT_BODY_MAX, &cut);
	assert_string_equal(out, "[21 bytes of unparsable JSON not logged]");
	assert_null(redact_body(a, "", 0, true, REDACT_BODY_MAX, &cut));
	arena_free(a);
}

static void test_form_body_redacted(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *body = "grant_type=authorization_code&code=abc&client_secret=s%20x&cl%69ent_secret=y&"
			   "redirect_uri=https%3A%2F%2Fa&=&refresh_token=";
	bool cut;
	const char *out = redact_body(a, body, strlen(body), false, REDACT_BODY_MAX, &cut);
	assert_string_equal(out, "grant_type=authorization_code&code=[REDACTED]&client_secret=[REDACTED]&"
				 "cl%69ent_secret=[REDACTED]&redirect_uri=https%3A%2F%2Fa&=&refresh_token=[REDACTED]");
	arena_free(a);
}

static void test_body_capped_at_utf8_boundary(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	char body[64];
	strcpy(body, "{\"n\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}"); /* {"n":"ééé"} */
	bool cut;
	const char *out = redact_body(a, body, strlen(body), true, 8, &cut);
	assert_true(cut);
	assert_string_equal(out, "{\"n\":\"\xc3\xa9"); /* 8 bytes would split the second é */
	out = redact_body(a, "a=\xff", 3, false, 8, &cut);
	assert_string_equal(out, "[3 bytes of a form that is not UTF-8 text not logged]");
	arena_free(a);
}

static void test_rfc3339(void **state)
{
	(void)state;
	const char *ok[] = {"2026-01-15T10:30:00Z", "2024-02-29T00:00:00.123456789+05:30", "2026-12-31t23:59:59-00:00"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_null(validate_rfc3339(ok[i]));
	const char *bad[] = {"2026-02-29T00:00:00Z", "2026-01-15",		 "2026-01-15T10:30:00",
			     "2026-13-01T00:00:00Z", "2026-01-15T24:00:00Z",	 "2026-01-15T10:30:00.Z",
			     "2026-01-15T10:30:00+5", "2026-01-15 10:30:00Z",	 "yesterday",
			     "",		     "2026-01-15T10:30:00Zjunk", "2026-04-31T00:00:00Z"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_non_null(validate_rfc3339(bad[i]));
	assert_non_null(validate_rfc3339(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_names),	     cmocka_unit_test(test_json_body_redacted_at_depth),
		cmocka_unit_test(test_form_body_redacted),   cmocka_unit_test(test_body_capped_at_utf8_boundary),
		cmocka_unit_test(test_rfc3339),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
