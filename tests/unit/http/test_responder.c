/* Unit tests of responder_dispatch (lib/http/dispatch.c): 404/405, the JSON body checks of a
 * route, field validation, Bearer authentication with our tokens, /healthz, handler contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/token.h"
#include "core/arena.h"
#include "core/validate.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/responder.h"
#include "http/router.h"

#define UUID   "0b7e5c1e-2f5d-4b7e-9c1a-3d2e4f5a6b7c"
#define SECRET "responder-test-secret-0123456789abcdef"

static int ran;			 /* handler calls in the current test */
static const char *extra_header; /* one more "HTTP_NAME=value" parameter, or NULL */

static int h_hello(struct request *rq)
{
	ran++;
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "hello", json_object_new_string("world"));
	return reply_ok(rq, 200, d, NULL);
}

static int h_create(struct request *rq)
{
	ran++;
	struct json_object *d = json_object_new_object(), *name;
	json_object_object_get_ex(rq->json, "name", &name);
	json_object_object_add(d, "name", json_object_get(name));
	return reply_ok(rq, 201, d, "created");
}

static int h_patch(struct request *rq)
{
	ran++;
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "id", json_object_new_string(request_param(rq, "id")));
	json_object_object_add(d, "had_body", json_object_new_boolean(rq->json != NULL));
	return reply_ok(rq, 200, d, NULL);
}

static int h_me(struct request *rq)
{
	ran++;
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "user_id", json_object_new_string(rq->user_id));
	return reply_ok(rq, 200, d, NULL);
}

static int h_no_reply(struct request *rq)
{
	(void)rq;
	ran++;
	return 200;
}

static int h_wrong_status(struct request *rq)
{
	ran++;
	reply_ok(rq, 200, NULL, NULL);
	return 201;
}

static const struct field item_fields[] = {
	{"name", FIELD_STRING, true, 1, 10, NULL},
	{"age", FIELD_INT, false, 0, 150, NULL},
	{NULL, FIELD_STRING, false, 0, 0, NULL},
};

static const struct route routes[] = {
	{"GET", "/api/v1/hello", h_hello, ROUTE_PUBLIC, BODY_NONE, NULL},
	{"DELETE", "/api/v1/hello", h_hello, ROUTE_PUBLIC, BODY_NONE, NULL},
	{"POST", "/api/v1/items", h_create, ROUTE_PUBLIC, BODY_JSON, item_fields},
	{"PATCH", "/api/v1/items/{id}", h_patch, ROUTE_PUBLIC, BODY_JSON_OPTIONAL, NULL},
	{"GET", "/api/v1/me", h_me, ROUTE_USER, BODY_NONE, NULL},
	{"GET", "/api/v1/no-reply", h_no_reply, ROUTE_PUBLIC, BODY_NONE, NULL},
	{"GET", "/api/v1/wrong-status", h_wrong_status, ROUTE_PUBLIC, BODY_NONE, NULL},
	{"GET", "/api/v1/scoped", h_me, ROUTE_USER, BODY_NONE, NULL, "admin"},
	{"POST", "/api/v1/oauth/token", h_hello, ROUTE_CLIENT, BODY_FORM, NULL, NULL, ERRORS_OAUTH},
};

static const struct app app = {"testgroup", routes, sizeof(routes) / sizeof(routes[0]), NULL};

static struct arena *a;
static struct request rq;
static struct json_object *resp;

