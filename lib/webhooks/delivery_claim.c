/* Claiming deliveries, turning a claimed row into a job, and recording attempts; see
 * delivery_store.h. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "events/audit.h"
#include "events/events.h"
#include "webhooks/delivery_store.h"
#include "webhooks/webhook_options.h"

/* The lease outlives the request timeout by this margin, so a slow delivery is never
 * sent again by a second worker while the first is still waiting for an answer. */
static const char *lease_margin(struct arena *a)
{
	return arena_printf(a, "%ld", config_int("SB_WEBHOOK_LEASE_MARGIN_SECONDS", 30, 1, 3600));
}

/* The columns delivery_claim_job reads, in its order, over d (delivery), w (webhook), e (event). */
#define CLAIM_COLUMNS                                                                                         \
	"d.id, d.webhook_id, d.user_id, w.url, e.message_id, e.type, e.data::text, " SQL_RFC3339(             \
		"e.created_at") ", w.secret, "                                                                \
				"CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END, " \
				"d.attempt_count, w.retry_count, w.timeout_seconds, w.payload_format, "   \
				"w.include_fields::text, w.exclude_fields::text, w.custom_headers::text, "    \
				"w.allowed_ips::text"

enum db_status delivery_store_claim(struct arena *a, const char *owner, int limit, int per_webhook,
				    struct delivery_claim *c)
{
	c->res = NULL;
	c->n = 0;
	char lim[16], cap[16];
	snprintf(lim, sizeof(lim), "%d", limit);
	snprintf(cap, sizeof(cap), "%d", per_webhook);
	const char *p[] = {owner, lim, cap, lease_margin(a)};
	/* Asynchronous commit: a claim a server crash forgets leaves its deliveries due, and
	 * they are claimed and sent again (db.h, db_exec_async_commit). */
	enum db_status s = db_exec_async_commit(
		a, &c->res,
		/* Every step is an index probe whatever the statistics say. On a table not yet
		 * analyzed (a new install's first minute under load) a grouped count of all
		 * leased rows was planned as a sequential scan of every delivery, and a join
		 * of the chosen ids as a hash join over the same: 3.4 ms a claim at 35k rows
		 * against 0.5 ms once analyzed. Per active webhook: its leased rows (partial
		 * index of leased rows: few), then its oldest due deliveries up to its free
		 * slots, skipping rows another worker holds, so one receiver's backlog never
		 * crowds out the rest. The chosen ids are then updated by primary key. */
		"WITH due AS ("
		"  SELECT c.id, c.next_attempt_at FROM webhooks w "
		"  CROSS JOIN LATERAL (SELECT count(*) AS n FROM webhook_deliveries l WHERE l.webhook_id = w.id "
		"    AND l.lease_owner IS NOT NULL AND l.lease_expires_at > now()) i "
		"  CROSS JOIN LATERAL ("
		"    SELECT d.id, d.next_attempt_at FROM webhook_deliveries d "
		"    WHERE d.webhook_id = w.id AND d.status = 'pending' AND d.next_attempt_at <= now() "
		"    AND (d.lease_expires_at IS NULL OR d.lease_expires_at < now()) "
		"    ORDER BY d.next_attempt_at LIMIT greatest($3::int - i.n, 0) "
		"    FOR UPDATE OF d SKIP LOCKED) c "
		"  WHERE w.is_active AND i.n < $3::int) "
		"UPDATE webhook_deliveries d SET lease_owner = $1, attempt_count = d.attempt_count + 1, "
		"updated_at = now(), lease_expires_at = now() + make_interval(secs => w.timeout_seconds + $4::int) "
		"FROM webhooks w, events e, " DB_ASYNC_COMMIT_FROM " "
		"WHERE d.id = ANY (ARRAY(SELECT id FROM due ORDER BY next_attempt_at LIMIT $2::int)) "
		"AND w.id = d.webhook_id AND e.id = d.event_id "
		"RETURNING " CLAIM_COLUMNS,
		4, p);
	if (s == DB_OK)
		c->n = PQntuples(c->res);
	return s;
}

