/* Claiming deliveries for sending: short leases taken with FOR UPDATE SKIP LOCKED, a cap
 * on deliveries in flight per webhook in the claim itself, and turning a claimed row
 * into a job (secrets opened, body built). */
#ifndef SB_WEBHOOK_STORE_H
#define SB_WEBHOOK_STORE_H

#include "db/db.h"
#include "webhooks/webhook.h"

/* Claims up to limit due deliveries for owner, at most per_webhook in flight per
 * webhook. Rows are read with webhook_job_from_row. */
enum db_status webhook_claim(struct arena *a, const char *owner, int limit, int per_webhook, PGresult **res);
/* Creates a webhook.test event and its one delivery to webhook_id (of user_id), leased to
 * owner from the start, in one statement: no state exists in which the delivery is
 * neither claimable nor leased. Rows as from webhook_claim (none: no such webhook). */
enum db_status webhook_test_delivery(struct arena *a, const char *owner, const char *user_id, const char *webhook_id,
				     const char *message_id, const char *data_json, PGresult **res);
/* Fills *job from row r of a claim. Returns 0, or -1 when a secret cannot be opened. */
int webhook_job_from_row(struct arena *a, const PGresult *res, int r, struct webhook_job *job);

#endif
