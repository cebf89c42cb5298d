/* Unit tests of the parts of the webhook stores that need no database: what an attempt
 * means for its delivery, the settings read from a body (one table for create and
 * update), the events array text, the log filter and the publishable event types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "webhooks/delivery_store.h"
#include "webhooks/event_store.h"
#include "webhooks/webhook.h"
#include "webhooks/webhook_store.h"

static struct arena *a;

static int setup(void **state)
{
	(void)state;
	a = arena_new();
	unsetenv("SB_WEBHOOK_RETRY_SCHEDULE");
	return a ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	arena_free(a);
	return 0;
}

static void test_outcomes(void **state)
{
	(void)state;
	struct webhook_job job = {.attempt = 1, .retry_count = 2};
	struct webhook_attempt at = {.status = 204, .retry_after = -1};
	assert_int_equal(webhook_outcome_of(&job, &at), WEBHOOK_DELIVERED);
	assert_null(webhook_outcome_error(a, &at, WEBHOOK_DELIVERED));
	assert_int_equal(webhook_next_delay(&job, &at, WEBHOOK_DELIVERED), 0);
	at.status = 410;
	assert_int_equal(webhook_outcome_of(&job, &at), WEBHOOK_GONE);
	at.status = 500;
	assert_int_equal(webhook_outcome_of(&job, &at), WEBHOOK_RETRY);
	assert_string_equal(webhook_outcome_error(a, &at, WEBHOOK_RETRY), "receiver answered HTTP 500");
	assert_in_range(webhook_next_delay(&job, &at, WEBHOOK_RETRY), 4, 6); /* 5 s ±20% */
	job.attempt = 3; /* the first attempt and both retries are used up */
	assert_int_equal(webhook_outcome_of(&job, &at), WEBHOOK_FAILED);
	assert_string_equal(webhook_outcome_status[WEBHOOK_FAILED], "failed");
	assert_string_equal(webhook_outcome_status[WEBHOOK_RETRY], "pending");
	/* Retry-After of a 429 is honoured when longer, within a day. */
	job.attempt = 1;
	at.status = 429;
	at.retry_after = 120;
	assert_int_equal(webhook_next_delay(&job, &at, WEBHOOK_RETRY), 120);
	at.retry_after = 10L * 86400;
	assert_int_equal(webhook_next_delay(&job, &at, WEBHOOK_RETRY), 86400);
	at.status = 0;
	at.error = "timed out";
	assert_string_equal(webhook_outcome_error(a, &at, WEBHOOK_RETRY), "timed out");
	at.error = NULL;
	assert_string_equal(webhook_outcome_error(a, &at, WEBHOOK_RETRY), "no response");
}

static void test_settings_from_json(void **state)
{
	(void)state;
	struct json_object *body = json_tokener_parse("{\"name\":\"n\",\"events\":[\"a.b\",\"c.*\"],\"retry_count\":0,"
						      "\"is_active\":false,\"timeout_seconds\":null}");
	struct webhook_settings s;
	webhook_settings_from_json(a, body, &s);
	assert_string_equal(s.v[WEBHOOK_NAME], "n");
	assert_null(s.v[WEBHOOK_URL]);
	assert_string_equal(s.v[WEBHOOK_EVENTS], "{\"a.b\",\"c.*\"}");
	assert_string_equal(s.v[WEBHOOK_RETRY_COUNT], "0");
	assert_null(s.v[WEBHOOK_TIMEOUT_SECONDS]); /* null: not given */
	assert_string_equal(s.v[WEBHOOK_IS_ACTIVE], "false");
	json_object_put(body);
	body = json_tokener_parse("{}");
	webhook_settings_from_json(a, body, &s);
	for (int i = 0; i < WEBHOOK_SETTING__MAX; i++)
		assert_null(s.v[i]);
	json_object_put(body);
	assert_null(webhook_events_array(a, NULL));
	struct json_object *one = json_tokener_parse("[\"*\"]");
	assert_string_equal(webhook_events_array(a, one), "{\"*\"}");
	json_object_put(one);
}

static void test_filters_and_types(void **state)
{
	(void)state;
	assert_null(delivery_status_filter_check(NULL));
	assert_null(delivery_status_filter_check("pending"));
	assert_null(delivery_status_filter_check("delivered"));
	assert_null(delivery_status_filter_check("failed"));
	assert_non_null(delivery_status_filter_check("gone"));
	assert_non_null(delivery_status_filter_check(""));
	assert_null(event_store_type_check("ticket.created"));
	assert_non_null(event_store_type_check("integration.connected"));
	assert_non_null(event_store_type_check("webhook.test"));
	assert_non_null(event_store_type_check("Ticket"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_outcomes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_from_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters_and_types, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
