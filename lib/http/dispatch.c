/* Dispatch of one parsed request: builtin probes, routing, the checks a route declares
 * (credentials, body, authentication, rate limit, scope) and the handler, then the
 * transaction safety net. See responder.h. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/validate.h"
#include "db/db.h"
#include "db/slot.h"
#include "http/authenticate.h"
#include "http/form.h"
#include "http/ratelimit.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/responder.h"
#include "http/router.h"

#define JSON_MAX_DEPTH 32

static bool method_has_body(const char *m)
{
	return !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH");
}

static int builtin(const struct app *app, struct request *rq)
{
	if (rq->nsegments != 1 || (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD")))
		return 0;
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "group", json_object_new_string(app->name));
	if (!strcmp(rq->segments[0], "healthz")) {
		json_object_object_add(d, "status", json_object_new_string("ok"));
		return reply_ok(rq, 200, d, NULL);
	}
	if (!strcmp(rq->segments[0], "readyz")) {
		bool up = db_ping();
		json_object_object_add(d, "status", json_object_new_string(up ? "ok" : "unavailable"));
		json_object_object_add(d, "database", json_object_new_string(up ? "ok" : "unreachable"));
		return up ? reply_ok(rq, 200, d, NULL) : (json_object_put(d), reply_db_unavailable(rq));
	}
	json_object_put(d);
	return 0;
}

/* The JSON body checks of a route: media type, syntax, an object, the field table. */
static int check_json_body(struct request *rq)
{
	const struct route *r = rq->route;
	if (rq->body_len == 0) {
		if (r->body == BODY_JSON_OPTIONAL)
			return 0;
		return reply_error(rq, 400, "malformed_json", "A JSON object body is required");
	}
	if (!request_is_json(rq))
		return reply_error(rq, 415, "unsupported_media_type", "Send the body as application/json");
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	struct json_object *o = json_tokener_parse_ex(tok, rq->body, (int)rq->body_len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	arena_defer(rq->arena, jsonx_put, o);
	/* Anything but whitespace after the value is not one JSON document. */
	while (o && used < rq->body_len && rq->body[used] && strchr(" \t\r\n", rq->body[used]))
		used++;
	if (!o || jerr != json_tokener_success || used != rq->body_len)
		return reply_error(rq, 400, "malformed_json", "The body is not valid JSON");
	if (!json_object_is_type(o, json_type_object))
		return reply_error(rq, 400, "malformed_json", "The body must be a JSON object");
	rq->json = o;
	/* Every member must be declared: the route's table, or the tables of this request. */
	const struct field *const own[] = {r->fields, NULL};
	const struct field *const *tables = r->body_fields ? r->body_fields(rq) : own;
	struct json_object *errors = NULL;
	if (r->fields)
		validate_object(o, r->fields, &errors);
	if (tables)
		validate_unknown(o, tables, &errors);
	if (errors)
		return reply_invalid(rq, errors);
	return 0;
}

/* An error in the route's format: the envelope, or RFC 6749 JSON for the OAuth routes. */
static void fail(struct request *rq, int status, const char *code, const char *oauth_error, const char *message)
{
	if (rq->route && rq->route->errors == ERRORS_OAUTH)
		reply_oauth_error(rq, status, oauth_error, message);
	else
		reply_error(rq, status, code, message);
}

/* Credentials are never accepted in a URL: URLs end up in logs, histories and Referer
 * headers. A request that carries one there is refused whatever else it sends. */
static bool credentials_in_url(const struct request *rq)
{
	static const char *const names[] = {"access_token", "refresh_token", "api_key",	      "apikey",
					    "x-api-key",    "x_api_key",     "client_secret", NULL};
	for (size_t i = 0; i < rq->nquery; i++)
		for (size_t j = 0; names[j]; j++)
			if (!strcasecmp(rq->query[i].name, names[j]))
				return true;
	return false;
}

/* The form body of a BODY_FORM route, parsed into rq->form. */
static int check_form_body(struct request *rq)
{
	if (rq->content_length < 0 && method_has_body(rq->method)) {
		fail(rq, 411, "length_required", "invalid_request", "Content-Length is required");
		return -1;
	}
	if (rq->body_len && !form_is_form(rq)) {
		fail(rq, 415, "unsupported_media_type", "invalid_request",
		     "Send the body as application/x-www-form-urlencoded");
		return -1;
	}
	if (form_parse(rq->arena, rq->body ? rq->body : "", rq->body_len, rq->form, REQUEST_MAX_FORM, &rq->nform)) {
		fail(rq, 400, "malformed_form", "invalid_request", "The form body is malformed or repeats a parameter");
		return -1;
	}
	return 0;
}

/* Route, credentials in the URL, form body (client credentials may be in it),
 * authentication, rate limit (keys and clients), scope, JSON body. Returns 0 when the
 * handler may run, -1 when the request has been answered. */
static int admit(const struct app *app, struct request *rq)
{
	char allow[64];
	if (builtin(app, rq))
		return -1;
	switch (router_match(app->routes, app->nroutes, rq, allow, sizeof(allow))) {
	case ROUTE_NOT_FOUND:
		reply_error(rq, 404, "not_found", "No such route");
		return -1;
	case ROUTE_BAD_METHOD:
		reply_header(rq, "Allow", allow);
		reply_error(rq, 405, "method_not_allowed", "Method not allowed on this route");
		return -1;
	case ROUTE_FOUND:
		break;
	}
	const struct route *r = rq->route;
	if (credentials_in_url(rq)) {
		fail(rq, 400, "credentials_in_url", "invalid_request",
		     "Credentials are not accepted in the URL; send them in a header or the body");
		return -1;
	}
	if (r->body == BODY_FORM && check_form_body(rq))
		return -1;
	if (r->auth == ROUTE_USER && auth_require_user(rq))
		return -1;
	if (r->auth == ROUTE_CLIENT && auth_require_client(rq))
		return -1;
	/* Counted before the scope check: a refused request still costs, and every answer to
	 * a keyed request, a 403 too, carries the RateLimit headers. */
	if (ratelimit_apply(rq))
		return -1;
	if (r->auth == ROUTE_USER && auth_require_scope(rq, r->scope))
		return -1;
	if (r->body == BODY_JSON && rq->content_length < 0 && method_has_body(rq->method)) {
		reply_error(rq, 411, "length_required", "Content-Length is required");
		return -1;
	}
	if ((r->body == BODY_JSON || r->body == BODY_JSON_OPTIONAL) && check_json_body(rq))
		return -1;
	return 0;
}

/* A slow route's slot, or the answer that there is none now. Returns 0 to go on. */
static int take_slot(const struct app *app, struct request *rq)
{
	enum slot_result s = slot_acquire(rq->arena, app->name, rq->user_id);
	if (s == SLOT_OK)
		return 0;
	if (s == SLOT_UNAVAILABLE)
		return reply_db_unavailable(rq), -1;
	reply_header(rq, "Retry-After", arena_printf(rq->arena, "%ld", slot_retry_after()));
	if (s == SLOT_USER_BUSY)
		fail(rq, 429, "too_many_requests", "temporarily_unavailable",
		     "You have as many slow operations running as allowed; try again shortly");
	else
		fail(rq, 503, "busy", "temporarily_unavailable",
		     "This service runs as many slow operations as it can; try again shortly");
	return -1;
}

/* The one place a request is authenticated, scoped, rate limited and handed over. */
void responder_dispatch(const struct app *app, struct request *rq)
{
	if (admit(app, rq))
		return;
	const struct route *r = rq->route;
	if (r->cost == ROUTE_SLOW && take_slot(app, rq))
		return;
	int st = r->handler(rq);
	if (!rq->status || st != rq->status) {
		log_msg(LOG_ERROR, "handler for %s %s returned %d without a matching reply", r->method, r->pattern, st);
		reply_internal(rq);
	}
	/* One transaction per request, ended by the handler. One left open is a bug: roll it
	 * back now, before the request log or the next request runs on this connection. */
	if (db_in_transaction()) {
		log_msg(LOG_ERROR, "bug: handler for %s %s left a transaction open; rolled back", r->method,
			r->pattern);
		db_rollback(rq->arena);
	}
	if (r->cost == ROUTE_SLOW)
		slot_release_all();
}
