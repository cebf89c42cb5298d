/* prune_request_logs: deletes api_request_logs rows older than the retention
 * (--days N, else SB_REQUEST_LOG_RETENTION_DAYS, default 90) and rate-limit counter
 * windows too old to count, through api_request_logs_prune(), the function the worker
 * calls on its schedule. For cron on hosts without the worker, and for tests.
 * Prints the number of log rows deleted. Exit status 0, or 1 on database trouble. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "db/db.h"
#include "http/apilog.h"

int main(int argc, char **argv)
{
	log_init("prune_request_logs");
	if (config_load())
		return 1;
	long days = config_int("SB_REQUEST_LOG_RETENTION_DAYS", 90, 1, 36500);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--days") && i + 1 < argc) {
			days = atol(argv[++i]);
		} else {
			fprintf(stderr, "usage: %s [--days N]\n", argv[0]);
			return 2;
		}
	}
	if (days < 1) {
		fprintf(stderr, "prune_request_logs: --days must be at least 1\n");
		return 2;
	}
	db_init(config_str("DATABASE_URL", "postgresql:///switchboard"));
	struct arena *a = arena_new();
	int n = a ? api_request_logs_prune(a, days) : -1;
	arena_free(a);
	db_close();
	if (n < 0) {
		fprintf(stderr, "prune_request_logs: database error\n");
		return 1;
	}
	printf("%d\n", n);
	return 0;
}
