/* webhook_deliveries and webhook_attempts: the delivery log a user reads, redelivery,
 * test deliveries, and the sender's side shared by the worker and test sends: claiming
 * due deliveries under short leases (FOR UPDATE SKIP LOCKED, a cap on deliveries in
 * flight per webhook in the claim itself), recording each attempt and settling its
 * delivery, and the housekeeping of deliveries that can no longer be sent. */
#ifndef SB_DELIVERY_STORE_H
#define SB_DELIVERY_STORE_H

#include <stdbool.h>

#include "db/db.h"
#include "webhooks/webhook.h"

struct arena;
struct json_object;

/* NULL when status is a valid filter of the log (NULL, pending, delivered, failed),
 * else the message for the user. */
const char *delivery_status_filter_check(const char *status);

/* One page (from 1) of the deliveries of webhook_id (the caller checked it is the
 * user's), newest first, each with every attempt; status and event_type filter when not
 * NULL. *items (caller owns) and *total. */
enum db_status delivery_store_list(struct arena *a, const char *webhook_id, const char *status, const char *event_type,
				   long page, long limit, struct json_object **items, long long *total);

/* How a redelivery went. */
enum delivery_redelivery { DELIVERY_REDELIVERED, DELIVERY_NOT_FOUND, DELIVERY_WEBHOOK_INACTIVE };
struct delivery_redelivered {
	enum delivery_redelivery outcome;
	const char *delivery_id, *message_id; /* of the new delivery when redelivered */
};

/* A new delivery of the event of delivery_id (of webhook_id of user_id), with the same
 * message id so receivers can deduplicate; the worker is woken at commit. Runs in the
 * caller's transaction. */
enum db_status delivery_store_redeliver(struct arena *a, const char *user_id, const char *webhook_id,
					const char *delivery_id, struct delivery_redelivered *out);

/* How a recovery went: DELIVERY_REDELIVERED (count new deliveries, more when the cap
 * left some for another call), DELIVERY_NOT_FOUND (no such webhook),
 * DELIVERY_WEBHOOK_INACTIVE. */
struct delivery_recovered {
	enum delivery_redelivery outcome;
	int count;
	bool more;
};

/* A new delivery (same message id) of each failed delivery of webhook_id (of user_id)
 * created at or after since (RFC 3339, checked by the caller), oldest first, at most
 * max. Idempotent per delivery: a failed delivery whose event already has a later
 * delivery to this webhook (an earlier recovery or redelivery) is not sent again, so
 * calling twice sends each once. In the caller's transaction. */
enum db_status delivery_store_recover(struct arena *a, const char *user_id, const char *webhook_id, const char *since,
				      int max, struct delivery_recovered *out);

/* Deliveries claimed for sending: read each with delivery_claim_job. */
struct delivery_claim {
	PGresult *res; /* owned by the arena of the claim */
	int n;
};

/* Claims up to limit due deliveries for owner, at most per_webhook in flight per
 * webhook, each leased for its webhook's timeout plus SB_WEBHOOK_LEASE_MARGIN_SECONDS. */
enum db_status delivery_store_claim(struct arena *a, const char *owner, int limit, int per_webhook,
				    struct delivery_claim *c);

/* Creates a webhook.test event and its one delivery to webhook_id (of user_id), leased to
 * owner from the start, in one statement: no state exists in which the delivery is
 * neither claimable nor leased. c->n is 0 when there is no such webhook. */
enum db_status delivery_store_create_test(struct arena *a, const char *owner, const char *user_id,
					  const char *webhook_id, const char *message_id, const char *data_json,
					  struct delivery_claim *c);

/* Fills *job from claimed delivery i, every string in the arena a (which may outlive the
 * claim's). Returns 0, or -1 when the webhook's current secret cannot be opened (the
 * job is complete but for its secrets: it can be settled, not sent). */
int delivery_claim_job(const struct delivery_claim *c, int i, struct arena *a, struct webhook_job *job);

/* Records the attempt and settles the delivery: delivered, retried later, failed, or
 * (410 Gone, or failing for SB_WEBHOOK_DISABLE_AFTER_SECONDS) the webhook disabled and
 * audited. Only the lease owner may complete a claimed delivery: a lost lease writes
 * nothing. In the caller's transaction (the worker settles a batch in one commit). */
enum db_status delivery_store_record(struct arena *a, const struct webhook_job *job, const struct webhook_attempt *at,
				     const char *lease_owner, enum webhook_outcome *outcome);

/* A finished attempt: what delivery_store_record_batch settles. */
struct delivery_result {
	const struct webhook_job *job;
	const struct webhook_attempt *at;
};

/* delivery_store_record for n results at once: the settles, the attempts and the
 * delivered webhooks' resets in one statement, then a failure's count per failed one.
 * In the caller's transaction; if it fails, none is settled. */
enum db_status delivery_store_record_batch(struct arena *a, const struct delivery_result *r, int n,
					   const char *lease_owner);

/* As delivery_store_record, in a transaction of its own. */
enum db_status delivery_store_finish(struct arena *a, const struct webhook_job *job, const struct webhook_attempt *at,
				     const char *lease_owner, enum webhook_outcome *outcome);

/* Settles a delivery that could not even be attempted as failed with why, at once. */
enum db_status delivery_store_fail(struct arena *a, const char *delivery_id, const char *why);

/* Housekeeping: pending deliveries of webhooks switched off fail (they will never be
 * sent); test sends whose process died mid-request become due for the worker. */
enum db_status delivery_store_fail_inactive(struct arena *a);
enum db_status delivery_store_release_abandoned_tests(struct arena *a);

#endif
