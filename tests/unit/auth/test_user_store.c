/* Unit tests of the pure part of lib/auth/user_store.c: the public view of an account
 * (exact members and order; no password hash; email may be null). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>

#include "auth/user_store.h"

static void test_public_view(void **state)
{
	(void)state;
	struct user u = {"0b9c4a3e-6f7d-4c1e-9a55-3d2f1b0e8c71",
			 "ada@example.com",
			 "Ada",
			 "2026-01-02T03:04:05Z",
			 "2026-02-03T04:05:06Z",
			 1770091506,
			 "$argon2id$v=19$secret"};
	struct json_object *o = user_to_json(&u);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"id\":\"0b9c4a3e-6f7d-4c1e-9a55-3d2f1b0e8c71\",\"email\":\"ada@example.com\","
			    "\"name\":\"Ada\",\"created_at\":\"2026-01-02T03:04:05Z\","
			    "\"updated_at\":\"2026-02-03T04:05:06Z\"}");
	json_object_put(o);
}

static void test_no_email_is_null(void **state)
{
	(void)state;
	struct user u = {"id", NULL, "No Mail", "c", "u", 0, NULL};
	struct json_object *o = user_to_json(&u), *email = NULL;
	assert_true(json_object_object_get_ex(o, "email", &email));
	assert_null(email);
	assert_false(json_object_object_get_ex(o, "password_hash", NULL));
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_view),
		cmocka_unit_test(test_no_email_is_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
