/* libpq wrapper; see db.h. */
#include "db/db.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/log.h"

static unsigned long generation;
static char *conninfo;
static PGconn *conn;
static bool in_transaction;
/* Counts BEGINs: a transaction guard on an arena rolls back only the transaction it saw
 * begin, never a later one on the same connection. */
static unsigned long tx_serial;
/* Channels db_notify_after_commit holds back until COMMIT (few distinct ones exist). */
#define NOTIFY_PENDING_MAX 4
static const char *notify_pending[NOTIFY_PENDING_MAX];
static int notify_npending;

/* Statements prepared on the current connection, found by their text. Every SQL text
 * in the code base is a literal, so the set is small and fixed; planning each once per
 * connection instead of once per request is the cheapest speed-up a hot path gets. */
#define STMT_SLOTS 256
struct stmt {
	char *sql;
	unsigned long hash;
	char name[12];
};
static struct stmt stmts[STMT_SLOTS];
static size_t nstmts;

static unsigned long sql_hash(const char *s)
{
	unsigned long h = 1469598103934665603UL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211UL;
	return h;
}

static void stmts_forget(void)
{
	for (size_t i = 0; i < nstmts; i++)
		free(stmts[i].sql);
	nstmts = 0;
}

/* Runs sql as a statement prepared on c, preparing it on first use. A failed PREPARE
 * is returned as the result: it carries the same error the execution would have. */
static PGresult *exec_prepared(PGconn *c, const char *sql, int n, const char *const *params)
{
	unsigned long h = sql_hash(sql);
	for (size_t i = 0; i < nstmts; i++)
		if (stmts[i].hash == h && !strcmp(stmts[i].sql, sql))
			return PQexecPrepared(c, stmts[i].name, n, params, NULL, NULL, 0);
	if (nstmts == STMT_SLOTS)
		return PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	struct stmt *st = &stmts[nstmts];
	snprintf(st->name, sizeof(st->name), "sb%zu", nstmts);
	PGresult *r = PQprepare(c, st->name, sql, n, NULL);
	if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
		return r;
	PQclear(r);
	if (!(st->sql = strdup(sql)))
		return PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	st->hash = h;
	nstmts++;
	return PQexecPrepared(c, st->name, n, params, NULL, NULL, 0);
}

static void notice_quiet(void *arg, const PGresult *res)
{
	(void)arg;
	(void)res;
}

static void pqclear(void *res)
{
	PQclear(res);
}

static PGconn *connect_now(void)
{
	/* connect_timeout bounds how long a request waits for a database that is gone. */
	const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
	const char *vals[] = {conninfo, "3", "switchboard", NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c) != CONNECTION_OK) {
		log_msg(LOG_WARN, "database connection failed: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeReceiver(c, notice_quiet, NULL);
	generation++;
	return c;
}

void db_init(const char *info)
{
	free(conninfo);
	conninfo = strdup(info ? info : "");
	db_close();
	conn = connect_now();
}

void db_close(void)
{
	if (conn)
		PQfinish(conn);
	conn = NULL;
	in_transaction = false;
	stmts_forget();
}

unsigned long db_generation(void)
{
	return generation;
}

void db_forget_after_fork(void)
{
	if (conn)
		close(PQsocket(conn)); /* our copy of the descriptor only; PQfinish would end the session */
	conn = NULL;		       /* the PGconn struct is left behind: freeing it would write to the socket */
	in_transaction = false;
	stmts_forget();
}

PGconn *db_conn(void)
{
	if (conn && PQstatus(conn) == CONNECTION_OK)
		return conn;
	db_close();
	conn = connect_now();
	return conn;
}

static enum db_status classify(const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (!state)
		return DB_UNAVAILABLE;
	if (!strcmp(state, "23505") || !strcmp(state, "23P01"))
		return DB_CONFLICT;
	if (!strncmp(state, "23", 2) || !strncmp(state, "22", 2))
		return DB_INVALID;
	/* Class 08: connection exceptions; 57P01..3: server shutting down / cannot connect. */
	if (!strncmp(state, "08", 2) || !strncmp(state, "57P", 3))
		return DB_UNAVAILABLE;
	return DB_ERROR;
}

enum db_status db_exec(struct arena *a, PGresult **res, const char *sql, int n, const char *const *params)
{
	if (res)
		*res = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		PGconn *c = db_conn();
		if (!c)
			return DB_UNAVAILABLE;
		PGresult *r = n ? exec_prepared(c, sql, n, params) : PQexec(c, sql);
		ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			if (res)
				*res = arena_defer(a, pqclear, r);
			else
				PQclear(r);
			return DB_OK;
		}
		enum db_status s = classify(r);
		if (PQstatus(c) == CONNECTION_BAD) {
			/* The connection died: the statement did not commit. Retry only outside a
			 * transaction, where nothing else depends on the lost session. */
			PQclear(r);
			bool was_in_tx = in_transaction;
			db_close();
			if (was_in_tx)
				return DB_UNAVAILABLE;
			continue;
		}
		if (s != DB_CONFLICT && s != DB_INVALID)
			log_msg(LOG_ERROR, "query failed: %s", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
		PQclear(r);
		return s;
	}
	return DB_UNAVAILABLE;
}

