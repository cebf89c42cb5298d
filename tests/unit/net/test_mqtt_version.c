/* Unit tests of mqtt_broker_version (lib/net/mqtt_probe.c): $SYS/broker/version in
 * spec 001's "name/version" form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/arena.h"
#include "net/mqtt_probe.h"

static void expect_version(const char *raw, const char *want)
{
	struct arena *a = arena_new();
	char *got = mqtt_broker_version(a, raw);
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
	arena_free(a);
}

static void test_spec_form(void **state)
{
	(void)state;
	expect_version("mosquitto version 2.0.11", "mosquitto/2.0.11");
	expect_version("mosquitto version 2.0.15\n", "mosquitto/2.0.15");
	expect_version("Mosquitto version 1.6.9", "mosquitto/1.6.9");
	expect_version("fake-broker 3.1.1-only", "fake-broker/3.1.1-only");
	expect_version("emqx/5.3.0", "emqx/5.3.0");
}

static void test_unrecognised(void **state)
{
	(void)state;
	expect_version(NULL, NULL);
	expect_version("", NULL);
	expect_version("5.3.0", NULL);
	expect_version("mosquitto version", NULL);
	expect_version("some broker without a number", NULL);
	expect_version(" 2.0", NULL);
	expect_version("/2.0", NULL);
	expect_version("broker/", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_form),
		cmocka_unit_test(test_unrecognised),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
