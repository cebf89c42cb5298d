/* Unit tests of the SMS text of a notification (notify_send.h): one line of at most 160
 * characters for every kind, even with long event data, and none of the event's other
 * fields (which the email's details carry) in it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "integrations/notify_send.h"

static void check(const char *kind, struct json_object *data, const char *want)
{
	struct arena *a = arena_new();
	const char *t = notify_compose_sms(a, kind, data);
	assert_non_null(t);
	assert_true(strlen(t) <= 160);
	assert_null(strchr(t, '\n'));
	assert_null(strstr(t, "hunter2"));
	assert_non_null(strstr(t, want));
	arena_free(a);
}

static void test_every_kind_is_short(void **state)
{
	(void)state;
	char longname[400];
	memset(longname, 'p', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "provider", json_object_new_string(longname));
	json_object_object_add(d, "webhook_id", json_object_new_string(longname));
	json_object_object_add(d, "id", json_object_new_string(longname));
	json_object_object_add(d, "password", json_object_new_string("hunter2"));
	check("integration.health_error", d, "is error");
	check("integration.health_expired", d, "is expired");
	check("webhook.disabled", d, "was disabled");
	check("export.completed", d, "is ready");
	check(longname, d, "Switchboard: ");
	json_object_put(d);
}

static void test_names_the_provider(void **state)
{
	(void)state;
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "provider", json_object_new_string("mqtt"));
	check("integration.health_error", d, "your mqtt integration is error");
	json_object_put(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_is_short),
		cmocka_unit_test(test_names_the_provider),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
