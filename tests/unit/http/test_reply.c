/* Unit tests of lib/http/reply.c: the exact JSON envelope of each helper (parsed back with
 * json-c), statuses, response headers (WWW-Authenticate, the cap) and reason phrases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "http/reply.h"
#include "http/request.h"

static struct arena *a;
static struct request rq;
static struct json_object *body; /* the parsed response of the current test */

static int setup(void **state)
{
	(void)state;
	a = arena_new();
	memset(&rq, 0, sizeof(rq));
	rq.arena = a;
	body = NULL;
	return a ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	json_object_put(body);
	arena_free(a);
	return 0;
}

/* Parses the response body (which must be exactly resp_len bytes of one JSON object). */
static struct json_object *parsed(void)
{
	assert_non_null(rq.resp_body);
	assert_int_equal(strlen(rq.resp_body), rq.resp_len);
	assert_string_equal(rq.resp_type, "application/json");
	json_object_put(body);
	body = json_tokener_parse(rq.resp_body);
	assert_non_null(body);
	assert_true(json_object_is_type(body, json_type_object));
	return body;
}

static struct json_object *member(struct json_object *o, const char *name)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, name, &v))
		fail_msg("no member \"%s\" in %s", name, json_object_to_json_string(o));
	return v;
}

static const char *header(const char *name)
{
	for (size_t i = 0; i < rq.nresp_headers; i++)
		if (!strcmp(rq.resp_headers[i].name, name))
			return rq.resp_headers[i].value;
	return NULL;
}

static void test_ok_with_data_and_message(void **state)
{
	(void)state;
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "id", json_object_new_string("abc"));
	json_object_object_add(d, "n", json_object_new_int(7));
	assert_int_equal(reply_ok(&rq, 201, d, "Created it"), 201);
	assert_int_equal(rq.status, 201);

	struct json_object *o = parsed();
	assert_int_equal(json_object_object_length(o), 3);
	assert_true(json_object_get_boolean(member(o, "success")));
	assert_true(json_object_is_type(member(o, "success"), json_type_boolean));
	struct json_object *data = member(o, "data");
	assert_int_equal(json_object_object_length(data), 2);
	assert_string_equal(json_object_get_string(member(data, "id")), "abc");
	assert_int_equal(json_object_get_int(member(data, "n")), 7);
	assert_string_equal(json_object_get_string(member(o, "message")), "Created it");
	assert_int_equal(rq.nresp_headers, 0);
}

static void test_ok_null_data_no_message(void **state)
{
	(void)state;
	assert_int_equal(reply_ok(&rq, 200, NULL, NULL), 200);
	struct json_object *o = parsed();
	assert_int_equal(json_object_object_length(o), 2);
	assert_true(json_object_get_boolean(member(o, "success")));
	assert_null(member(o, "data")); /* present, JSON null */
	assert_string_equal(rq.resp_body, "{\"success\":true,\"data\":null}");
}

static void test_ok_is_plain_and_keeps_slashes(void **state)
{
	(void)state;
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "url", json_object_new_string("https://x.example/a"));
	reply_ok(&rq, 200, d, NULL);
	assert_string_equal(rq.resp_body, "{\"success\":true,\"data\":{\"url\":\"https://x.example/a\"}}");
}

static void test_error_envelope(void **state)
{
	(void)state;
	assert_int_equal(reply_error(&rq, 404, "not_found", "No such \"thing\""), 404);
	assert_int_equal(rq.status, 404);
	struct json_object *o = parsed();
	assert_int_equal(json_object_object_length(o), 2);
	assert_false(json_object_get_boolean(member(o, "success")));
	assert_true(json_object_is_type(member(o, "success"), json_type_boolean));
	struct json_object *e = member(o, "error");
	assert_int_equal(json_object_object_length(e), 2);
	assert_string_equal(json_object_get_string(member(e, "code")), "not_found");
	assert_string_equal(json_object_get_string(member(e, "message")), "No such \"thing\"");
}

static void test_invalid_envelope(void **state)
{
	(void)state;
	struct json_object *fields = json_object_new_object();
	json_object_object_add(fields, "email", json_object_new_string("must be a valid email address"));
	json_object_object_add(fields, "name", json_object_new_string("is required"));
	assert_int_equal(reply_invalid(&rq, fields), 422);
	assert_int_equal(rq.status, 422);
	struct json_object *o = parsed();
	assert_false(json_object_get_boolean(member(o, "success")));
	struct json_object *e = member(o, "error");
	assert_int_equal(json_object_object_length(e), 3);
	assert_string_equal(json_object_get_string(member(e, "code")), "validation_failed");
	assert_string_equal(json_object_get_string(member(e, "message")), "One or more fields are invalid");
	struct json_object *f = member(e, "fields");
	assert_int_equal(json_object_object_length(f), 2);
	assert_string_equal(json_object_get_string(member(f, "email")), "must be a valid email address");
	assert_string_equal(json_object_get_string(member(f, "name")), "is required");
}