static int setup(void **state)
{
	(void)state;
	a = arena_new();
	resp = NULL;
	ran = 0;
	extra_header = NULL;
	return a && !token_configure(SECRET, "switchboard", "switchboard-api", NULL, NULL, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	json_object_put(resp);
	arena_free(a);
	return 0;
}

/* Parses a request (headers optional, body of len bytes, len -1 for strlen) and
 * dispatches it; returns the status and leaves the parsed response in resp. */
static int dispatch_full(const char *method, const char *uri, const char *content_type, const char *body, long len,
			 const char *authorization)
{
	char *envp[10];
	size_t n = 0;
	envp[n++] = arena_printf(a, "REQUEST_METHOD=%s", method);
	envp[n++] = arena_printf(a, "REQUEST_URI=%s", uri);
	if (content_type)
		envp[n++] = arena_printf(a, "CONTENT_TYPE=%s", content_type);
	if (authorization)
		envp[n++] = arena_printf(a, "HTTP_AUTHORIZATION=%s", authorization);
	if (extra_header)
		envp[n++] = arena_strdup(a, extra_header);
	size_t blen = body ? (len < 0 ? strlen(body) : (size_t)len) : 0;
	envp[n++] = arena_printf(a, "CONTENT_LENGTH=%zu", blen);
	envp[n] = NULL;

	memset(&rq, 0, sizeof(rq));
	rq.arena = a;
	assert_int_equal(request_parse(&rq, envp), 0);
	if (body) {
		char *copy = arena_alloc(a, blen + 1);
		memcpy(copy, body, blen);
		rq.body = copy;
		rq.body_len = blen;
	}
	responder_dispatch(&app, &rq);
	assert_true(rq.status >= 200 && rq.status <= 599);
	json_object_put(resp);
	resp = json_tokener_parse(rq.resp_body);
	assert_non_null(resp);
	return rq.status;
}

static int dispatch(const char *method, const char *uri)
{
	return dispatch_full(method, uri, NULL, NULL, 0, NULL);
}

static int post_json(const char *body)
{
	return dispatch_full("POST", "/api/v1/items", "application/json", body, -1, NULL);
}

/* resp.<a>.<b> as a string ("" when the path is absent). */
static const char *get2(const char *a1, const char *b1)
{
	struct json_object *o, *v;
	if (!json_object_object_get_ex(resp, a1, &o) || !json_object_object_get_ex(o, b1, &v))
		return "";
	return json_object_get_string(v);
}

static const char *resp_header(const char *name)
{
	for (size_t i = 0; i < rq.nresp_headers; i++)
		if (!strcmp(rq.resp_headers[i].name, name))
			return rq.resp_headers[i].value;
	return NULL;
}

static void expect_error(int status, const char *code, const char *message)
{
	assert_int_equal(rq.status, status);
	struct json_object *ok;
	assert_true(json_object_object_get_ex(resp, "success", &ok));
	assert_false(json_object_get_boolean(ok));
	assert_string_equal(get2("error", "code"), code);
	if (message)
		assert_string_equal(get2("error", "message"), message);
	assert_int_equal(ran, 0);
}

static void test_not_found(void **state)
{
	(void)state;
	assert_int_equal(dispatch("GET", "/api/v1/nope"), 404);
	expect_error(404, "not_found", "No such route");
	assert_int_equal(dispatch("GET", "/"), 404);
	expect_error(404, "not_found", "No such route");
}

static void test_method_not_allowed(void **state)
{
	(void)state;
	assert_int_equal(dispatch("POST", "/api/v1/hello"), 405);
	expect_error(405, "method_not_allowed", "Method not allowed on this route");
	assert_string_equal(resp_header("Allow"), "GET, DELETE");
	assert_null(rq.route);
}

static void test_public_get_and_head(void **state)
{
	(void)state;
	assert_int_equal(dispatch("GET", "/api/v1/hello"), 200);
	assert_string_equal(get2("data", "hello"), "world");
	assert_int_equal(ran, 1);
	assert_int_equal(dispatch("HEAD", "/api/v1/hello/"), 200);
	assert_int_equal(ran, 2);
}

static void test_json_body_required(void **state)
{
	(void)state;
	assert_int_equal(dispatch_full("POST", "/api/v1/items", "application/json", NULL, 0, NULL), 400);
	expect_error(400, "malformed_json", "A JSON object body is required");
	assert_int_equal(post_json(""), 400);
	expect_error(400, "malformed_json", "A JSON object body is required");
}

static void test_json_content_type(void **state)
{
	(void)state;
	static const char *const types[] = {"text/plain", "application/x-www-form-urlencoded", "application/jsonx"};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		assert_int_equal(dispatch_full("POST", "/api/v1/items", types[i], "{\"name\":\"a\"}", -1, NULL), 415);
		expect_error(415, "unsupported_media_type", "Send the body as application/json");
	}
	assert_int_equal(dispatch_full("POST", "/api/v1/items", NULL, "{\"name\":\"a\"}", -1, NULL), 415);
	expect_error(415, "unsupported_media_type", NULL);

	assert_int_equal(
		dispatch_full("POST", "/api/v1/items", "application/json; charset=utf-8", "{\"name\":\"a\"}", -1, NULL),
		201);
	assert_int_equal(ran, 1);
}

