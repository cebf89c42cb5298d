/* PostgreSQL access: one connection per process, opened lazily and re-opened when
 * lost; parameterised statements only; results owned by the request arena. */
#ifndef SB_DB_H
#define SB_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

struct arena;

/* A timestamptz column as RFC 3339 UTC text, for SELECT lists. */
#define SQL_RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

enum db_status {
	DB_OK,
	DB_UNAVAILABLE, /* no connection: answer 503 */
	DB_CONFLICT,	/* unique or exclusion violation: usually 409 */
	DB_INVALID,	/* the data was refused (check, foreign key, bad text for a type) */
	DB_ERROR,	/* anything else: 500 */
	DB_STATUS__MAX
};

/* Remembers the connection string (DATABASE_URL) and tries a first connection; a
 * database that is down now is not an error, requests will retry. */
void db_init(const char *conninfo);
/* Closes the connection (at exit, and in a child after fork). */
void db_close(void);
/* Counts successful connects: a caller holding per-session state (LISTEN) compares it
 * to know that the session it set up is gone (a new PGconn may reuse the old address). */
unsigned long db_generation(void);
/* In a child after fork: drops the inherited connection without a word to the server
 * (the parent still uses that session) and forgets its prepared statements. */
void db_forget_after_fork(void);
/* Returns the live connection, connecting when needed, or NULL. */
PGconn *db_conn(void);

/* Runs sql with n text parameters (NULL = SQL NULL). On DB_OK *res (may be NULL to
 * discard) is owned by the arena. A statement outside a transaction is retried once
 * on a fresh connection when the old one turned out to be dead before it ran. */
enum db_status db_exec(struct arena *a, PGresult **res, const char *sql, int n, const char *const *params);

/* Asynchronous commit (synchronous_commit off) for one statement: its COMMIT answers
 * without waiting for the WAL flush, so it neither waits for the disk nor queues behind
 * other transactions' flushes. It never breaks atomicity or order: what a server crash
 * (not a client's) can do is forget the last transactions committed that way, up to
 * three times wal_writer_delay (600 ms by default), each as a whole.
 *
 * Safe only for a write whose loss after a crash is harmless, because nobody was told it
 * is kept or because the one who needs it will redo it:
 *  - request-log rows (and api_keys.last_used_at): a record of traffic, no answer
 *    promised it; a crash loses the last few lines of the log;
 *  - an access token that can be had again at once (client_credentials without a
 *    refresh token): a client whose token was forgotten gets a 401 and asks again;
 *  - the NOTIFY sent after a commit (db_notify_after_commit): a wake-up whose data was
 *    committed synchronously before it; listeners poll for rows anyway;
 *  - the webhook worker's lease-guarded writes (a claim, a batch of settled attempts,
 *    with what they count): a forgotten claim leaves the delivery due, a forgotten settle
 *    leaves it leased until the lease lapses; either way it is sent again (webhooks are
 *    at least once, receivers dedupe by message id) and counted again. Nothing is lost:
 *    the event and its delivery rows were committed synchronously by the publisher.
 * NEVER for a write that is answered as durable: a created or changed resource, a
 * revocation, a rotation, an audit entry answered to a request, a delivery or job state
 * an API request sets, anything whose loss after a success answer the caller would not
 * notice or could not redo.
 *
 * The statement writes DB_ASYNC_COMMIT_FROM in its FROM list: set_config(..., true) lasts
 * until the statement's own transaction ends, so the setting costs no round trip and ends
 * with it. db_exec_async_commit runs such a statement (as db_exec) only outside a
 * transaction: inside one, the setting would make the whole transaction's commit
 * asynchronous, durable writes included; that is refused as DB_ERROR (logged as a bug),
 * as is a statement without the FROM item. */
#define DB_ASYNC_COMMIT_FROM "(SELECT set_config('synchronous_commit', 'off', true)) AS async_commit"
enum db_status db_exec_async_commit(struct arena *a, PGresult **res, const char *sql, int n,
				    const char *const *params);

/* BEGIN / COMMIT / ROLLBACK. db_rollback is safe to call in any state. db_begin also
 * registers a rollback on the arena a: a transaction its code path forgot to end is
 * rolled back (and logged as a bug) when the arena is reset. The responder checks
 * again right after each handler, before anything else runs on the connection. */
enum db_status db_begin(struct arena *a);
/* db_begin for a transaction whose commit may be asynchronous as a whole (the rules of
 * db_exec_async_commit above: every write in it must be one its owner redoes if lost). */
enum db_status db_begin_async_commit(struct arena *a);
enum db_status db_commit(struct arena *a);
void db_rollback(struct arena *a);

/* True while the connection is inside a transaction (open or failed). */
bool db_in_transaction(void);

/* Ends the open transaction by the outcome so far: COMMIT when s is DB_OK (returning the
 * commit's status), otherwise ROLLBACK (returning s). */
enum db_status db_finish(struct arena *a, enum db_status s);

/* NOTIFY channel (a string literal: it is kept, not copied), with an empty payload,
 * sent after the transaction commits, or at once outside one. It is sent in a
 * transaction of its own with asynchronous commit (db_exec_async_commit): PostgreSQL holds a database-wide
 * lock from a notifying transaction's commit until its WAL flush, so a NOTIFY inside
 * the writing transaction serialises every publisher's flush (no group commit). The
 * notification is only a wake-up; a listener that misses it finds the rows by polling.
 * Dropped when the transaction rolls back. */
void db_notify_after_commit(struct arena *a, const char *channel);

/* Value of row r, column c, or NULL for SQL NULL. */
const char *db_value(const PGresult *res, int r, int c);

/* True when the server answers a trivial query now (readiness). */
int db_ping(void);

#endif
