/* Envelope responses; see reply.h. */
#include "http/reply.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/validate.h"
#include "db/db.h"
#include "db/rows.h"
#include "http/request.h"

/* clang-format off: one status per line reads better than the wrapped macro */
#define HTTP_STATUS_LIST(X)              \
	X(200, "OK")                     \
	X(201, "Created")                \
	X(202, "Accepted")               \
	X(204, "No Content")             \
	X(302, "Found")                  \
	X(304, "Not Modified")           \
	X(400, "Bad Request")            \
	X(401, "Unauthorized")           \
	X(403, "Forbidden")              \
	X(404, "Not Found")              \
	X(405, "Method Not Allowed")     \
	X(409, "Conflict")               \
	X(410, "Gone")                   \
	X(411, "Length Required")        \
	X(413, "Content Too Large")      \
	X(414, "URI Too Long")           \
	X(415, "Unsupported Media Type") \
	X(422, "Unprocessable Content")  \
	X(429, "Too Many Requests")      \
	X(500, "Internal Server Error")  \
	X(502, "Bad Gateway")            \
	X(503, "Service Unavailable")    \
	X(504, "Gateway Timeout")
/* clang-format on */

const char *reply_reason(int status)
{
	switch (status) {
#define X(code, text) \
	case code:    \
		return text;
		HTTP_STATUS_LIST(X)
#undef X
	default:
		return "Unknown";
	}
}

void reply_header(struct request *rq, const char *name, const char *value)
{
	if (rq->nresp_headers == REQUEST_MAX_RESP_HEADERS)
		return;
	rq->resp_headers[rq->nresp_headers].name = arena_strdup(rq->arena, name);
	rq->resp_headers[rq->nresp_headers].value = arena_strdup(rq->arena, value);
	rq->nresp_headers++;
}

int reply_raw(struct request *rq, int status, const char *content_type, const char *body, size_t len)
{
	rq->status = status;
	rq->resp_type = arena_strdup(rq->arena, content_type);
	rq->resp_body = arena_memdup(rq->arena, body, len); /* bodies may hold NULs */
	rq->resp_len = len;
	return status;
}

int reply_json(struct request *rq, int status, struct json_object *obj)
{
	size_t len;
	const char *s =
		json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	reply_raw(rq, status, "application/json", s, len);
	json_object_put(obj);
	return status;
}

int reply_ok(struct request *rq, int status, struct json_object *data, const char *message)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "success", json_object_new_boolean(1));
	json_object_object_add(o, "data", data);
	if (message)
		json_object_object_add(o, "message", json_object_new_string(message));
	return reply_json(rq, status, o);
}

static int reply_error_fields(struct request *rq, int status, const char *code, const char *message,
			      struct json_object *fields)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	if (fields)
		json_object_object_add(e, "fields", fields);
	json_object_object_add(o, "success", json_object_new_boolean(0));
	json_object_object_add(o, "error", e);
	return reply_json(rq, status, o);
}

int reply_error(struct request *rq, int status, const char *code, const char *message)
{
	return reply_error_fields(rq, status, code, message, NULL);
}

int reply_invalid(struct request *rq, struct json_object *fields)
{
	return reply_error_fields(rq, 422, "validation_failed", "One or more fields are invalid", fields);
}

int reply_invalid_field(struct request *rq, const char *field, const char *message)
{
	struct json_object *e = json_object_new_object();
	json_object_object_add(e, field, json_object_new_string(message));
	return reply_invalid(rq, e);
}

/* No rollback here: the code that began the transaction ends it (db_finish), and the
 * responder rolls back whatever a handler leaves open. */
int reply_db_failure(struct request *rq, int db_status)
{
	return db_status == DB_UNAVAILABLE ? reply_db_unavailable(rq) : reply_internal(rq);
}

int reply_page_params(struct request *rq, long *page, long *limit)
{
	struct json_object *errors = NULL;
	if (validate_query_int(request_query(rq, "page"), 1, 1, 1000000, page)) {
		errors = json_object_new_object();
		json_object_object_add(errors, "page", json_object_new_string("must be an integer of at least 1"));
	}
	if (validate_query_int(request_query(rq, "limit"), 20, 1, 100, limit)) {
		if (!errors)
			errors = json_object_new_object();
		json_object_object_add(errors, "limit", json_object_new_string("must be an integer between 1 and 100"));
	}
	return errors ? reply_invalid(rq, errors) : 0;
}

struct json_object *reply_page(struct json_object *items, long page, long limit, long long total)
{
	return rows_page_json(items, (struct rows_page){page, limit}, total);
}

int reply_unauthorized(struct request *rq, const char *message, int token_was_sent)
{
	reply_header(rq, "WWW-Authenticate",
		     token_was_sent ? "Bearer realm=\"switchboard\", error=\"invalid_token\""
				    : "Bearer realm=\"switchboard\"");
	return reply_error(rq, 401, "unauthorized", message);
}

int reply_db_unavailable(struct request *rq)
{
	reply_header(rq, "Retry-After", "5");
	return reply_error(rq, 503, "service_unavailable", "The database is unavailable; try again shortly");
}

int reply_internal(struct request *rq)
{
	return reply_error(rq, 500, "internal_error", "Internal error");
}

int reply_oauth_error(struct request *rq, int status, const char *error, const char *description)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(error));
	if (description)
		json_object_object_add(o, "error_description", json_object_new_string(description));
	return reply_json(rq, status, o);
}

int reply_insufficient_scope(struct request *rq, const char *scope, int oauth)
{
	char www[200];
	snprintf(www, sizeof(www), "Bearer realm=\"switchboard\", error=\"insufficient_scope\", scope=\"%s\"",
		 scope ? scope : "");
	reply_header(rq, "WWW-Authenticate", www);
	char msg[160];
	snprintf(msg, sizeof(msg), "This credential lacks the scope %s", scope ? scope : "");
	if (oauth)
		return reply_oauth_error(rq, 403, "insufficient_scope", msg);
	return reply_error(rq, 403, "insufficient_scope", msg);
}

int reply_unauthorized_oauth(struct request *rq, const char *message, int token_was_sent)
{
	reply_header(rq, "WWW-Authenticate",
		     token_was_sent ? "Bearer realm=\"switchboard\", error=\"invalid_token\""
				    : "Bearer realm=\"switchboard\"");
	return reply_oauth_error(rq, 401, token_was_sent ? "invalid_token" : "invalid_request", message);
}