enum db_status delivery_store_create_test(struct arena *a, const char *owner, const char *user_id,
					  const char *webhook_id, const char *message_id, const char *data_json,
					  struct delivery_claim *c)
{
	c->res = NULL;
	c->n = 0;
	const char *p[] = {owner, user_id, webhook_id, message_id, data_json, lease_margin(a)};
	/* next_attempt_at 'infinity' keeps the worker away while this process holds the
	 * lease; when the lease lapses (the process died), housekeeping makes it due. */
	enum db_status s = db_exec(
		a, &c->res,
		"WITH w AS (SELECT * FROM webhooks WHERE id = $3 AND user_id = $2), "
		"e AS (INSERT INTO events (user_id, type, data, message_id) SELECT $2, 'webhook.test', $5::jsonb, $4 "
		"  FROM w RETURNING id, message_id, type, data, created_at), "
		"d AS (INSERT INTO webhook_deliveries (webhook_id, event_id, user_id, next_attempt_at, lease_owner, "
		"  lease_expires_at, attempt_count) SELECT w.id, e.id, $2, 'infinity', $1, "
		"  now() + make_interval(secs => w.timeout_seconds + $6::int), 1 FROM w, e RETURNING *) "
		"SELECT " CLAIM_COLUMNS " FROM d, w, e",
		6, p);
	if (s == DB_OK)
		c->n = PQntuples(c->res);
	return s;
}

/* Opens the current (column 8) and, while it still signs, the previous (9) secret of
 * row r into job. 0, or -1 when the current one cannot be opened: nothing may be sent
 * unsigned. A previous one that no key opens is left out: the current signs alone. */
static int open_secrets(struct arena *a, const PGresult *res, int r, struct webhook_job *job)
{
	const char *aad = webhook_secret_aad(a, job->webhook_id);
	int k = 0;
	for (int c = 8; c <= 9; c++) {
		const char *sealed = db_value(res, r, c);
		char *secret;
		if (!sealed)
			continue;
		if (crypto_open(a, sealed, aad, &secret, NULL)) {
			if (c == 8)
				return -1;
			continue;
		}
		job->secrets[k++] = secret;
	}
	return k ? 0 : -1;
}

int delivery_claim_job(const struct delivery_claim *c, int i, struct arena *a, struct webhook_job *job)
{
	const PGresult *res = c->res;
	memset(job, 0, sizeof(*job));
	job->delivery_id = arena_strdup(a, PQgetvalue(res, i, 0));
	job->webhook_id = arena_strdup(a, PQgetvalue(res, i, 1));
	job->user_id = arena_strdup(a, PQgetvalue(res, i, 2));
	job->url = arena_strdup(a, PQgetvalue(res, i, 3));
	job->message_id = arena_strdup(a, PQgetvalue(res, i, 4));
	job->event_type = arena_strdup(a, PQgetvalue(res, i, 5));
	job->body = webhook_body_build(a, PQgetvalue(res, i, 13), job->event_type, job->message_id,
				       PQgetvalue(res, i, 7), PQgetvalue(res, i, 6), PQgetvalue(res, i, 14),
				       PQgetvalue(res, i, 15));
	job->headers_json = arena_strdup(a, PQgetvalue(res, i, 16));
	job->allowed_ips_json = arena_strdup(a, PQgetvalue(res, i, 17));
	job->attempt = atoi(PQgetvalue(res, i, 10));
	job->retry_count = atoi(PQgetvalue(res, i, 11));
	job->timeout_seconds = atoi(PQgetvalue(res, i, 12));
	return open_secrets(a, res, i, job);
}

/* Settles the delivery of job as o; *settled 0 when the lease was lost (another owner
 * took the delivery: it settles it). */
