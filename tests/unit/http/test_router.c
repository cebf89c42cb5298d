/* Unit tests of lib/http/router.c: literal and {param} routes, captured parameters, 404 versus
 * 405 with its Allow list, HEAD as GET, and paths with empty or trailing segments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "http/request.h"
#include "http/router.h"

static int h_list(struct request *rq)
{
	(void)rq;
	return 200;
}
static int h_create(struct request *rq)
{
	(void)rq;
	return 201;
}
static int h_get(struct request *rq)
{
	(void)rq;
	return 200;
}
static int h_put(struct request *rq)
{
	(void)rq;
	return 200;
}
static int h_delete(struct request *rq)
{
	(void)rq;
	return 204;
}
static int h_me(struct request *rq)
{
	(void)rq;
	return 200;
}
static int h_event(struct request *rq)
{
	(void)rq;
	return 200;
}

static const struct route routes[] = {
	{"GET", "/api/v1/hooks", h_list, ROUTE_USER, BODY_NONE, NULL},
	{"POST", "/api/v1/hooks", h_create, ROUTE_USER, BODY_JSON, NULL},
	/* A literal listed before the parameter route wins for "me". */
	{"GET", "/api/v1/hooks/me", h_me, ROUTE_USER, BODY_NONE, NULL},
	{"GET", "/api/v1/hooks/{id}", h_get, ROUTE_USER, BODY_NONE, NULL},
	{"PUT", "/api/v1/hooks/{id}", h_put, ROUTE_USER, BODY_JSON, NULL},
	{"DELETE", "/api/v1/hooks/{id}", h_delete, ROUTE_USER, BODY_NONE, NULL},
	/* The same method twice for one path must appear once in Allow. */
	{"DELETE", "/api/v1/hooks/{other}", h_delete, ROUTE_USER, BODY_NONE, NULL},
	{"GET", "/api/v1/hooks/{id}/events/{event_id}", h_event, ROUTE_USER, BODY_NONE, NULL},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

struct fixture {
	struct arena *a;
	struct request rq;
	char allow[64];
};

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	f.a = arena_new();
	*state = &f;
	return f.a ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	arena_free(f->a);
	return 0;
}

/* Parses method + uri and runs the router over the table. */
static enum route_match match(struct fixture *f, const char *method, const char *uri)
{
	char m[32], u[256];
	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
	char *envp[] = {m, u, NULL};
	memset(&f->rq, 0, sizeof(f->rq));
	f->rq.arena = f->a;
	assert_int_equal(request_parse(&f->rq, envp), 0);
	memset(f->allow, 'X', sizeof(f->allow));
	return router_match(routes, NROUTES, &f->rq, f->allow, sizeof(f->allow));
}

static void test_literal_routes(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(match(f, "GET", "/api/v1/hooks"), ROUTE_FOUND);
	assert_ptr_equal(f->rq.route, &routes[0]);
	assert_int_equal(f->rq.nparams, 0);

	assert_int_equal(match(f, "POST", "/api/v1/hooks"), ROUTE_FOUND);
	assert_ptr_equal(f->rq.route, &routes[1]);

	assert_int_equal(match(f, "GET", "/api/v1/hooks/me"), ROUTE_FOUND);
	assert_ptr_equal(f->rq.route, &routes[2]);
	assert_int_equal(f->rq.nparams, 0);
}

static void test_params_captured(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(match(f, "PUT", "/api/v1/hooks/abc-123"), ROUTE_FOUND);
	assert_ptr_equal(f->rq.route, &routes[4]);
	assert_int_equal(f->rq.nparams, 1);
	assert_string_equal(f->rq.params[0].name, "id");
	assert_string_equal(request_param(&f->rq, "id"), "abc-123");

	assert_int_equal(match(f, "GET", "/api/v1/hooks/h%201/events/e9"), ROUTE_FOUND);
	assert_ptr_equal(f->rq.route, &routes[7]);
	assert_int_equal(f->rq.nparams, 2);
	assert_string_equal(request_param(&f->rq, "id"), "h 1"); /* decoded */
	assert_string_equal(request_param(&f->rq, "event_id"), "e9");
	assert_null(request_param(&f->rq, "other"));
}

static void test_not_found(void **state)
{
	struct fixture *f = *state;
	static const char *const uris[] = {
		"/",
		"/api",
		"/api/v1",
		"/api/v1/hook",
		"/api/v1/hooksx",
		"/api/v2/hooks",
		"/api/v1/hooks/1/events",
		"/api/v1/hooks/1/events/2/3",
		"/API/v1/hooks",
	};
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		if (match(f, "GET", uris[i]) != ROUTE_NOT_FOUND)
			fail_msg("GET %s matched", uris[i]);
		assert_int_equal(f->rq.nparams, 0);
		assert_null(f->rq.route);
	}
}

static void test_bad_method_allow(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(match(f, "DELETE", "/api/v1/hooks"), ROUTE_BAD_METHOD);
	assert_string_equal(f->allow, "GET, POST");
	assert_null(f->rq.route);
	assert_int_equal(f->rq.nparams, 0);

	assert_int_equal(match(f, "PATCH", "/api/v1/hooks/42"), ROUTE_BAD_METHOD);
	assert_string_equal(f->allow, "GET, PUT, DELETE");

	/* "me" also matches the {id} routes: their methods are allowed too, GET once. */
	assert_int_equal(match(f, "POST", "/api/v1/hooks/me"), ROUTE_BAD_METHOD);
	assert_string_equal(f->allow, "GET, PUT, DELETE");

	assert_int_equal(match(f, "POST", "/api/v1/hooks/1/events/2"), ROUTE_BAD_METHOD);
	assert_string_equal(f->allow, "GET");
}

static void test_allow_capacity(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(match(f, "PATCH", "/api/v1/hooks/42"), ROUTE_BAD_METHOD);
	char small[10];
	memset(small, 'X', sizeof(small));
	assert_int_equal(router_match(routes, NROUTES, &f->rq, small, sizeof(small)), ROUTE_BAD_METHOD);
	/* Whatever fits, always terminated, never past the cap. */
	assert_string_equal(small, "GET, PUT");
}

static void test_head_is_get(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(match(f, "HEAD", "/api/v1/hooks/7"), ROUTE_FOUND);
	assert_ptr_equal(f->rq.route, &routes[3]);
	assert_string_equal(request_param(&f->rq, "id"), "7");
	assert_string_equal(f->rq.method, "HEAD"); /* the request keeps its own method */

	assert_int_equal(match(f, "GET", "/api/v1/hooks/7"), ROUTE_FOUND);
	assert_ptr_equal(f->rq.route, &routes[3]);
}

static void test_methods_are_case_sensitive(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(match(f, "get", "/api/v1/hooks"), ROUTE_BAD_METHOD);
	assert_string_equal(f->allow, "GET, POST");
}

static void test_trailing_and_empty_segments(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(match(f, "GET", "/api/v1/hooks/"), ROUTE_FOUND);
	assert_ptr_equal(f->rq.route, &routes[0]);

	assert_int_equal(match(f, "GET", "//api//v1/hooks//5//"), ROUTE_FOUND);
	assert_ptr_equal(f->rq.route, &routes[3]);
	assert_string_equal(request_param(&f->rq, "id"), "5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_literal_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_params_captured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_method_allow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_is_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_methods_are_case_sensitive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trailing_and_empty_segments, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
