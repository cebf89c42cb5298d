/* JSON body validation as a route declares it: the responder's body checks (syntax,
 * depth, trailing bytes, an object) and a field table with every field type, bounds
 * and checks, through responder_dispatch on a public route. */
#include <json-c/json.h>

#include "core/validate.h"
#include "fuzz.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/responder.h"
#include "http/router.h"

static const struct field fields[] = {
	{"name", FIELD_STRING, true, 1, 100, check_not_blank},
	{"email", FIELD_STRING, false, 3, 254, check_email},
	{"count", FIELD_INT, false, -5, 1000, NULL},
	{"enabled", FIELD_BOOL, false, 0, 0, NULL},
	{"config", FIELD_OBJECT, false, 0, 0, NULL},
	{"events", FIELD_ARRAY, false, 1, 10, NULL},
	{NULL},
};

static int h_echo(struct request *rq)
{
	return reply_ok(rq, 200, json_object_get(rq->json), NULL);
}

static const struct route routes[] = {
	{"POST", "/api/v1/things", h_echo, ROUTE_PUBLIC, BODY_JSON, fields},
	{"PUT", "/api/v1/things/{id}", h_echo, ROUTE_PUBLIC, BODY_JSON_OPTIONAL, NULL},
};
static const struct app app = {"fuzz", routes, sizeof(routes) / sizeof(routes[0]), NULL};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	/* The first byte picks the route, the rest is the body. */
	int put = size && (data[0] & 1);
	char *len = arena_printf(a, "CONTENT_LENGTH=%zu", size ? size - 1 : 0);
	char *envp[] = {put ? "REQUEST_METHOD=PUT" : "REQUEST_METHOD=POST",
			put ? "REQUEST_URI=/api/v1/things/abc" : "REQUEST_URI=/api/v1/things",
			"CONTENT_TYPE=application/json", len, NULL};
	struct request rq;
	memset(&rq, 0, sizeof(rq));
	rq.arena = a;
	if (request_parse(&rq, envp))
		return 0;
	rq.body = size ? arena_memdup(a, data + 1, size - 1) : "";
	rq.body_len = size ? size - 1 : 0;
	responder_dispatch(&app, &rq);
	if (!rq.status)
		abort(); /* every request gets an answer */
	return 0;
}
