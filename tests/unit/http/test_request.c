/* Unit tests of lib/http/request.c: parsing FastCGI parameters into a struct request (method,
 * segments, query, headers, Content-Length, error statuses) and percent-decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/urlenc.h"
#include "http/request.h"

struct fixture {
	struct arena *a;
	struct request rq;
};

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	f.a = arena_new();
	f.rq.arena = f.a;
	*state = &f;
	return f.a ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	arena_free(f->a);
	return 0;
}

/* Parses envp into a fresh request of the fixture; returns request_parse's result. */
static int parse(struct fixture *f, char *const *envp)
{
	memset(&f->rq, 0, sizeof(f->rq));
	f->rq.arena = f->a;
	return request_parse(&f->rq, envp);
}

static void test_full_request(void **state)
{
	struct fixture *f = *state;
	char *envp[] = {
		"REQUEST_METHOD=GET",
		"REQUEST_URI=/api/v1/x%20y//z/?a=1&b=hello+world&c=%2F&&flag&d=",
		"REMOTE_ADDR=192.0.2.7",
		"SB_REQUEST_ID=req-123",
		"HTTP_USER_AGENT=curl/8.0",
		"HTTP_X_FORWARDED_FOR=198.51.100.1",
		"HTTP_AUTHORIZATION=Bearer abc",
		"CONTENT_TYPE=application/json",
		"CONTENT_LENGTH=42",
		"NOT_AN_ASSIGNMENT",
		"SERVER_NAME=ignored",
		NULL,
	};
	assert_int_equal(parse(f, envp), 0);
	struct request *rq = &f->rq;
	assert_string_equal(rq->method, "GET");
	assert_string_equal(rq->path, "/api/v1/x%20y//z/");
	assert_int_equal(rq->nsegments, 4);
	assert_string_equal(rq->segments[0], "api");
	assert_string_equal(rq->segments[1], "v1");
	assert_string_equal(rq->segments[2], "x y");
	assert_string_equal(rq->segments[3], "z");

	assert_int_equal(rq->nquery, 5);
	assert_string_equal(rq->query[0].name, "a");
	assert_string_equal(rq->query[0].value, "1");
	assert_string_equal(request_query(rq, "b"), "hello world");
	assert_string_equal(request_query(rq, "c"), "/");
	assert_string_equal(request_query(rq, "flag"), "");
	assert_string_equal(request_query(rq, "d"), "");
	assert_null(request_query(rq, "missing"));

	assert_string_equal(rq->remote_addr, "192.0.2.7");
	assert_string_equal(rq->request_id, "req-123");
	assert_string_equal(request_header(rq, "user-agent"), "curl/8.0");
	assert_string_equal(request_header(rq, "x-forwarded-for"), "198.51.100.1");
	assert_string_equal(request_header(rq, "authorization"), "Bearer abc");
	assert_string_equal(request_header(rq, "content-type"), "application/json");
	assert_null(request_header(rq, "server-name"));
	assert_null(request_header(rq, "User-Agent")); /* lookups use lower-case names */
	assert_int_equal(rq->nheaders, 4);
	assert_int_equal(rq->content_length, 42);
	assert_null(rq->user_id);
	assert_int_equal(rq->nparams, 0);
}

/* The strings are copied: the FastCGI library frees its own at the next accept. */
static void test_strings_are_copied(void **state)
{
	struct fixture *f = *state;
	char method[] = "REQUEST_METHOD=POST", uri[] = "REQUEST_URI=/a/b?k=v", ua[] = "HTTP_USER_AGENT=x";
	char *envp[] = {method, uri, ua, NULL};
	assert_int_equal(parse(f, envp), 0);
	memset(method, 'Z', sizeof(method) - 1);
	memset(uri, 'Z', sizeof(uri) - 1);
	memset(ua, 'Z', sizeof(ua) - 1);
	assert_string_equal(f->rq.method, "POST");
	assert_string_equal(f->rq.segments[1], "b");
	assert_string_equal(request_query(&f->rq, "k"), "v");
	assert_string_equal(request_header(&f->rq, "user-agent"), "x");
}

