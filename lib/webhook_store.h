/* Claiming deliveries for sending: short leases taken with FOR UPDATE SKIP LOCKED, a cap
 * on deliveries in flight per webhook in the claim itself, and turning a claimed row
 * into a job (secrets opened, body built). */
#ifndef SB_WEBHOOK_STORE_H
#define SB_WEBHOOK_STORE_H

#include "db.h"
#include "webhook.h"

/* Claims up to limit due deliveries for owner, at most per_webhook in flight per
 * webhook. Rows are read with webhook_job_from_row. */
enum db_status webhook_claim(struct arena *a, const char *owner, int limit, int per_webhook, PGresult **res);
/* Claims one given delivery (a test send) for owner, whatever its schedule. */
enum db_status webhook_claim_one(struct arena *a, const char *owner, const char *delivery_id, PGresult **res);
/* Fills *job from row r of a claim. Returns 0, or -1 when a secret cannot be opened. */
int webhook_job_from_row(struct arena *a, const PGresult *res, int r, struct webhook_job *job);

#endif