static void test_unauthorized_no_token(void **state)
{
	(void)state;
	assert_int_equal(reply_unauthorized(&rq, "Authentication required", 0), 401);
	assert_int_equal(rq.status, 401);
	assert_int_equal(rq.nresp_headers, 1);
	assert_string_equal(header("WWW-Authenticate"), "Bearer realm=\"switchboard\"");
	struct json_object *e = member(parsed(), "error");
	assert_string_equal(json_object_get_string(member(e, "code")), "unauthorized");
	assert_string_equal(json_object_get_string(member(e, "message")), "Authentication required");
}

static void test_unauthorized_bad_token(void **state)
{
	(void)state;
	assert_int_equal(reply_unauthorized(&rq, "The access token has expired", 1), 401);
	assert_int_equal(rq.nresp_headers, 1);
	assert_string_equal(header("WWW-Authenticate"), "Bearer realm=\"switchboard\", error=\"invalid_token\"");
	struct json_object *e = member(parsed(), "error");
	assert_string_equal(json_object_get_string(member(e, "code")), "unauthorized");
	assert_string_equal(json_object_get_string(member(e, "message")), "The access token has expired");
}

static void test_db_unavailable_and_internal(void **state)
{
	(void)state;
	assert_int_equal(reply_db_unavailable(&rq), 503);
	assert_string_equal(header("Retry-After"), "5");
	struct json_object *e = member(parsed(), "error");
	assert_string_equal(json_object_get_string(member(e, "code")), "service_unavailable");

	assert_int_equal(reply_internal(&rq), 500);
	assert_int_equal(rq.status, 500);
	e = member(parsed(), "error");
	assert_string_equal(json_object_get_string(member(e, "code")), "internal_error");
	assert_string_equal(json_object_get_string(member(e, "message")), "Internal error");
}

static void test_raw_and_json(void **state)
{
	(void)state;
	char src[] = "a\0b=c";
	assert_int_equal(reply_raw(&rq, 200, "text/plain", src, 5), 200);
	src[0] = 'X'; /* copied, not referenced */
	assert_string_equal(rq.resp_type, "text/plain");
	assert_int_equal(rq.resp_len, 5);
	assert_memory_equal(rq.resp_body, "a\0b=c", 5);
	assert_int_equal(rq.resp_body[5], '\0');

	struct json_object *arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_int(1));
	assert_int_equal(reply_json(&rq, 202, arr), 202);
	assert_int_equal(rq.status, 202);
	assert_string_equal(rq.resp_body, "[1]");
	assert_int_equal(rq.resp_len, 3);
	assert_string_equal(rq.resp_type, "application/json");
}

static void test_header_cap(void **state)
{
	(void)state;
	char name[32] = "X-Test", value[32];
	for (int i = 0; i < REQUEST_MAX_RESP_HEADERS + 3; i++) {
		snprintf(value, sizeof(value), "v%d", i);
		reply_header(&rq, name, value);
	}
	strcpy(name, "changed"); /* copied, not referenced */
	assert_int_equal(rq.nresp_headers, REQUEST_MAX_RESP_HEADERS);
	for (int i = 0; i < REQUEST_MAX_RESP_HEADERS; i++) {
		snprintf(value, sizeof(value), "v%d", i);
		assert_string_equal(rq.resp_headers[i].name, "X-Test");
		assert_string_equal(rq.resp_headers[i].value, value);
	}
	/* Past the cap a 401 still answers, without the header. */
	assert_int_equal(reply_unauthorized(&rq, "m", 0), 401);
	assert_int_equal(rq.nresp_headers, REQUEST_MAX_RESP_HEADERS);
	assert_null(header("WWW-Authenticate"));
}

static void test_reason(void **state)
{
	(void)state;
	static const struct {
		int code;
		const char *text;
	} cases[] = {
		{200, "OK"},
		{201, "Created"},
		{204, "No Content"},
		{400, "Bad Request"},
		{401, "Unauthorized"},
		{403, "Forbidden"},
		{404, "Not Found"},
		{405, "Method Not Allowed"},
		{409, "Conflict"},
		{411, "Length Required"},
		{413, "Content Too Large"},
		{414, "URI Too Long"},
		{415, "Unsupported Media Type"},
		{422, "Unprocessable Content"},
		{429, "Too Many Requests"},
		{500, "Internal Server Error"},
		{502, "Bad Gateway"},
		{503, "Service Unavailable"},
		{504, "Gateway Timeout"},
		{0, "Unknown"},
		{299, "Unknown"},
		{418, "Unknown"},
		{-1, "Unknown"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(reply_reason(cases[i].code), cases[i].text);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ok_with_data_and_message),
		T(test_ok_null_data_no_message),
		T(test_ok_is_plain_and_keeps_slashes),
		T(test_error_envelope),
		T(test_invalid_envelope),
		T(test_unauthorized_no_token),
		T(test_unauthorized_bad_token),
		T(test_db_unavailable_and_internal),
		T(test_raw_and_json),
		T(test_header_cap),
		T(test_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
