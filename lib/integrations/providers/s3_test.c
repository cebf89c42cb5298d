/* POST /users/me/integrations/s3/test: writes a probe object to the saved bucket, reads
 * it back, compares and deletes it, reporting each step; records the outcome (status,
 * health event, audit). No transaction is open while the bucket is being reached. */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "events/audit.h"
#include "integrations/integration.h"
#include "integrations/integration_events.h"
#include "integrations/providers/provider.h"
#include "integrations/providers/s3.h"
#include "net/s3.h"

struct probe {
	struct json_object *steps;
	const char *error; /* the first failing step's reason, NULL when every step passed */
	int http_status;   /* 502 or 504 for that failure */
	enum outbound_error transport; /* OUTBOUND_OK when the store answered (with an error) */
	long retry_at;
};

/* Adds a step; returns true when it passed. */
static bool step(struct arena *a, struct probe *pr, const char *name, int rc, const struct outbound_response *res,
		 bool ok, const char *why)
{
	struct json_object *s = json_object_new_object();
	json_object_object_add(s, "step", json_object_new_string(name));
	json_object_object_add(s, "ok", json_object_new_boolean(ok));
	json_object_object_add(s, "status", res->status ? json_object_new_int((int)res->status) : NULL);
	const char *err = ok ? NULL : why ? why : s3_failure(a, res);
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

static void run_probe(struct arena *a, const struct s3_target *t, const char *prefix, struct probe *pr)
{
	unsigned char rnd[8];
	crypto_random(rnd, sizeof(rnd));
	const char *tag = crypto_sha256_hex(a, rnd, sizeof(rnd));
	const char *key = arena_printf(a, "%s.switchboard-probe-%.16s.txt", prefix, tag);
	const char *content = arena_printf(a, "Switchboard storage probe %.16s\n", tag);
	struct outbound_response res;
	int rc = s3_call(a, t, "PUT", key, content, strlen(content), "text/plain", &res);
	if (!step(a, pr, "write", rc, &res, success(rc, &res), NULL))
		return;
	rc = s3_call(a, t, "GET", key, NULL, 0, NULL, &res);
	bool same = success(rc, &res) && res.len == strlen(content) && !memcmp(res.body, content, res.len);
	step(a, pr, "read", rc, &res, same, success(rc, &res) ? "the object read back differs from the one written" : NULL);
	/* Deleted even when the read failed, so no probe is left behind. */
	rc = s3_call(a, t, "DELETE", key, NULL, 0, NULL, &res);
	step(a, pr, "delete", rc, &res, success(rc, &res), NULL);
}

static enum db_status record(const struct provider_call *c, const struct integration *row, const struct probe *pr)
{
	bool ok = !pr->error;
	const char *status = ok ? "connected" : "error";
	enum db_status s = db_begin(c->a);
	if (s == DB_OK)
		s = integration_record_check(c->a, c->user_id, "s3", status, pr->error, ok);
	if (s == DB_OK)
		s = integration_event_health_changed(c->a, c->user_id, "s3", row->status, status);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "connected", json_object_new_boolean(ok));
		json_object_object_add(d, "steps", json_object_get(pr->steps));
		s = audit_record(c->a, c->who, "integration.tested", "s3", d);
	}
	return db_finish(c->a, s);
}

int s3_test(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)p;
	struct integration row;
	bool found;
	enum db_status s = integration_load(c->a, c->user_id, "s3", false, &row, &found);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (!found)
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "No saved S3 configuration to test");
	struct s3_target t;
	int rc = s3_saved_target(c->a, &row, &t);
	if (rc < 0) {
		log_msg(LOG_ERROR, "stored S3 secret of user %s could not be opened", c->user_id);
		return provider_secret(r, "The stored secret could not be decrypted; save the configuration again");
	}
	if (rc > 0)
		return provider_fail(r, PROVIDER_CONFLICT, "conflict", "The saved S3 configuration is incomplete: save it again");
	struct probe pr = {.steps = json_object_new_array()};
	arena_defer(c->a, jsonx_put, pr.steps);
	run_probe(c->a, &t, s3_saved_prefix(&row), &pr);
	if ((s = record(c, &row, &pr)) != DB_OK)
		return provider_db(c->a, r, s);
	if (pr.error && pr.transport == OUTBOUND_BLOCKED)
		return provider_fail(r, PROVIDER_UPSTREAM, "address_blocked", pr.error);
	if (pr.error && pr.transport == OUTBOUND_RATE_LIMITED)
		return provider_rate_limited(r, pr.retry_at, pr.error);
	if (pr.error)
		return provider_upstream(r, pr.http_status, pr.error);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "connected", json_object_new_boolean(1));
	json_object_object_add(d, "bucket", json_object_new_string(t.bucket));
	json_object_object_add(d, "steps", json_object_get(pr.steps));
	return provider_ok(r, d, "S3 storage test completed");
}