static enum db_status settle(struct arena *a, const struct webhook_job *job, const struct webhook_attempt *at,
			     const char *lease_owner, enum webhook_outcome o, int *settled)
{
	char status[16], delay[24];
	snprintf(status, sizeof(status), "%ld", at->status);
	snprintf(delay, sizeof(delay), "%ld", webhook_next_delay(job, at, o));
	const char *p[] = {job->delivery_id,
			   lease_owner,
			   webhook_outcome_status[o],
			   at->status ? status : NULL,
			   webhook_outcome_error(a, at, o),
			   delay};
	PGresult *res;
	enum db_status s = db_exec(a, &res,
				   "UPDATE webhook_deliveries SET status = $3, last_status_code = $4, last_error = $5, "
				   "lease_owner = NULL, lease_expires_at = NULL, updated_at = now(), "
				   "delivered_at = CASE WHEN $3 = 'delivered' THEN now() END, "
				   "next_attempt_at = now() + make_interval(secs => $6::double precision) "
				   "WHERE id = $1 AND lease_owner = $2 RETURNING id",
				   6, p);
	*settled = s == DB_OK && PQntuples(res) == 1;
	return s;
}

static enum db_status insert_attempt(struct arena *a, const struct webhook_job *job, const struct webhook_attempt *at)
{
	char attempt[16], status[16], ms[32];
	snprintf(attempt, sizeof(attempt), "%d", job->attempt);
	snprintf(status, sizeof(status), "%ld", at->status);
	snprintf(ms, sizeof(ms), "%.2f", at->ms);
	const char *p[] = {job->delivery_id,
			   attempt,
			   at->request_headers_json ? at->request_headers_json : "{}",
			   at->status ? status : NULL,
			   at->body,
			   ms,
			   at->error};
	return db_exec(a, NULL,
		       "INSERT INTO webhook_attempts (delivery_id, attempt_number, request_headers, response_status, "
		       "response_body, response_time_ms, error) VALUES ($1, $2, $3::jsonb, $4, left($5, 4096), $6, $7)",
		       7, p);
}

/* A failed attempt counts against its webhook: 410 disables it at once; so do
 * disable_after_failures consecutive failed attempts (default
 * SB_WEBHOOK_DISABLE_AFTER_FAILURES, 100) and disable_after_days of failing (default
 * SB_WEBHOOK_DISABLE_AFTER_SECONDS, 3 days); 0 turns a rule off. The attempt that
 * switches it off audits it and publishes webhook.disabled (to the user's other
 * webhooks), once. */
