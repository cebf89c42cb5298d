/* Periodic jobs of the worker: things no request waits for. */
#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "db/db.h"
#include "http/apilog.h"
#include "worker.h"

void housekeeping_run(void)
{
	struct arena *a = arena_new();
	if (!a)
		return;
	/* Deliveries of a webhook that was switched off will never be sent. */
	db_exec(a, NULL,
		"UPDATE webhook_deliveries SET status = 'failed', last_error = 'the webhook is disabled', updated_at = "
		"now() "
		"WHERE status = 'pending' AND webhook_id IN (SELECT id FROM webhooks WHERE NOT is_active) "
		"AND (lease_expires_at IS NULL OR lease_expires_at < now())",
		0, NULL);
	/* A test send whose responder died mid-request: due now, the worker retries it. */
	db_exec(a, NULL,
		"UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'pending' "
		"AND next_attempt_at = 'infinity' AND coalesce(lease_expires_at, updated_at + interval '5 minutes') < "
		"now()",
		0, NULL);
	/* Idempotency keys are promised for 24 hours. */
	db_exec(a, NULL,
		"UPDATE events SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL "
		"AND created_at < now() - interval '24 hours'",
		0, NULL);
	/* Health history: what a person looks back on, a month of it. */
	db_exec(a, NULL, "DELETE FROM integration_health_checks WHERE checked_at < now() - interval '30 days'", 0,
		NULL);
	/* Request logs of keys and clients: kept for the configured retention. */
	if (api_request_logs_prune(a, config_int("SB_REQUEST_LOG_RETENTION_DAYS", 90, 1, 3650)) < 0)
		log_msg(LOG_WARN, "pruning api_request_logs failed; trying again next round");
	arena_free(a);
}