static void test_root_and_no_query(void **state)
{
	struct fixture *f = *state;
	char *root[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/", NULL};
	assert_int_equal(parse(f, root), 0);
	assert_int_equal(f->rq.nsegments, 0);
	assert_int_equal(f->rq.nquery, 0);
	assert_int_equal(f->rq.content_length, -1);

	char *empty_query[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/healthz?", NULL};
	assert_int_equal(parse(f, empty_query), 0);
	assert_int_equal(f->rq.nsegments, 1);
	assert_string_equal(f->rq.segments[0], "healthz");
	assert_int_equal(f->rq.nquery, 0);
}

static void test_content_length(void **state)
{
	struct fixture *f = *state;
	char *zero[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_LENGTH=0", NULL};
	assert_int_equal(parse(f, zero), 0);
	assert_int_equal(f->rq.content_length, 0);

	char *empty[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_LENGTH=", NULL};
	assert_int_equal(parse(f, empty), 0);
	assert_int_equal(f->rq.content_length, -1);

	char *absent[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/x", NULL};
	assert_int_equal(parse(f, absent), 0);
	assert_int_equal(f->rq.content_length, -1);

	static const char *const bad[] = {"-1", "12abc", "abc", "+5", " 5", "5 ", "0x10", "1.5"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char cl[64];
		snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%s", bad[i]);
		char *envp[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/x", cl, NULL};
		if (parse(f, envp) != 400)
			fail_msg("CONTENT_LENGTH=\"%s\" was accepted", bad[i]);
	}
}

static void test_malformed_escapes(void **state)
{
	struct fixture *f = *state;
	static const char *const uris[] = {
		"/a/%zz",  "/a/%4",  "/a/%",	 "/a/%00",    "/a/%4g/b", "/x?a=%zz",
		"/x?a=%4", "/x?%=1", "/x?a=%00", "/x?a%00=1", "/x?a=b%",
	};
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		char uri[128];
		snprintf(uri, sizeof(uri), "REQUEST_URI=%s", uris[i]);
		char *envp[] = {"REQUEST_METHOD=GET", uri, NULL};
		int rc = parse(f, envp);
		if (rc != 400)
			fail_msg("%s: got %d, want 400", uris[i], rc);
	}
}

static void test_segment_limit(void **state)
{
	struct fixture *f = *state;
	char uri[256] = "REQUEST_URI=";
	for (int i = 0; i < REQUEST_MAX_SEGMENTS; i++)
		strcat(uri, "/s");
	char *at_limit[] = {"REQUEST_METHOD=GET", uri, NULL};
	assert_int_equal(parse(f, at_limit), 0);
	assert_int_equal(f->rq.nsegments, REQUEST_MAX_SEGMENTS);

	strcat(uri, "/one-more");
	char *over[] = {"REQUEST_METHOD=GET", uri, NULL};
	assert_int_equal(parse(f, over), 414);
}

static void test_query_limit(void **state)
{
	struct fixture *f = *state;
	char uri[512] = "REQUEST_URI=/x?";
	for (int i = 0; i < REQUEST_MAX_QUERY; i++)
		sprintf(uri + strlen(uri), "k%d=%d&", i, i);
	char *at_limit[] = {"REQUEST_METHOD=GET", uri, NULL};
	assert_int_equal(parse(f, at_limit), 0);
	assert_int_equal(f->rq.nquery, REQUEST_MAX_QUERY);
	assert_string_equal(request_query(&f->rq, "k31"), "31");

	strcat(uri, "extra=1");
	char *over[] = {"REQUEST_METHOD=GET", uri, NULL};
	assert_int_equal(parse(f, over), 400);
}

static void test_request_line_errors(void **state)
{
	struct fixture *f = *state;
	char *no_uri[] = {"REQUEST_METHOD=GET", NULL};
	assert_int_equal(parse(f, no_uri), 400);
	char *no_method[] = {"REQUEST_URI=/x", NULL};
	assert_int_equal(parse(f, no_method), 400);
	char *empty_method[] = {"REQUEST_METHOD=", "REQUEST_URI=/x", NULL};
	assert_int_equal(parse(f, empty_method), 400);
	char *empty_uri[] = {"REQUEST_METHOD=GET", "REQUEST_URI=", NULL};
	assert_int_equal(parse(f, empty_uri), 400);
	char *relative[] = {"REQUEST_METHOD=GET", "REQUEST_URI=api/v1", NULL};
	assert_int_equal(parse(f, relative), 400);
	char *star[] = {"REQUEST_METHOD=OPTIONS", "REQUEST_URI=*", NULL};
	assert_int_equal(parse(f, star), 400);
	assert_int_equal(parse(f, NULL), 400);
}

static void test_is_json(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *ct;
		bool json;
	} cases[] = {
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"Application/JSON;charset=UTF-8", true},
		{"  application/json", true},
		{"application/json ; charset=utf-8", true},
		{"text/plain", false},
		{"application/jsonp", false},
		{"application/json-patch+json", false},
		{"application/x-www-form-urlencoded", false},
		{"application/jso", false},
		{"", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char ct[128];
		snprintf(ct, sizeof(ct), "CONTENT_TYPE=%s", cases[i].ct);
		char *envp[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/x", ct, NULL};
		assert_int_equal(parse(f, envp), 0);
		if (request_is_json(&f->rq) != cases[i].json)
			fail_msg("Content-Type \"%s\": want %s", cases[i].ct, cases[i].json ? "JSON" : "not JSON");
	}
	char *none[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/x", NULL};
	assert_int_equal(parse(f, none), 0);
	assert_false(request_is_json(&f->rq));
}

static void test_percent_decode(void **state)
{
	struct fixture *f = *state;
	struct arena *a = f->a;
	assert_string_equal(url_decode(a, "a%20b", 5, false), "a b");
	assert_string_equal(url_decode(a, "a+b", 3, false), "a+b");
	assert_string_equal(url_decode(a, "a+b", 3, true), "a b");
	assert_string_equal(url_decode(a, "%2B", 3, true), "+");
	assert_string_equal(url_decode(a, "%c3%A9", 6, false), "\xc3\xa9");
	assert_string_equal(url_decode(a, "%41", 3, false), "A");
	assert_string_equal(url_decode(a, "", 0, false), "");
	/* Only n bytes are read: the escape past n is not seen. */
	assert_string_equal(url_decode(a, "ab%41", 2, false), "ab");
	assert_null(url_decode(a, "ab%41", 4, false));

	assert_null(url_decode(a, "%", 1, false));
	assert_null(url_decode(a, "%4", 2, false));
	assert_null(url_decode(a, "x%zz", 4, false));
	assert_null(url_decode(a, "%g1", 3, false));
	assert_null(url_decode(a, "%00", 3, false));
	assert_null(url_decode(a, "a%00b", 5, true));
	assert_null(url_decode(a, "%-1", 3, false));
}

static void test_params_lookup(void **state)
{
	struct fixture *f = *state;
	f->rq.params[0].name = "id";
	f->rq.params[0].value = "42";
	f->rq.nparams = 1;
	assert_string_equal(request_param(&f->rq, "id"), "42");
	assert_null(request_param(&f->rq, "other"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strings_are_copied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_and_no_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_content_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segment_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_line_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_is_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_percent_decode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_params_lookup, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
