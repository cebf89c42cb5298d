/* Request-log list filters; see logfilter.h. */
#include "http/logfilter.h"

#include <ctype.h>
#include <json-c/json.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/validate.h"
#include "http/reply.h"
#include "http/request.h"

/* "404" -> 404, "4xx" -> 4, else -1. */
static long parse_status(const char *s)
{
	if (strlen(s) != 3 || s[0] < '1' || s[0] > '5')
		return -1;
	if ((s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X'))
		return s[0] - '0';
	long v;
	return validate_query_int(s, 0, 100, 599, &v) ? -1 : v;
}

/* The upper-case method, or NULL when s is none of the methods the API answers. */
static const char *parse_method(struct request *rq, const char *s)
{
	static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcasecmp(s, methods[i]))
			return arena_strdup(rq->arena, methods[i]);
	return NULL;
}

static void bad(struct json_object **errors, const char *field, const char *msg)
{
	if (!*errors)
		*errors = json_object_new_object();
	json_object_object_add(*errors, field, json_object_new_string(msg));
}

int logfilter_parse(struct request *rq, struct request_log_filter *f, struct rows_page *page)
{
	if (reply_page_params(rq, &page->page, &page->limit))
		return rq->status;
	memset(f, 0, sizeof(*f));
	struct json_object *errors = NULL;
	const char *status = request_query(rq, "status"), *method = request_query(rq, "method");
	const char *path = request_query(rq, "path");
	if (status && (f->status = parse_status(status)) < 0)
		bad(&errors, "status", "must be a status such as 404, or a class such as 4xx");
	if (method && !(f->method = parse_method(rq, method)))
		bad(&errors, "method", "must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
	if (path && (path[0] != '/' || strlen(path) > 2048 || !text_printable(path, false)))
		bad(&errors, "path", "must be a path prefix starting with / (at most 2048 characters)");
	f->path = path;
	f->from = request_query(rq, "from");
	f->to = request_query(rq, "to");
	if (f->from && validate_rfc3339(f->from))
		bad(&errors, "from", validate_rfc3339(f->from));
	if (f->to && validate_rfc3339(f->to))
		bad(&errors, "to", validate_rfc3339(f->to));
	if (errors)
		return reply_invalid(rq, errors);
	return 0;
}