bool db_in_transaction(void)
{
	return conn && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE;
}

enum db_status db_exec_async_commit(struct arena *a, PGresult **res, const char *sql, int n,
				    const char *const *params)
{
	if (res)
		*res = NULL;
	if (!strstr(sql, DB_ASYNC_COMMIT_FROM)) {
		log_msg(LOG_ERROR, "bug: an asynchronous-commit statement without DB_ASYNC_COMMIT_FROM");
		return DB_ERROR;
	}
	if (in_transaction || db_in_transaction()) {
		log_msg(LOG_ERROR, "bug: asynchronous commit asked for inside a transaction; refused");
		return DB_ERROR;
	}
	return db_exec(a, res, sql, n, params);
}

/* ROLLBACK without an arena: the guard below runs while its arena is being reset. */
static void rollback_now(void)
{
	if (db_in_transaction())
		PQclear(PQexec(conn, "ROLLBACK"));
	in_transaction = false;
	notify_npending = 0;
}

struct tx_guard {
	unsigned long serial;
};

/* The safety net db_begin leaves on the request arena: a transaction still open when the
 * arena is released was forgotten by its code path. Rolling it back keeps the next request
 * (and the request log written after the answer) out of a stranger's transaction. */
static void tx_guard_release(void *p)
{
	const struct tx_guard *g = p;
	if (g->serial != tx_serial || !db_in_transaction())
		return;
	log_msg(LOG_ERROR, "bug: a transaction was still open when its request ended; rolled back");
	rollback_now();
}

/* A failed notification is logged by db_exec and otherwise ignored: the rows it
 * announces are committed, and listeners poll for them too. */
static void notify_now(struct arena *a, const char *channel)
{
	const char *p[] = {channel};
	(void)db_exec_async_commit(a, NULL, "SELECT pg_notify($1, '') FROM " DB_ASYNC_COMMIT_FROM, 1, p);
}

enum db_status db_begin(struct arena *a)
{
	enum db_status s = db_exec(a, NULL, "BEGIN", 0, NULL);
	in_transaction = s == DB_OK;
	notify_npending = 0;
	if (s == DB_OK && a) {
		struct tx_guard *g = arena_alloc(a, sizeof(*g));
		g->serial = ++tx_serial;
		arena_defer(a, tx_guard_release, g);
	}
	return s;
}

enum db_status db_begin_async_commit(struct arena *a)
{
	enum db_status s = db_begin(a);
	if (s == DB_OK)
		s = db_exec(a, NULL, "SELECT set_config('synchronous_commit', 'off', true)", 0, NULL);
	return s;
}

enum db_status db_commit(struct arena *a)
{
	enum db_status s = db_exec(a, NULL, "COMMIT", 0, NULL);
	in_transaction = false;
	int n = notify_npending;
	notify_npending = 0;
	for (int i = 0; i < n && s == DB_OK; i++)
		notify_now(a, notify_pending[i]);
	return s;
}

void db_notify_after_commit(struct arena *a, const char *channel)
{
	if (!db_in_transaction()) {
		notify_now(a, channel);
		return;
	}
	for (int i = 0; i < notify_npending; i++)
		if (!strcmp(notify_pending[i], channel))
			return;
	if (notify_npending < NOTIFY_PENDING_MAX)
		notify_pending[notify_npending++] = channel;
	else
		log_msg(LOG_ERROR, "bug: more than %d channels to notify after one commit; %s dropped",
			NOTIFY_PENDING_MAX, channel);
}

void db_rollback(struct arena *a)
{
	(void)a;
	rollback_now();
}

enum db_status db_finish(struct arena *a, enum db_status s)
{
	if (s == DB_OK)
		return db_commit(a);
	db_rollback(a);
	return s;
}

const char *db_value(const PGresult *res, int r, int c)
{
	return PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
}

int db_ping(void)
{
	PGconn *c = db_conn();
	if (!c)
		return 0;
	PGresult *r = PQexec(c, "SELECT 1");
	int ok = r && PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	if (!ok && PQstatus(c) == CONNECTION_BAD) {
		db_close();
		c = db_conn();
		if (c) {
			r = PQexec(c, "SELECT 1");
			ok = r && PQresultStatus(r) == PGRES_TUPLES_OK;
			PQclear(r);
		}
	}
	return ok;
}
