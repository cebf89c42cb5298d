/* Webhook deliveries in the worker: claim, send many at once, settle. No database
 * transaction is open while a request is on the wire. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/log.h"
#include "db/db.h"
#include "webhooks/delivery_store.h"
#include "webhooks/webhook_send.h"
#include "worker.h"

struct job {
	struct arena *a;
	struct webhook_job job;
	struct webhook_send send;
};

struct deliveries {
	CURLM *multi;
	const char *owner;
	int max, per_webhook, in_flight;
	struct arena *claim_arena;
};

struct deliveries *deliveries_new(CURLM *multi, const char *owner, int max_in_flight, int per_webhook)
{
	struct deliveries *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->multi = multi;
	d->owner = owner;
	d->max = max_in_flight;
	d->per_webhook = per_webhook;
	d->claim_arena = arena_new();
	return d;
}

void deliveries_free(struct deliveries *d)
{
	if (!d)
		return;
	arena_free(d->claim_arena);
	free(d);
}

int deliveries_in_flight(const struct deliveries *d)
{
	return d->in_flight;
}

static void job_free(struct job *j)
{
	webhook_send_free(&j->send);
	arena_free(j->a);
	free(j);
}

/* Settles a job that cannot be sent (its secret will not open): the attempt is
 * recorded as failed like any other, so it is retried and eventually visible. */
static void settle_unsendable(struct deliveries *d, struct job *j, const char *why)
{
	struct webhook_attempt at = {.error = why, .retry_after = -1};
	enum webhook_outcome o;
	delivery_store_finish(j->a, &j->job, &at, d->owner, &o);
}

int deliveries_claim(struct deliveries *d, bool *full)
{
	int room = d->max - d->in_flight;
	*full = room <= 0;
	if (room <= 0)
		return 0;
	struct delivery_claim c;
	arena_reset(d->claim_arena);
	if (delivery_store_claim(d->claim_arena, d->owner, room, d->per_webhook, &c) != DB_OK)
		return -1;
	*full = c.n == room;
	int started = 0;
	for (int i = 0; i < c.n; i++) {
		struct job *j = calloc(1, sizeof(*j));
		if (!j || !(j->a = arena_new())) {
			free(j);
			continue; /* the lease expires and another attempt follows */
		}
		/* The job keeps everything in its own arena: the claim's is reset next round. */
		if (delivery_claim_job(&c, i, j->a, &j->job)) {
			log_msg(LOG_ERROR, "delivery %s: the webhook secret cannot be opened", j->job.delivery_id);
			settle_unsendable(d, j, "the webhook's signing secret cannot be opened");
			job_free(j);
			continue;
		}
		if (webhook_send_init(&j->send, j->a, &j->job, time(NULL))) {
			settle_unsendable(d, j, "the request could not be prepared");
			job_free(j);
			continue;
		}
		j->send.owner = j;
		curl_multi_add_handle(d->multi, j->send.easy);
		d->in_flight++;
		started++;
	}
	return started;
}

/* Settles every finished transfer in one transaction: one statement and one commit (one
 * WAL flush) per batch, not per delivery. If the batch fails, nothing is settled: the leases expire
 * and the deliveries are attempted again (at least once, never lost). */
int deliveries_reap(struct deliveries *d)
{
	struct job *done[256];
	int n = 0;
	CURLMsg *msg;
	int left;
	while (n < (int)(sizeof(done) / sizeof(done[0])) && (msg = curl_multi_info_read(d->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct webhook_send *s = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		CURLcode rc = msg->data.result;
		curl_multi_remove_handle(d->multi, msg->easy_handle);
		d->in_flight--;
		struct job *j = s->owner;
		j->send.result = rc;
		done[n++] = j;
	}
	if (n == 0)
		return 0;
	struct webhook_attempt at[sizeof(done) / sizeof(done[0])];
	struct delivery_result results[sizeof(done) / sizeof(done[0])];
	for (int i = 0; i < n; i++) {
		webhook_send_result(&done[i]->send, done[i]->a, done[i]->send.result, &at[i]);
		results[i] = (struct delivery_result){&done[i]->job, &at[i]};
	}
	/* The batch's JSON and results live until this batch is settled, no longer. */
	struct arena *batch = arena_new();
	/* Asynchronous commit: a batch a server crash forgets is sent again when its leases
	 * lapse (db.h, db_exec_async_commit), so the worker never waits for the disk here. */
	enum db_status st = batch ? db_begin_async_commit(batch) : DB_ERROR;
	if (st == DB_OK)
		st = delivery_store_record_batch(batch, results, n, d->owner);
	if (st == DB_OK)
		st = db_commit(d->claim_arena);
	if (st != DB_OK && st != DB_UNAVAILABLE) {
		/* One result the database refuses must not hold back the others: settle them
		 * one by one, each in its own transaction. */
		db_rollback(d->claim_arena);
		for (int i = 0; i < n; i++) {
			enum webhook_outcome o;
			if (delivery_store_finish(done[i]->a, &done[i]->job, &at[i], d->owner, &o) != DB_OK)
				log_msg(LOG_WARN,
					"delivery %s: result not recorded; the lease will expire and it is retried",
					done[i]->job.delivery_id);
		}
	} else if (st != DB_OK) {
		db_rollback(d->claim_arena);
		log_msg(LOG_WARN, "%d results not recorded; their leases will expire and they are retried", n);
	}
	arena_free(batch);
	for (int i = 0; i < n; i++)
		job_free(done[i]);
	return n;
}
