/* Delivery claims; see webhook_store.h. */
#include "webhooks/webhook_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"

/* The lease outlives the request timeout by this margin, so a slow delivery is never
 * sent again by a second worker while the first is still waiting for an answer. */
static const char *lease_margin(struct arena *a)
{
	return arena_printf(a, "%ld", config_int("SB_WEBHOOK_LEASE_MARGIN_SECONDS", 30, 1, 3600));
}

#define CLAIM_RETURNING                                                                                       \
	" RETURNING d.id, d.webhook_id, d.user_id, w.url, e.message_id, e.type, e.data::text, " SQL_RFC3339(  \
		"e.created_at") ", w.secret, "                                                                \
				"CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END, " \
				"d.attempt_count, "                                                           \
				"w.retry_count, w.timeout_seconds"

enum db_status webhook_claim(struct arena *a, const char *owner, int limit, int per_webhook, PGresult **res)
{
	char lim[16], cap[16];
	snprintf(lim, sizeof(lim), "%d", limit);
	snprintf(cap, sizeof(cap), "%d", per_webhook);
	const char *p[] = {owner, lim, cap, lease_margin(a)};
	return db_exec(a, res,
		       /* Deliveries in flight per webhook (over the index of leased rows: few). */
		       "WITH inflight AS ("
		       "  SELECT webhook_id, count(*) AS n FROM webhook_deliveries WHERE lease_owner IS NOT NULL "
		       "  AND lease_expires_at > now() GROUP BY webhook_id), "
		       /* Per active webhook, its oldest due deliveries up to its free slots, skipping
		        * rows another worker holds: one receiver's backlog never crowds out the rest. */
		       "due AS ("
		       "  SELECT c.id, c.next_attempt_at FROM webhooks w LEFT JOIN inflight i ON i.webhook_id = w.id "
		       "  CROSS JOIN LATERAL ("
		       "    SELECT d.id, d.next_attempt_at FROM webhook_deliveries d "
		       "    WHERE d.webhook_id = w.id AND d.status = 'pending' AND d.next_attempt_at <= now() "
		       "    AND (d.lease_expires_at IS NULL OR d.lease_expires_at < now()) "
		       "    ORDER BY d.next_attempt_at LIMIT greatest($3::int - coalesce(i.n, 0), 0) "
		       "    FOR UPDATE OF d SKIP LOCKED) c "
		       "  WHERE w.is_active AND coalesce(i.n, 0) < $3::int), "
		       "chosen AS (SELECT id FROM due ORDER BY next_attempt_at LIMIT $2::int) "
		       "UPDATE webhook_deliveries d SET lease_owner = $1, attempt_count = d.attempt_count + 1, "
		       "updated_at = now(), "
		       "lease_expires_at = now() + make_interval(secs => w.timeout_seconds + $4::int) "
		       "FROM chosen c, webhooks w, events e WHERE d.id = c.id AND w.id = d.webhook_id AND e.id = "
		       "d.event_id" CLAIM_RETURNING,
		       4, p);
}

enum db_status webhook_test_delivery(struct arena *a, const char *owner, const char *user_id, const char *webhook_id,
				     const char *message_id, const char *data_json, PGresult **res)
{
	const char *p[] = {owner, user_id, webhook_id, message_id, data_json, lease_margin(a)};
	/* next_attempt_at 'infinity' keeps the worker away while this process holds the
	 * lease; when the lease lapses (the process died), housekeeping makes it due. */
	return db_exec(
		a, res,
		"WITH w AS (SELECT * FROM webhooks WHERE id = $3 AND user_id = $2), "
		"e AS (INSERT INTO events (user_id, type, data, message_id) SELECT $2, 'webhook.test', $5::jsonb, $4 "
		"  FROM w RETURNING id, message_id, type, data, created_at), "
		"d AS (INSERT INTO webhook_deliveries (webhook_id, event_id, user_id, next_attempt_at, lease_owner, "
		"  lease_expires_at, attempt_count) SELECT w.id, e.id, $2, 'infinity', $1, "
		"  now() + make_interval(secs => w.timeout_seconds + $6::int), 1 FROM w, e RETURNING *) "
		"SELECT d.id, d.webhook_id, d.user_id, w.url, e.message_id, e.type, e.data::text, " SQL_RFC3339(
			"e.created_at") ", w.secret, "
					"CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END, "
					"d.attempt_count, "
					"w.retry_count, w.timeout_seconds FROM d, w, e",
		6, p);
}

int webhook_job_from_row(struct arena *a, const PGresult *res, int r, struct webhook_job *job)
{
	memset(job, 0, sizeof(*job));
	job->delivery_id = PQgetvalue(res, r, 0);
	job->webhook_id = PQgetvalue(res, r, 1);
	job->user_id = PQgetvalue(res, r, 2);
	job->url = PQgetvalue(res, r, 3);
	job->message_id = PQgetvalue(res, r, 4);
	job->event_type = PQgetvalue(res, r, 5);
	job->body = webhook_body(a, job->event_type, PQgetvalue(res, r, 7), PQgetvalue(res, r, 6));
	job->attempt = atoi(PQgetvalue(res, r, 10));
	job->retry_count = atoi(PQgetvalue(res, r, 11));
	job->timeout_seconds = atoi(PQgetvalue(res, r, 12));
	const char *aad = webhook_secret_aad(a, job->webhook_id);
	int k = 0;
	for (int c = 8; c <= 9; c++) {
		const char *sealed = db_value(res, r, c);
		char *secret;
		if (!sealed)
			continue;
		if (crypto_open(a, sealed, aad, &secret, NULL)) {
			if (c == 8)
				return -1; /* the current secret: nothing may be sent unsigned */
			continue;	   /* a previous one that no key opens: sign with the current only */
		}
		job->secrets[k++] = secret;
	}
	return k ? 0 : -1;
}
