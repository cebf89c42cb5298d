/* Unit tests of the Arduino Cloud provider: found under its stored name and its URL
 * segment, its catalog entry and field rules, and the token exchange failing cleanly
 * (502, no token) when Arduino Cloud cannot be reached. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/validate.h"
#include "integrations/providers/arduino.h"
#include "integrations/providers/provider.h"

static void test_found_by_name_and_url_segment(void **state)
{
	(void)state;
	const struct provider *a = provider_find("arduino_cloud"), *b = provider_find("arduino-cloud");
	assert_non_null(a);
	assert_ptr_equal(a, b);
	assert_string_equal(a->name, "arduino_cloud");
	assert_int_equal(a->auth, PROVIDER_AUTH_CONFIG);
	assert_null(provider_find("arduino cloud"));
	assert_null(provider_find("arduino"));
}

static void test_catalog_entry(void **state)
{
	(void)state;
	struct json_object *e = provider_catalog_entry(provider_find("arduino-cloud")), *v, *fields;
	assert_true(json_object_object_get_ex(e, "url_segment", &v));
	assert_string_equal(json_object_get_string(v), "arduino-cloud");
	assert_true(json_object_object_get_ex(e, "config_fields", &fields));
	bool secret_seen = false;
	for (size_t i = 0; i < json_object_array_length(fields); i++) {
		struct json_object *f = json_object_array_get_idx(fields, i), *n, *s;
		json_object_object_get_ex(f, "name", &n);
		json_object_object_get_ex(f, "secret", &s);
		if (!strcmp(json_object_get_string(n), "client_secret"))
			secret_seen = json_object_get_boolean(s);
		else
			assert_false(json_object_get_boolean(s));
	}
	assert_true(secret_seen);
	json_object_put(e);
}

static int errors_of(const char *body, const char *field)
{
	const struct provider *p = provider_find("arduino_cloud");
	struct json_object *b = json_tokener_parse(body), *errors = NULL, *ignored;
	validate_object(b, p->config_fields, &errors);
	int has = errors && json_object_object_get_ex(errors, field, &ignored);
	int n = errors ? json_object_object_length(errors) : 0;
	json_object_put(errors);
	json_object_put(b);
	return field ? has : n;
}

static void test_field_rules(void **state)
{
	(void)state;
	assert_int_equal(errors_of("{\"client_id\":\"abc\",\"client_secret\":\"s\"}", NULL), 0);
	assert_int_equal(errors_of("{\"client_id\":\"abc\"}", NULL), 0); /* keeps the stored secret */
	assert_true(errors_of("{\"client_secret\":\"s\"}", "client_id"));
	assert_true(errors_of("{\"client_id\":\"\",\"client_secret\":\"s\"}", "client_id"));
	assert_true(errors_of("{\"client_id\":\"a\\u0001b\"}", "client_id"));
	assert_true(errors_of("{\"client_id\":\"a\",\"client_secret\":\"\"}", "client_secret"));
	char big[400];
	snprintf(big, sizeof(big), "{\"client_id\":\"a\",\"client_secret\":\"%0257d\"}", 0);
	assert_true(errors_of(big, "client_secret"));
	snprintf(big, sizeof(big), "{\"client_id\":\"%0129d\"}", 0);
	assert_true(errors_of(big, "client_id"));
	snprintf(big, sizeof(big), "{\"client_id\":\"%0128d\"}", 0);
	assert_int_equal(errors_of(big, NULL), 0);
}

static void test_exchange_unreachable_is_502(void **state)
{
	(void)state;
	setenv("ARDUINO_API_URL", "http://127.0.0.1:1", 1);
	setenv("SB_OUTBOUND_RETRIES", "0", 1);
	struct arena *a = arena_new();
	struct arduino_token t;
	assert_int_equal(arduino_exchange(a, "id", "secret", NULL, &t), ARDUINO_UNAVAILABLE);
	assert_int_equal(t.http_status, 502);
	assert_null(t.access_token);
	assert_non_null(t.reason);
	assert_null(strstr(t.reason, "secret"));
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found_by_name_and_url_segment),
		cmocka_unit_test(test_catalog_entry),
		cmocka_unit_test(test_field_rules),
		cmocka_unit_test(test_exchange_unreachable_is_502),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
