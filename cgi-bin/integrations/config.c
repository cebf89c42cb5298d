/* The catalog, the caller's integrations, and the generic provider routes: each finds
 * the provider named in the URL and calls its op (integration_ops.h). */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "handlers.h"
#include "provider_reply.h"
#include "http/reply.h"
#include "http/request.h"
#include "integrations/integration_ops.h"
#include "integrations/providers/provider.h"

/* 200 [catalog entries] */
int handle_catalog(struct request *rq)
{
	unsigned n;
	const struct provider *const *all = provider_all(&n);
	struct json_object *list = json_object_new_array();
	for (unsigned i = 0; i < n; i++)
		json_object_array_add(list, provider_catalog_entry(all[i]));
	return reply_ok(rq, 200, list, "Available integrations");
}

/* 200 [status] | 401 | 503 */
int handle_list(struct request *rq)
{
	struct json_object *list;
	enum db_status s = integration_status_list(rq->arena, rq->user_id, &list);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, list, "Your integrations");
}

/* The action of p called name for method ("POST" also matches a NULL method): a read
 * and an operation may share a name (devices/{id}/ota). */
static const struct provider_action *action_for(const struct provider *p, const char *name, const char *method)
{
	for (const struct provider_action *x = p->actions; x && x->name; x++)
		if (!strcmp(x->name, name) && !strcmp(x->method ? x->method : "POST", method))
			return x;
	return NULL;
}

static const struct provider *provider_or_404(struct request *rq)
{
	const struct provider *p = provider_find(request_param(rq, "provider"));
	if (!p)
		reply_error(rq, 404, "not_found", "No such integration provider");
	return p;
}

static struct provider_call call_of(struct request *rq)
{
	struct provider_call c = {rq->arena, request_actor(rq, rq->user_id), rq->user_id, rq->json};
	return c;
}

/* The members a body may carry on the provider routes (the route table's body_fields):
 * the named provider's tables for that operation, NULL for an unknown provider. */
static const struct field *const *fields_of(const struct request *rq, enum integration_body op)
{
	const struct provider *p = provider_find(request_param(rq, "provider"));
	if (!p)
		return NULL;
	const char *action = request_param(rq, "action"), *step = request_param(rq, "step");
	const char *item = request_param(rq, "item");
	if (action && step && item)
		action = arena_printf(rq->arena, "%s/*/%s", action, item);
	else if (action && step)
		action = arena_printf(rq->arena, "%s/%s", action, step);
	return integration_body_fields(rq->arena, p, op, action);
}

const struct field *const *put_body_fields(const struct request *rq)
{
	return fields_of(rq, INTEGRATION_BODY_PUT);
}

const struct field *const *patch_body_fields(const struct request *rq)
{
	return fields_of(rq, INTEGRATION_BODY_PATCH);
}

const struct field *const *refresh_body_fields(const struct request *rq)
{
	return fields_of(rq, INTEGRATION_BODY_REFRESH);
}

const struct field *const *action_body_fields(const struct request *rq)
{
	return fields_of(rq, INTEGRATION_BODY_ACTION);
}

typedef int (*dispatch)(const struct provider *p, const struct provider_call *c, struct provider_result *r);

/* The provider's op for this request, answered. */
static int run(struct request *rq, dispatch op)
{
	const struct provider *p = provider_or_404(rq);
	if (!p)
		return rq->status;
	struct provider_call c = call_of(rq);
	struct provider_result r;
	op(p, &c, &r);
	return reply_result(rq, &r);
}

/* 200 view | 401 | 403 | 404 (unknown provider, nothing saved) | 500 | 503 */
int handle_get(struct request *rq)
{
	return run(rq, integration_get);
}

/* 200 view (saved) | 400 | 401 | 403 | 404 | 405 (connected by OAuth) | 415 | 422 | 500 |
 * 502/504 (a provider that checks credentials on save) | 503 */
int handle_put(struct request *rq)
{
	return run(rq, integration_put);
}

/* 200 view | 400 | 401 | 403 | 404 | 415 | 422 | 503 */
int handle_patch(struct request *rq)
{
	return run(rq, integration_patch);
}

/* 200 (OAuth: {provider, revoked, revocation_supported, revoke_error}) | 401 | 403 | 404 | 503 */
int handle_delete(struct request *rq)
{
	return run(rq, integration_delete_op);
}

/* 200 {provider, refreshed, token_expires_at, status} | 401 | 403 | 404 | 409 |
 * 500 | 502 | 503 | 504 */
int handle_refresh_token(struct request *rq)
{
	return run(rq, integration_refresh);
}

/* POST .../{provider}/{action}[/{step}]: the provider's action of that name.
 * 200 | 400 | 401 | 403 | 404 (unknown provider or action, and what the action finds
 * missing) | 409 | 411 | 415 | 422 | 500 | 502 | 503 | 504 */
