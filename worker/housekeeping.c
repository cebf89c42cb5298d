/* Periodic jobs of the worker: things no request waits for. */
#include "auth/oauth_code_store.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "db/db.h"
#include "events/events.h"
#include "http/apilog.h"
#include "webhooks/delivery_store.h"
#include "worker.h"

void housekeeping_run(void)
{
	struct arena *a = arena_new();
	if (!a)
		return;
	/* Deliveries of a webhook that was switched off will never be sent. */
	delivery_store_fail_inactive(a);
	/* A test send whose responder died mid-request: due now, the worker retries it. */
	delivery_store_release_abandoned_tests(a);
	/* Idempotency keys are promised for 24 hours. */
	events_release_idempotency_keys(a);
	/* Health history: what a person looks back on, a month of it. */
	db_exec(a, NULL, "DELETE FROM integration_health_checks WHERE checked_at < now() - interval '30 days'", 0,
		NULL);
	/* Consent requests and authorization codes long expired. */
	if (oauth_code_prune(a) != DB_OK)
		log_msg(LOG_WARN, "pruning OAuth consent requests and codes failed; trying again next round");
	/* Request logs of keys and clients: kept for the configured retention. */
	if (api_request_logs_prune(a, config_int("SB_REQUEST_LOG_RETENTION_DAYS", 90, 1, 3650)) < 0)
		log_msg(LOG_WARN, "pruning api_request_logs failed; trying again next round");
	arena_free(a);
}
