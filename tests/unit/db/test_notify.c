/* Unit tests of db_notify_after_commit and db_exec_async_commit (lib/db/db.c) against a
 * real PostgreSQL (tests/unit/pg_cluster.h): SB_TEST_DATABASE_URL when set, else a
 * throwaway cluster of the test's own under /tmp, removed at the end.
 *
 * A second connection LISTENs: nothing arrives before COMMIT, one notification after
 * it, nothing after ROLLBACK (and a later transaction does not send the dropped one),
 * one per channel however often a transaction asks for it, and at once outside a
 * transaction. The asynchronous-commit helper turns the setting on for its statement
 * only, and refuses inside a transaction or without its FROM item. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "db/db.h"
#include "../pg_cluster.h"

#define CH "sb_unit_notify"
#define CH2 "sb_unit_notify_2"
#define FENCE "sb_unit_notify_fence"

static PGconn *listener;
static struct arena *a;

static int group_setup(void **state)
{
	(void)state;
	if (pgc_start()) {
		fprintf(stderr, "could not start a PostgreSQL cluster (see %s/setup.log)\n", pgc_dir);
		return -1;
	}
	db_init(pgc_conninfo);
	listener = PQconnectdb(pgc_conninfo);
	if (PQstatus(listener) != CONNECTION_OK)
		return fprintf(stderr, "listener: %s", PQerrorMessage(listener)), -1;
	PQclear(PQexec(listener, "LISTEN " CH));
	PQclear(PQexec(listener, "LISTEN " CH2));
	PQclear(PQexec(listener, "LISTEN " FENCE));
	a = arena_new();
	return db_conn() ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	arena_free(a);
	PQfinish(listener);
	db_close();
	pgc_stop();
	return 0;
}

/* Every notification on ch and ch2 committed before now. The listener commits a fence
 * notification of its own and reads until the fence arrives: PostgreSQL delivers the
 * notifications of different transactions in commit order, so what has not come by then
 * was never sent, and no test waits a fixed time to see that nothing came. */
static void collect(int *n, int *n2)
{
	*n = *n2 = 0;
	PQclear(PQexec(listener, "NOTIFY " FENCE));
	for (bool fenced = false; !fenced;) {
		PQconsumeInput(listener);
		PGnotify *m;
		while ((m = PQnotifies(listener))) {
			if (!strcmp(m->relname, CH))
				(*n)++;
			else if (!strcmp(m->relname, CH2))
				(*n2)++;
			else if (!strcmp(m->relname, FENCE))
				fenced = true;
			PQfreemem(m);
		}
		struct pollfd p = {PQsocket(listener), POLLIN, 0};
		/* The deadline only ends a broken run: the fence is on its way. */
		if (!fenced)
			assert_true(poll(&p, 1, 10000) == 1);
	}
}

static void test_nothing_before_commit_one_after(void **state)
{
	(void)state;
	int n, n2;
	assert_int_equal(db_begin(a), DB_OK);
	assert_int_equal(db_exec(a, NULL, "CREATE TEMP TABLE t1 (x int)", 0, NULL), DB_OK);
	db_notify_after_commit(a, CH);
	collect(&n, &n2);
	assert_int_equal(n, 0);
	assert_int_equal(db_commit(a), DB_OK);
	collect(&n, &n2);
	assert_int_equal(n, 1);
	assert_int_equal(n2, 0);
	arena_reset(a);
}

static void test_nothing_after_rollback(void **state)
{
	(void)state;
	int n, n2;
	assert_int_equal(db_begin(a), DB_OK);
	db_notify_after_commit(a, CH);
	db_notify_after_commit(a, CH2);
	db_rollback(a);
	collect(&n, &n2);
	assert_int_equal(n + n2, 0);
	/* The dropped notification does not ride on the next commit either. */
	assert_int_equal(db_begin(a), DB_OK);
	assert_int_equal(db_commit(a), DB_OK);
	collect(&n, &n2);
	assert_int_equal(n + n2, 0);
	arena_reset(a);
}

/* db.h: "sent after the transaction commits"; db.c keeps each channel once per
 * transaction, so asking again sends one notification, and another channel its own. */
static void test_once_per_channel(void **state)
{
	(void)state;
	int n, n2;
	assert_int_equal(db_begin(a), DB_OK);
	db_notify_after_commit(a, CH);
	db_notify_after_commit(a, CH2);
	db_notify_after_commit(a, CH);
	db_notify_after_commit(a, CH);
	assert_int_equal(db_commit(a), DB_OK);
	collect(&n, &n2);
	assert_int_equal(n, 1);
	assert_int_equal(n2, 1);
	arena_reset(a);
}

static void test_outside_a_transaction_at_once(void **state)
{
	(void)state;
	int n, n2;
	db_notify_after_commit(a, CH);
	collect(&n, &n2);
	assert_int_equal(n, 1);
	arena_reset(a);
}

static const char *one_value(const char *sql)
{
	PGresult *res;
	if (db_exec(a, &res, sql, 0, NULL) != DB_OK || PQntuples(res) != 1)
		return "?";
	return PQgetvalue(res, 0, 0);
}

static void test_async_commit_for_its_statement_only(void **state)
{
	(void)state;
	PGresult *res;
	assert_int_equal(db_exec_async_commit(a, &res,
					      "SELECT current_setting('synchronous_commit') FROM " DB_ASYNC_COMMIT_FROM,
					      0, NULL),
			 DB_OK);
	assert_string_equal(PQgetvalue(res, 0, 0), "off");
	assert_string_equal(one_value("SHOW synchronous_commit"), "on");
	/* Inside a transaction it would make the whole commit asynchronous: refused. */
	assert_int_equal(db_begin(a), DB_OK);
	assert_int_equal(db_exec_async_commit(a, &res, "SELECT 1 FROM " DB_ASYNC_COMMIT_FROM, 0, NULL), DB_ERROR);
	assert_null(res);
	assert_string_equal(one_value("SHOW synchronous_commit"), "on");
	db_rollback(a);
	/* A statement that does not turn it on is a mistake of its caller. */
	assert_int_equal(db_exec_async_commit(a, &res, "SELECT 1", 0, NULL), DB_ERROR);
	arena_reset(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_before_commit_one_after),
		cmocka_unit_test(test_nothing_after_rollback),
		cmocka_unit_test(test_once_per_channel),
		cmocka_unit_test(test_outside_a_transaction_at_once),
		cmocka_unit_test(test_async_commit_for_its_statement_only),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