int handle_action(struct request *rq)
{
	const struct provider *p = provider_or_404(rq);
	if (!p)
		return rq->status;
	const char *step = request_param(rq, "step"), *name = request_param(rq, "action");
	if (step)
		name = arena_printf(rq->arena, "%s/%s", name, step);
	return run_action(rq, p, name);
}

/* The query parameters of rq as a JSON object (arena-owned). */
static struct json_object *query_of(struct request *rq)
{
	struct json_object *q = arena_defer(rq->arena, jsonx_put, json_object_new_object());
	for (size_t i = 0; i < rq->nquery; i++)
		json_object_object_add(q, rq->query[i].name, json_object_new_string(rq->query[i].value));
	return q;
}

static int run_read(struct request *rq, const struct provider *p, const struct provider_action *x, const char *param)
{
	if (!x || !x->method || strcmp(x->method, "GET"))
		return reply_error(rq, 404, "not_found", "No such route");
	struct provider_call c = call_of(rq);
	c.param = param;
	c.query = query_of(rq);
	struct provider_result r;
	x->run(&c, p, &r);
	return reply_result(rq, &r);
}

/* GET .../{provider}/{action}/{step}: the provider's read called "action/step" (drive/files),
 * else the one called "action/" and a star (sync/) with the step as c->param.
 * 200 | 401 | 403 | 404 | 409 | 422 | 502 | 503 | 504 */
int handle_action_get(struct request *rq)
{
	const struct provider *p = provider_or_404(rq);
	if (!p)
		return rq->status;
	const char *action = request_param(rq, "action"), *step = request_param(rq, "step");
	const struct provider_action *x = provider_action_find(p, arena_printf(rq->arena, "%s/%s", action, step));
	if (x && x->method && !strcmp(x->method, "GET"))
		return run_read(rq, p, x, NULL);
	return run_read(rq, p, provider_action_find(p, arena_printf(rq->arena, "%s/*", action)), step);
}

/* POST .../{provider}/{action}/{id}/{item}: the provider's action called "action/", a
 * star, "/item" (devices/{device_id}/ota) with the id as c->param. Statuses as
 * handle_action's, and 413 (a body over the action's own limit). */
int handle_action_item(struct request *rq)
{
	const struct provider *p = provider_or_404(rq);
	if (!p)
		return rq->status;
	const char *name = arena_printf(rq->arena, "%s/*/%s", request_param(rq, "action"), request_param(rq, "item"));
	return run_action_param(rq, p, name, request_param(rq, "step"));
}

/* GET .../{provider}/{action}/{id}/{item}: the read called "action/", a star, "/item"
 * (devices/{device_id}/ota) with the id as c->param.
 * 200 | 401 | 403 | 404 | 409 | 422 | 502 | 503 | 504 */
int handle_action_get_star(struct request *rq)
{
	const struct provider *p = provider_or_404(rq);
	if (!p)
		return rq->status;
	const char *name = arena_printf(rq->arena, "%s/*/%s", request_param(rq, "action"), request_param(rq, "item"));
	return run_read(rq, p, action_for(p, name, "GET"), request_param(rq, "step"));
}

/* GET .../{provider}/{action}/{step}/{item}/{sub}: the read called "action/step/", a star, "/sub"
 * (drive/files/{id}/content) with the item as c->param.
 * 200 | 401 | 403 | 404 | 409 | 413 | 415 | 502 | 503 | 504 */
int handle_action_get_item(struct request *rq)
{
	const struct provider *p = provider_or_404(rq);
	if (!p)
		return rq->status;
	const char *name = arena_printf(rq->arena, "%s/%s/*/%s", request_param(rq, "action"),
					request_param(rq, "step"), request_param(rq, "sub"));
	return run_read(rq, p, provider_action_find(p, name), request_param(rq, "item"));
}

int run_action(struct request *rq, const struct provider *p, const char *name)
{
	return run_action_param(rq, p, name, NULL);
}

int run_action_param(struct request *rq, const struct provider *p, const char *name, const char *param)
{
	const struct provider_action *x = action_for(p, name, "POST");
	if (!x || (x->method && strcmp(x->method, "POST")))
		return reply_error(rq, 404, "not_found", "No such route");
	if (x->body_required && !rq->json) {
		if (rq->content_length < 0)
			return reply_error(rq, 411, "length_required", "Content-Length is required");
		return reply_error(rq, 400, "malformed_json", "A JSON object body is required");
	}
	struct json_object *errors;
	if (rq->json && x->fields && validate_object(rq->json, x->fields, &errors))
		return reply_invalid(rq, errors);
	struct provider_call c = call_of(rq);
	c.param = param;
	struct provider_result r;
	x->run(&c, p, &r);
	return reply_result(rq, &r);
}