static void test_malformed_json(void **state)
{
	(void)state;
	static const char *const bodies[] = {
		"{\"name\":",	      "{name:\"a\"}",	   "{\"name\":\"a\"", "{\"name\":\"a\"} x",
		"{\"name\":\"a\"}{}", "{\"name\":\"a\"},", "not json",	      "{\"name\":\"a\",}x",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		if (post_json(bodies[i]) != 400)
			fail_msg("body %s: got %d", bodies[i], rq.status);
		expect_error(400, "malformed_json", "The body is not valid JSON");
	}
	/* Deeper than the parser's limit. */
	char deep[200] = "{\"name\":\"a\",\"x\":";
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	for (int i = 0; i < 40; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	assert_int_equal(post_json(deep), 400);
	expect_error(400, "malformed_json", "The body is not valid JSON");
}

/* A NUL byte is not whitespace: "{...}\0" is not one JSON document. */
static void test_trailing_nul_rejected(void **state)
{
	(void)state;
	static const char body[] = "{\"name\":\"a\"}\0";
	assert_int_equal(dispatch_full("POST", "/api/v1/items", "application/json", body, sizeof(body) - 1, NULL), 400);
	expect_error(400, "malformed_json", "The body is not valid JSON");
}

static void test_trailing_whitespace_accepted(void **state)
{
	(void)state;
	assert_int_equal(post_json(" \t{\"name\":\"ann\"} \r\n\t"), 201);
	assert_int_equal(ran, 1);
	assert_string_equal(get2("data", "name"), "ann");
}

static void test_json_not_an_object(void **state)
{
	(void)state;
	static const char *const bodies[] = {"[1,2]", "[]", "\"text\"", "null"};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		if (post_json(bodies[i]) != 400)
			fail_msg("body %s: got %d", bodies[i], rq.status);
		expect_error(400, "malformed_json", NULL);
	}
	assert_int_equal(post_json("[1,2]"), 400);
	expect_error(400, "malformed_json", "The body must be a JSON object");
	assert_int_equal(post_json("123"), 400);
	expect_error(400, "malformed_json", NULL);
}

static void test_field_failures(void **state)
{
	(void)state;
	assert_int_equal(post_json("{\"age\":200}"), 422);
	expect_error(422, "validation_failed", "One or more fields are invalid");
	struct json_object *e, *fields, *v;
	assert_true(json_object_object_get_ex(resp, "error", &e));
	assert_true(json_object_object_get_ex(e, "fields", &fields));
	assert_int_equal(json_object_object_length(fields), 2);
	assert_true(json_object_object_get_ex(fields, "name", &v));
	assert_string_equal(json_object_get_string(v), "is required");
	assert_true(json_object_object_get_ex(fields, "age", &v));
	assert_string_equal(json_object_get_string(v), "must be between 0 and 150");
}

static void test_json_success(void **state)
{
	(void)state;
	assert_int_equal(post_json("{\"name\":\"ann\",\"age\":30}"), 201);
	assert_int_equal(ran, 1);
	assert_non_null(rq.json);
	assert_string_equal(get2("data", "name"), "ann");
	struct json_object *m;
	assert_true(json_object_object_get_ex(resp, "message", &m));
	assert_string_equal(json_object_get_string(m), "created");
}

/* A member the route's table does not declare is refused by name, with the others. */
static void test_json_unknown_member(void **state)
{
	(void)state;
	assert_int_equal(post_json("{\"name\":\"ann\",\"age\":300,\"extra\":[1]}"), 422);
	assert_int_equal(ran, 0);
	struct json_object *e, *fields, *v;
	assert_true(json_object_object_get_ex(resp, "error", &e));
	assert_true(json_object_object_get_ex(e, "fields", &fields));
	assert_int_equal(json_object_object_length(fields), 2);
	assert_true(json_object_object_get_ex(fields, "extra", &v));
	assert_string_equal(json_object_get_string(v), "unknown field");
	assert_true(json_object_object_get_ex(fields, "age", &v));
}

static void test_optional_body(void **state)
{
	(void)state;
	assert_int_equal(dispatch_full("PATCH", "/api/v1/items/i-9", NULL, NULL, 0, NULL), 200);
	assert_int_equal(ran, 1);
	assert_string_equal(get2("data", "id"), "i-9");
	assert_string_equal(get2("data", "had_body"), "false");

	assert_int_equal(dispatch_full("PATCH", "/api/v1/items/i-9", "application/json", "{}", -1, NULL), 200);
	assert_string_equal(get2("data", "had_body"), "true");
	/* The route declares no member at all: any member is unknown. */
	assert_int_equal(dispatch_full("PATCH", "/api/v1/items/i-9", "application/json", "{\"x\":1}", -1, NULL), 422);

	ran = 0;
	assert_int_equal(dispatch_full("PATCH", "/api/v1/items/i-9", "application/json", "{\"x\":", -1, NULL), 400);
	expect_error(400, "malformed_json", NULL);
	assert_int_equal(dispatch_full("PATCH", "/api/v1/items/i-9", "text/plain", "{}", -1, NULL), 415);
	expect_error(415, "unsupported_media_type", NULL);
}

