/* The worker's transfer child: export jobs (claimed under a lease, streamed to a file),
 * scheduled exports coming due, expiry of old export files, and queued GitHub syncs. Exports run for
 * minutes and block on PostgreSQL, so they run in a child process of their own: the
 * parent's webhook deliveries keep moving. The parent restarts the child if it dies. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "db/db.h"
#include "integrations/providers/github_jobs.h"
#include "transfer/export_run.h"
#include "transfer/export_store.h"
#include "transfer/schedule.h"
#include "worker.h"

static volatile sig_atomic_t child_stopping;

static void on_child_term(int sig)
{
	(void)sig;
	child_stopping = 1;
}

/* Waits for a NOTIFY on sb_transfer or the poll interval. */
static void wait_for_work(unsigned long *listening, int poll_ms)
{
	PGconn *c = db_conn();
	if (!c) {
		usleep((useconds_t)poll_ms * 1000);
		return;
	}
	if (db_generation() != *listening) {
		PGresult *r = PQexec(c, "LISTEN sb_transfer");
		if (PQresultStatus(r) == PGRES_COMMAND_OK)
			*listening = db_generation();
		PQclear(r);
	}
	struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};
	if (p.fd >= 0)
		poll(&p, 1, poll_ms);
	else
		usleep((useconds_t)poll_ms * 1000);
	if (PQconsumeInput(c)) {
		PGnotify *n;
		while ((n = PQnotifies(c)))
			PQfreemem(n);
	}
}

static void transfer_loop(const char *owner)
{
	long lease = config_int("SB_EXPORT_LEASE_SECONDS", 60, 5, 3600);
	int poll_ms = (int)config_int("SB_WORKER_POLL_MS", 1000, 10, 60000);
	unsigned long listening = 0;
	time_t last_expire = 0;
	struct arena *a = arena_new();
	while (!child_stopping && a) {
		int due = 0;
		if (time(NULL) - last_expire >= 60) {
			int n = 0;
			export_jobs_expire(a, &n);
			if (n)
				log_msg(LOG_INFO, "transfer: %d export files expired", n);
			last_expire = time(NULL);
			arena_reset(a);
		}
		export_schedules_run_due(a, &due);
		arena_reset(a);
		struct export_job job;
		bool found = false;
		if (export_job_claim(a, owner, lease, &job, &found) == DB_OK && found) {
			struct export_result r;
			if (!export_run(a, &job, owner, lease, &r))
				log_msg(LOG_INFO,
					"export %s: %s %s, %lld rows, %lld bytes in %.3f s (%.0f rows/s), peak RSS %ld "
					"KiB",
					job.id, job.entity, job.format, r.rows, r.bytes, r.seconds,
					r.seconds > 0 ? (double)r.rows / r.seconds : 0.0, r.peak_rss_kib);
			arena_reset(a);
			continue; /* more may be waiting */
		}
		arena_reset(a);
		/* GitHub sync jobs (lib/integrations/providers/github_jobs.h), leased the same way. */
		int synced = github_jobs_run_one(a, owner, lease);
		arena_reset(a);
		if (synced > 0)
			continue;
		if (!due)
			wait_for_work(&listening, poll_ms);
	}
	arena_free(a);
}

pid_t transfer_jobs_start(const char *owner)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid < 0 ? 0 : pid;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	db_forget_after_fork();
	char me[160];
	snprintf(me, sizeof(me), "%s/transfer:%d", owner, (int)getpid());
	transfer_loop(me);
	db_close();
	_exit(0);
}

void transfer_jobs_supervise(pid_t *pid, const char *owner)
{
	if (*pid > 0 && waitpid(*pid, NULL, WNOHANG) == *pid) {
		log_msg(LOG_WARN, "transfer child %d exited; starting another", (int)*pid);
		*pid = 0;
	}
	if (*pid == 0)
		*pid = transfer_jobs_start(owner);
}

void transfer_jobs_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}
