/* The object-store probe; see storage_probe.h. No transaction is open while the store
 * is being reached. */
#include "integrations/providers/storage_probe.h"

#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "events/audit.h"
#include "integrations/integration.h"
#include "integrations/integration_events.h"
#include "integrations/providers/provider.h"
#include "net/outbound.h"

struct probe {
	struct json_object *steps;
	const char *error; /* the first failing step's reason, NULL when every step passed */
	int http_status;   /* 502 or 504 for that failure */
	enum outbound_error transport; /* OUTBOUND_OK when the store answered (with an error) */
	long retry_at;
};

/* Adds a step; returns true when it passed. */
static bool step(struct arena *a, const struct storage_ops *ops, struct probe *pr, const char *name, int rc, const struct outbound_response *res,
		 bool ok, const char *why)
{
	struct json_object *s = json_object_new_object();
	json_object_object_add(s, "step", json_object_new_string(name));
	json_object_object_add(s, "ok", json_object_new_boolean(ok));
	json_object_object_add(s, "status", res->status ? json_object_new_int((int)res->status) : NULL);
	const char *err = ok ? NULL : why ? why : ops->failure(a, res);
	json_object_object_add(s, "error", jsonx_string_or_null(err));
	json_object_array_add(pr->steps, s);
	if (!ok && !pr->error) {
		pr->error = arena_printf(a, "%s failed: %s", name, err);
		pr->http_status = rc ? outbound_http_status(res) : 502;
		pr->transport = rc ? res->error : OUTBOUND_OK;
		pr->retry_at = res->retry_at;
	}
	return ok;
}

static bool success(int rc, const struct outbound_response *res)
{
	return !rc && res->status >= 200 && res->status < 300;
}

static void run_probe(struct arena *a, const struct storage_ops *ops, const char *prefix, struct probe *pr)
{
	unsigned char rnd[8];
	crypto_random(rnd, sizeof(rnd));
	const char *tag = crypto_sha256_hex(a, rnd, sizeof(rnd));
	const char *key = arena_printf(a, "%s.switchboard-probe-%.16s.txt", prefix, tag);
	const char *content = arena_printf(a, "Switchboard storage probe %.16s\n", tag);
	struct outbound_response res;
	int rc = ops->call(a, ops->target, "PUT", key, content, strlen(content), "text/plain", &res);
	if (!step(a, ops, pr, "write", rc, &res, success(rc, &res), NULL))
		return;
	rc = ops->call(a, ops->target, "GET", key, NULL, 0, NULL, &res);
	bool same = success(rc, &res) && res.len == strlen(content) && !memcmp(res.body, content, res.len);
	step(a, ops, pr, "read", rc, &res, same, success(rc, &res) ? "the object read back differs from the one written" : NULL);
	/* Deleted even when the read failed, so no probe is left behind. */
	rc = ops->call(a, ops->target, "DELETE", key, NULL, 0, NULL, &res);
	step(a, ops, pr, "delete", rc, &res, success(rc, &res), NULL);
}

static enum db_status record(const struct provider_call *c, const struct storage_ops *ops, const struct integration *row,
			     const struct probe *pr)
{
	bool ok = !pr->error;
	const char *status = ok ? "connected" : "error";
	enum db_status s = db_begin(c->a);
	if (s == DB_OK)
		s = integration_record_check(c->a, c->user_id, ops->provider, status, pr->error, ok);
	if (s == DB_OK)
		s = integration_event_health_changed(c->a, c->user_id, ops->provider, row->status, status);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "connected", json_object_new_boolean(ok));
		json_object_object_add(d, "steps", json_object_get(pr->steps));
		s = audit_record(c->a, c->who, "integration.tested", ops->provider, d);
	}
	return db_finish(c->a, s);
}

int storage_probe(const struct provider_call *c, const struct integration *row, const struct storage_ops *ops,
		  const char *prefix, const char *ok_message, struct provider_result *r)
{
	struct probe pr = {.steps = json_object_new_array()};
	arena_defer(c->a, jsonx_put, pr.steps);
	run_probe(c->a, ops, prefix, &pr);
	enum db_status s = record(c, ops, row, &pr);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (pr.error && pr.transport == OUTBOUND_BLOCKED)
		return provider_fail(r, PROVIDER_UPSTREAM, "address_blocked", pr.error);
	if (pr.error && pr.transport == OUTBOUND_RATE_LIMITED)
		return provider_rate_limited(r, pr.retry_at, pr.error);
	if (pr.error)
		return provider_upstream(r, pr.http_status, pr.error);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "connected", json_object_new_boolean(1));
	json_object_object_add(d, ops->where, json_object_new_string(ops->name));
	json_object_object_add(d, "steps", json_object_get(pr.steps));
	return provider_ok(r, d, ok_message);
}