static void test_user_route_without_token(void **state)
{
	(void)state;
	assert_int_equal(dispatch("GET", "/api/v1/me"), 401);
	expect_error(401, "unauthorized", "Authentication required");
	assert_string_equal(resp_header("WWW-Authenticate"), "Bearer realm=\"switchboard\"");
	assert_null(rq.user_id);

	assert_int_equal(dispatch_full("GET", "/api/v1/me", NULL, NULL, 0, ""), 401);
	expect_error(401, "unauthorized", "Authentication required");
}

static void test_user_route_bad_tokens(void **state)
{
	(void)state;
	char *expired, *not_uuid, *other_key;
	time_t now = time(NULL);
	assert_int_equal(token_issue(a, UUID, 60, now - 3600, &expired), 0);
	assert_int_equal(token_issue(a, "not-a-uuid", 900, now, &not_uuid), 0);
	assert_int_equal(token_configure("another-secret-0123456789abcdef012345", "switchboard", "switchboard-api",
					 NULL, NULL, NULL),
			 0);
	assert_int_equal(token_issue(a, UUID, 900, now, &other_key), 0);
	assert_int_equal(token_configure(SECRET, "switchboard", "switchboard-api", NULL, NULL, NULL), 0);

	static const char *const invalid = "Bearer realm=\"switchboard\", error=\"invalid_token\"";
	const struct {
		const char *header, *message;
	} cases[] = {
		{"Basic dXNlcjpwYXNz", "Use an Authorization: Bearer token"},
		{"Bearer ", "Use an Authorization: Bearer token"},
		{"Bearertoken", "Use an Authorization: Bearer token"},
		{"Bearer not.a.jwt", "The access token is malformed"},
		{arena_printf(a, "Bearer %s", expired), "The access token has expired"},
		{arena_printf(a, "Bearer %s", other_key), "The access token signature is invalid"},
		{arena_printf(a, "Bearer %s", not_uuid), "The access token claims are invalid"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(dispatch_full("GET", "/api/v1/me", NULL, NULL, 0, cases[i].header), 401);
		expect_error(401, "unauthorized", cases[i].message);
		assert_string_equal(resp_header("WWW-Authenticate"), invalid);
		assert_null(rq.user_id);
	}
}

static void test_user_route_with_token(void **state)
{
	(void)state;
	char *t;
	assert_int_equal(token_issue(a, UUID, 900, time(NULL), &t), 0);
	assert_int_equal(dispatch_full("GET", "/api/v1/me", NULL, NULL, 0, arena_printf(a, "Bearer %s", t)), 200);
	assert_int_equal(ran, 1);
	assert_string_equal(rq.user_id, UUID);
	assert_string_equal(get2("data", "user_id"), UUID);
	assert_null(resp_header("WWW-Authenticate"));

	/* The scheme is case-insensitive. */
	assert_int_equal(dispatch_full("GET", "/api/v1/me", NULL, NULL, 0, arena_printf(a, "bearer %s", t)), 200);
	assert_int_equal(ran, 2);
}

static void test_healthz(void **state)
{
	(void)state;
	assert_int_equal(dispatch("GET", "/healthz"), 200);
	assert_string_equal(get2("data", "group"), "testgroup");
	assert_string_equal(get2("data", "status"), "ok");
	struct json_object *ok;
	assert_true(json_object_object_get_ex(resp, "success", &ok));
	assert_true(json_object_get_boolean(ok));
	assert_int_equal(dispatch("HEAD", "/healthz"), 200);
	assert_int_equal(ran, 0);
	/* Only GET and HEAD, only at the root. */
	assert_int_equal(dispatch("POST", "/healthz"), 404);
	assert_int_equal(dispatch("GET", "/api/healthz"), 404);
}

static void test_handler_contract(void **state)
{
	(void)state;
	/* A handler that forgets to reply, or returns another status, becomes a 500. */
	assert_int_equal(dispatch("GET", "/api/v1/no-reply"), 500);
	assert_string_equal(get2("error", "code"), "internal_error");
	assert_int_equal(ran, 1);
	assert_int_equal(dispatch("GET", "/api/v1/wrong-status"), 500);
	assert_string_equal(get2("error", "code"), "internal_error");
	assert_int_equal(ran, 2);
}

/* resp.<name> as a string ("" when absent): the RFC 6749 error bodies. */
static const char *get1(const char *name)
{
	struct json_object *v;
	return json_object_object_get_ex(resp, name, &v) ? json_object_get_string(v) : "";
}

static void test_jwt_has_every_scope(void **state)
{
	(void)state;
	char *tok;
	assert_int_equal(token_issue(a, UUID, 300, time(NULL), &tok), 0);
	assert_int_equal(dispatch_full("GET", "/api/v1/scoped", NULL, NULL, 0, arena_printf(a, "Bearer %s", tok)), 200);
	assert_int_equal(ran, 1);
	assert_null(resp_header("RateLimit-Limit")); /* a user's own JWT is not limited here */
}

static void test_credentials_in_url_are_refused(void **state)
{
	(void)state;
	assert_int_equal(dispatch("GET", "/api/v1/hello?api_key=sb_x"), 400);
	expect_error(400, "credentials_in_url", NULL);
	assert_int_equal(dispatch("GET", "/api/v1/me?ACCESS_TOKEN=abc"), 400);
	expect_error(400, "credentials_in_url", NULL);
	assert_int_equal(dispatch("GET", "/api/v1/hello?page=2"), 200);
	ran = 0;
	/* The OAuth routes answer in RFC 6749 form. */
	assert_int_equal(dispatch_full("POST", "/api/v1/oauth/token?client_secret=x",
				       "application/x-www-form-urlencoded", "grant_type=client_credentials", -1, NULL),
			 400);
	assert_string_equal(get1("error"), "invalid_request");
	assert_int_equal(ran, 0);
}

static void test_malformed_api_key_needs_no_database(void **state)
{
	(void)state;
	extra_header = "HTTP_X_API_KEY=sb_short";
	assert_int_equal(dispatch("GET", "/api/v1/me"), 401);
	expect_error(401, "unauthorized", "The API key is invalid");
	assert_non_null(strstr(resp_header("WWW-Authenticate"), "invalid_token"));
	extra_header = NULL;
	assert_int_equal(dispatch_full("GET", "/api/v1/me", NULL, NULL, 0, "Bearer sbat_nope"), 401);
	expect_error(401, "unauthorized", "The access token is invalid");
	/* Both a key and an Authorization header: refused, neither is tried. */
	extra_header = "HTTP_X_API_KEY=sb_0000000000000000000000000000000000000000000";
	assert_int_equal(dispatch_full("GET", "/api/v1/me", NULL, NULL, 0, "Bearer abc"), 401);
	expect_error(401, "unauthorized", NULL);
}

static void test_client_route_errors(void **state)
{
	(void)state;
	const char *form = "application/x-www-form-urlencoded";
	/* No client credentials at all. */
	assert_int_equal(dispatch_full("POST", "/api/v1/oauth/token", form, "grant_type=client_credentials", -1, NULL),
			 401);
	assert_string_equal(get1("error"), "invalid_client");
	assert_non_null(strstr(resp_header("WWW-Authenticate"), "Basic"));
	/* Malformed Basic. */
	assert_int_equal(dispatch_full("POST", "/api/v1/oauth/token", form, "grant_type=x", -1, "Basic !!"), 401);
	assert_string_equal(get1("error"), "invalid_client");
	/* Two methods at once. */
	assert_int_equal(
		dispatch_full("POST", "/api/v1/oauth/token", form, "client_secret=s", -1, "Basic aWQ6c2VjcmV0"), 400);
	assert_string_equal(get1("error"), "invalid_request");
	/* Not a form. */
	assert_int_equal(dispatch_full("POST", "/api/v1/oauth/token", "application/json", "{}", -1, NULL), 415);
	assert_string_equal(get1("error"), "invalid_request");
	/* A repeated parameter. */
	assert_int_equal(dispatch_full("POST", "/api/v1/oauth/token", form, "a=1&a=2", -1, NULL), 400);
	assert_string_equal(get1("error"), "invalid_request");
	assert_int_equal(ran, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_not_found),
		T(test_method_not_allowed),
		T(test_public_get_and_head),
		T(test_json_body_required),
		T(test_json_content_type),
		T(test_malformed_json),
		T(test_trailing_nul_rejected),
		T(test_trailing_whitespace_accepted),
		T(test_json_not_an_object),
		T(test_field_failures),
		T(test_json_success), T(test_json_unknown_member),
		T(test_optional_body),
		T(test_user_route_without_token),
		T(test_user_route_bad_tokens),
		T(test_user_route_with_token),
		T(test_healthz),
		T(test_handler_contract),
		T(test_jwt_has_every_scope),
		T(test_credentials_in_url_are_refused),
		T(test_malformed_api_key_needs_no_database),
		T(test_client_route_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