static enum db_status count_failure(struct arena *a, const struct webhook_job *job, enum webhook_outcome o)
{
	char window[24], count[24];
	snprintf(window, sizeof(window), "%ld",
		 config_int("SB_WEBHOOK_DISABLE_AFTER_SECONDS", 3 * 86400, 0, 365L * 86400));
	snprintf(count, sizeof(count), "%ld", config_int("SB_WEBHOOK_DISABLE_AFTER_FAILURES", 100, 0, 10000));
	const char *p[] = {job->webhook_id, o == WEBHOOK_GONE ? "true" : "false", window, count};
	PGresult *res;
	enum db_status s = db_exec(
		a, &res,
		"WITH old AS (SELECT id, is_active, coalesce(failing_since, now()) AS since, consecutive_failures + 1 AS n, "
		"  coalesce(disable_after_days * 86400.0, $3::double precision) AS secs, "
		"  coalesce(disable_after_failures, $4::int) AS max_n FROM webhooks WHERE id = $1 FOR UPDATE), "
		"why AS (SELECT id, CASE WHEN $2::boolean THEN 'the receiver answered 410 Gone' "
		"  WHEN max_n > 0 AND n >= max_n THEN 'too many consecutive failed attempts' "
		"  WHEN secs > 0 AND since < now() - make_interval(secs => secs) "
		"  THEN 'every delivery failed for too long' END AS reason FROM old) "
		"UPDATE webhooks w SET failing_since = old.since, consecutive_failures = old.n, "
		"is_active = CASE WHEN why.reason IS NOT NULL THEN false ELSE w.is_active END, "
		"disabled_reason = CASE WHEN why.reason IS NOT NULL AND w.is_active THEN why.reason "
		"  ELSE w.disabled_reason END, updated_at = now() "
		"FROM old, why WHERE w.id = old.id AND why.id = old.id "
		"RETURNING old.is_active, w.is_active, w.disabled_reason, w.user_id, old.n, "
		SQL_RFC3339("old.since"),
		4, p);
	if (s != DB_OK || PQntuples(res) != 1 || PQgetvalue(res, 0, 0)[0] != 't' || PQgetvalue(res, 0, 1)[0] != 'f')
		return s;
	const char *user_id = arena_strdup(a, PQgetvalue(res, 0, 3));
	struct json_object *details = json_object_new_object();
	json_object_object_add(details, "webhook_id", json_object_new_string(job->webhook_id));
	json_object_object_add(details, "reason", jsonx_string_or_null(db_value(res, 0, 2)));
	struct json_object *data = json_object_new_object();
	json_object_object_add(data, "webhook_id", json_object_new_string(job->webhook_id));
	json_object_object_add(data, "reason", jsonx_string_or_null(db_value(res, 0, 2)));
	json_object_object_add(data, "consecutive_failures", json_object_new_int(atoi(PQgetvalue(res, 0, 4))));
	json_object_object_add(data, "failing_since", json_object_new_string(PQgetvalue(res, 0, 5)));
	json_object_object_add(data, "last_error", jsonx_string_or_null(job->last_error));
	const struct actor worker = {user_id, NULL, NULL};
	s = audit_record(a, &worker, "webhook.disabled", NULL, details);
	struct event_published ev;
	if (s == DB_OK)
		s = events_publish(a, user_id, "webhook.disabled", data, NULL, &ev);
	json_object_put(data);
	return s;
}

enum db_status delivery_store_record(struct arena *a, const struct webhook_job *job, const struct webhook_attempt *at,
				     const char *lease_owner, enum webhook_outcome *outcome)
{
	enum webhook_outcome o = webhook_outcome_of(job, at);
	*outcome = o;
	/* Settle first: only the lease owner may, and a lost lease writes nothing. */
	int settled;
	enum db_status s = settle(a, job, at, lease_owner, o, &settled);
	if (s != DB_OK)
		return s;
	if (!settled) {
		log_msg(LOG_WARN, "delivery %s: lease lost before completion", job->delivery_id);
		return DB_OK;
	}
	s = insert_attempt(a, job, at);
	const char *pw[] = {job->webhook_id};
	if (s == DB_OK && o == WEBHOOK_DELIVERED)
		s = db_exec(a, NULL,
			    "UPDATE webhooks SET failing_since = NULL, consecutive_failures = 0 WHERE id = $1 "
			    "AND (failing_since IS NOT NULL OR consecutive_failures <> 0)",
			    1, pw);
	else if (s == DB_OK) {
		struct webhook_job with_error = *job;
		with_error.last_error = webhook_outcome_error(a, at, o);
		s = count_failure(a, &with_error, o);
	}
	return s;
}

enum db_status delivery_store_finish(struct arena *a, const struct webhook_job *job, const struct webhook_attempt *at,
				     const char *lease_owner, enum webhook_outcome *outcome)
{
	enum db_status s = db_begin(a);
	if (s == DB_OK)
		s = delivery_store_record(a, job, at, lease_owner, outcome);
	return db_finish(a, s);
}

