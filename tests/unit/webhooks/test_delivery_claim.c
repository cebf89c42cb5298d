/* Unit tests of delivery_store_claim (lib/webhooks/delivery_claim.c) against a real
 * PostgreSQL with the repository's schema (pg_cluster.h).
 *
 * The claim must stay index probes on tables never analyzed: a new install's first minute
 * under load, and make bench's fresh stack. With a grouped count of every leased row it was
 * planned as a sequential scan of all deliveries per claim (9.4 ms a claim at 15k rows,
 * the drain down to a third). And it must keep its rules: each webhook gets at most its
 * free slots (per_webhook minus its live leases), one webhook's backlog never crowds out
 * another's, and lapsed leases free their slots and their rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../pg_cluster.h"
#include "core/arena.h"
#include "db/db.h"
#include "webhooks/delivery_store.h"

#define BACKLOG 20000 /* deliveries of webhook A; webhook B has SMALL */
#define SMALL	40
#define STR(x)	#x
#define XSTR(x) STR(x)

static struct arena *a;
static const char *hook_a, *hook_b;

static const char *one_value(const char *sql, int n, const char *const *params)
{
	PGresult *res;
	if (db_exec(a, &res, sql, n, params) != DB_OK || PQntuples(res) != 1)
		return NULL;
	return arena_strdup(a, PQgetvalue(res, 0, 0));
}

static int group_setup(void **state)
{
	(void)state;
	if (pgc_open_schema())
		return -1;
	a = arena_new();
	/* No analyze may run behind the test's back: the first test is about a table without
	 * statistics. */
	if (db_exec(a, NULL, "ALTER TABLE webhook_deliveries SET (autovacuum_enabled = off)", 0, NULL) != DB_OK ||
	    db_exec(a, NULL, "ALTER TABLE events SET (autovacuum_enabled = off)", 0, NULL) != DB_OK ||
	    db_exec(a, NULL, "ALTER TABLE webhooks SET (autovacuum_enabled = off)", 0, NULL) != DB_OK)
		return -1;
	const char *user = one_value("INSERT INTO users (email, name, password_hash) "
				     "VALUES ('claim@example.com', 'C', 'x') RETURNING id",
				     0, NULL);
	const char *p[] = {user};
	const char *hook = "INSERT INTO webhooks (user_id, name, url, events, secret) "
			   "VALUES ($1, 'h', 'http://127.0.0.1:9/', '{t}', 'sealed') RETURNING id";
	hook_a = one_value(hook, 1, p);
	hook_b = one_value(hook, 1, p);
	if (!user || !hook_a || !hook_b)
		return -1;
	const char *q[] = {user, hook_a, hook_b};
	return db_exec(a, NULL,
		       "WITH e AS (INSERT INTO events (user_id, type, message_id) "
		       "  SELECT $1, 't', 'msg_' || i FROM generate_series(1, " XSTR(
			       BACKLOG) ") i RETURNING id, message_id) "
					"INSERT INTO webhook_deliveries (webhook_id, event_id, user_id, "
					"next_attempt_at) "
					"SELECT $2::uuid, id, $1::uuid, now() - interval '1 hour' FROM e UNION ALL "
					"SELECT $3::uuid, id, $1::uuid, now() - interval '1 hour' FROM e "
					"WHERE substr(message_id, 5)::int <= " XSTR(SMALL),
		       3, q) == DB_OK
		       ? 0
		       : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	arena_free(a);
	pgc_close_schema();
	return 0;
}

/* Rows this backend has read from webhook_deliveries by sequential scan, flushed first. */
static long seq_rows_read(void)
{
	assert_int_equal(db_exec(a, NULL, "SELECT pg_stat_force_next_flush()", 0, NULL), DB_OK);
	const char *v = one_value("SELECT coalesce(seq_tup_read, 0) FROM pg_stat_user_tables "
				  "WHERE relname = 'webhook_deliveries'",
				  0, NULL);
	assert_non_null(v);
	return atol(v);
}

/* Claims for owner and says how many of the rows belong to webhooks A and B. */
static void claim(const char *owner, int limit, int per_webhook, int *of_a, int *of_b)
{
	struct delivery_claim c;
	assert_int_equal(delivery_store_claim(a, owner, limit, per_webhook, &c), DB_OK);
	*of_a = *of_b = 0;
	for (int i = 0; i < c.n; i++) {
		const char *hook = PQgetvalue(c.res, i, 1); /* CLAIM_COLUMNS: d.webhook_id second */
		*of_a += strcmp(hook, hook_a) == 0;
		*of_b += strcmp(hook, hook_b) == 0;
	}
	assert_int_equal(*of_a + *of_b, c.n);
}

static void test_claim_without_statistics_reads_no_table(void **state)
{
	(void)state;
	/* The premise: the planner knows nothing of the table. */
	const char *tuples = one_value("SELECT reltuples FROM pg_class WHERE relname = 'webhook_deliveries'", 0, NULL);
	assert_non_null(tuples);
	assert_int_equal(atol(tuples), -1);
	int of_a, of_b;
	for (int round = 0; round < 3; round++) {
		long before = seq_rows_read();
		claim("unit-stats", 16, 16, &of_a, &of_b);
		assert_int_equal(of_a + of_b, 16);
		/* Before the fix every claim read all 20,040 rows. */
		assert_true(seq_rows_read() - before < (BACKLOG + SMALL) / 10);
		assert_int_equal(db_exec(a, NULL,
					 "UPDATE webhook_deliveries SET lease_owner = NULL, "
					 "lease_expires_at = NULL WHERE lease_owner = 'unit-stats'",
					 0, NULL),
				 DB_OK);
	}
}

static void test_claim_keeps_each_webhooks_cap(void **state)
{
	(void)state;
	int of_a, of_b;
	assert_int_equal(
		db_exec(a, NULL, "UPDATE webhook_deliveries SET lease_owner = NULL, lease_expires_at = NULL", 0, NULL),
		DB_OK);
	/* Room for 64, 16 per webhook: each gets 16, B's small backlog is not crowded out. */
	claim("unit-w1", 64, 16, &of_a, &of_b);
	assert_int_equal(of_a, 16);
	assert_int_equal(of_b, 16);
	/* Another worker: both webhooks are at their cap, counted over live leases. */
	claim("unit-w2", 64, 16, &of_a, &of_b);
	assert_int_equal(of_a + of_b, 0);
	/* A higher cap leaves 4 free slots each. */
	claim("unit-w2", 64, 20, &of_a, &of_b);
	assert_int_equal(of_a, 4);
	assert_int_equal(of_b, 4);
	/* Lapsed leases free their slots, and their rows are claimable again: B has 40, of
	 * which 20 were leased, so 16 of them again. */
	assert_int_equal(db_exec(a, NULL,
				 "UPDATE webhook_deliveries SET lease_expires_at = now() - interval '1 second' "
				 "WHERE lease_owner IS NOT NULL",
				 0, NULL),
			 DB_OK);
	claim("unit-w3", 64, 16, &of_a, &of_b);
	assert_int_equal(of_a, 16);
	assert_int_equal(of_b, 16);
	/* The limit binds before the caps do. */
	assert_int_equal(
		db_exec(a, NULL, "UPDATE webhook_deliveries SET lease_owner = NULL, lease_expires_at = NULL", 0, NULL),
		DB_OK);
	claim("unit-w4", 10, 16, &of_a, &of_b);
	assert_int_equal(of_a + of_b, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_without_statistics_reads_no_table),
		cmocka_unit_test(test_claim_keeps_each_webhooks_cap),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