/* One row of the batch for settle_batch_sql: what settle and insert_attempt take. */
static struct json_object *result_row(struct arena *a, const struct webhook_job *job, const struct webhook_attempt *at,
				      enum webhook_outcome o)
{
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "id", json_object_new_string(job->delivery_id));
	json_object_object_add(r, "webhook_id", json_object_new_string(job->webhook_id));
	json_object_object_add(r, "status", json_object_new_string(webhook_outcome_status[o]));
	json_object_object_add(r, "code", at->status ? json_object_new_int64(at->status) : NULL);
	json_object_object_add(r, "last_error", jsonx_string_or_null(webhook_outcome_error(a, at, o)));
	json_object_object_add(r, "delay", json_object_new_int64(webhook_next_delay(job, at, o)));
	json_object_object_add(r, "attempt", json_object_new_int(job->attempt));
	struct json_object *headers = at->request_headers_json ? json_tokener_parse(at->request_headers_json) : NULL;
	json_object_object_add(r, "headers", headers ? headers : json_object_new_object());
	json_object_object_add(r, "body", jsonx_string_or_null(at->body));
	json_object_object_add(r, "ms", json_object_new_double(at->ms));
	json_object_object_add(r, "error", jsonx_string_or_null(at->error));
	return r;
}

/* settle, insert_attempt and the reset of a delivered webhook's failure count, for every
 * row of $1 (a JSON array of result_row) in one statement; the settled ids come back. */
static const char settle_batch_sql[] =
	"WITH r AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, webhook_id uuid, status text, "
	"  code int, last_error text, delay float8, attempt int, headers jsonb, body text, ms numeric, error text)), "
	"s AS (UPDATE webhook_deliveries d SET status = r.status, last_status_code = r.code, last_error = r.last_error, "
	"  lease_owner = NULL, lease_expires_at = NULL, updated_at = now(), "
	"  delivered_at = CASE WHEN r.status = 'delivered' THEN now() END, "
	"  next_attempt_at = now() + make_interval(secs => r.delay) "
	"  FROM r WHERE d.id = r.id AND d.lease_owner = $2 RETURNING d.id), "
	"a AS (INSERT INTO webhook_attempts (delivery_id, attempt_number, request_headers, response_status, "
	"  response_body, response_time_ms, error) "
	"  SELECT r.id, r.attempt, r.headers, r.code, left(r.body, 4096), round(r.ms, 2), r.error FROM r JOIN s USING (id)), "
	"w AS (UPDATE webhooks SET failing_since = NULL, consecutive_failures = 0 "
	"  WHERE id IN (SELECT r.webhook_id FROM r JOIN s USING (id) WHERE r.status = 'delivered') "
	"  AND (failing_since IS NOT NULL OR consecutive_failures <> 0)) "
	"SELECT id FROM s";

static bool settled_in(const PGresult *res, const char *delivery_id)
{
	for (int i = 0; i < PQntuples(res); i++)
		if (!strcmp(PQgetvalue(res, i, 0), delivery_id))
			return true;
	return false;
}

enum db_status delivery_store_record_batch(struct arena *a, const struct delivery_result *r, int n,
					   const char *lease_owner)
{
	struct json_object *rows = json_object_new_array();
	for (int i = 0; i < n; i++)
		json_object_array_add(rows, result_row(a, r[i].job, r[i].at, webhook_outcome_of(r[i].job, r[i].at)));
	const char *p[] = {arena_strdup(a, json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PLAIN)),
			   lease_owner};
	json_object_put(rows);
	PGresult *res;
	enum db_status s = db_exec(a, &res, settle_batch_sql, 2, p);
	/* A failure counts against its webhook after the batch's resets (a batch's order is
	 * the order its transfers ended in, so no order among them is lost). */
	for (int i = 0; i < n && s == DB_OK; i++) {
		enum webhook_outcome o = webhook_outcome_of(r[i].job, r[i].at);
		if (!settled_in(res, r[i].job->delivery_id)) {
			log_msg(LOG_WARN, "delivery %s: lease lost before completion", r[i].job->delivery_id);
			continue;
		}
		if (o == WEBHOOK_DELIVERED)
			continue;
		struct webhook_job with_error = *r[i].job;
		with_error.last_error = webhook_outcome_error(a, r[i].at, o);
		s = count_failure(a, &with_error, o);
	}
	return s;
}
