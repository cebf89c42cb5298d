/* The worker daemon: delivers webhooks (LISTEN/NOTIFY wakes it; it polls as a
 * fallback) and runs periodic housekeeping. Any number can run side by side: claims
 * are leases taken with SKIP LOCKED. SIGTERM: stop claiming, finish what is in flight. */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "db/db.h"
#include "integrations/providers/provider.h"
#include "worker.h"

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* LISTEN on the current session (again after any reconnect: the generation says so,
 * a pointer would not); returns its socket or -1. */
static int listen_socket(unsigned long *listening)
{
	PGconn *c = db_conn();
	if (!c)
		return -1;
	if (db_generation() != *listening) {
		PGresult *r = PQexec(c, "LISTEN sb_deliveries");
		int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (!ok)
			return -1;
		*listening = db_generation();
	}
	return PQsocket(c);
}

/* Reads what the server sent; returns how many notifications were waiting (some may
 * have arrived while other queries ran, where poll() will never see them again). */
static int drain_notifications(void)
{
	PGconn *c = db_conn();
	if (!c || !PQconsumeInput(c))
		return 0;
	int n = 0;
	PGnotify *note;
	while ((note = PQnotifies(c))) {
		PQfreemem(note);
		n++;
	}
	return n;
}

/* Refreshing tokens and checking health call outside services synchronously: a
 * child process does it every `every` seconds, so deliveries in flight here keep
 * moving. One child at a time. */
static void refresh_supervise(pid_t *child, time_t *last, long every)
{
	if (*child > 0 && waitpid(*child, NULL, WNOHANG) == *child)
		*child = 0;
	if (*child != 0 || time(NULL) - *last < every)
		return;
	*last = time(NULL);
	*child = fork();
	if (*child == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		db_forget_after_fork();
		token_refresh_run();
		health_scan_run();
		db_close();
		_exit(0);
	}
	if (*child < 0)
		*child = 0;
}

/* The periodic jobs beside the deliveries, each in its own child or time slot. */
struct periodic {
	const char *owner;
	time_t last_housekeeping, last_refresh, last_notify;
	pid_t refresher, transfer, notifier;
	long refresh_every;
};

static void periodic_run(struct periodic *p)
{
	transfer_jobs_supervise(&p->transfer, p->owner);
	notify_supervise(&p->notifier, &p->last_notify);
	if (time(NULL) - p->last_housekeeping >= 60) {
		housekeeping_run();
		p->last_housekeeping = time(NULL);
	}
	refresh_supervise(&p->refresher, &p->last_refresh, p->refresh_every);
}

static void periodic_stop(struct periodic *p)
{
	transfer_jobs_stop(p->transfer);
	notify_stop(p->notifier);
	if (p->refresher > 0) {
		kill(p->refresher, SIGTERM);
		waitpid(p->refresher, NULL, 0);
	}
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Delivers until SIGTERM, then finishes what is in flight.
 *
 * A claim runs only when it can find something: after deliveries settled (room, and
 * webhooks under their cap again), after a NOTIFY, after a claim that filled every free
 * slot, or once per poll interval (retries coming due, leases another worker let lapse).
 * Claiming on every wake-up of a transfer found nothing while each webhook sat at its
 * cap: one wasted statement per wake-up. */
static void deliver(CURLM *multi, struct deliveries *d, struct periodic *p, int max, int poll_ms)
{
	unsigned long listening = 0;
	bool claim_due = true;
	double last_claim = 0;
	while (!stopping || deliveries_in_flight(d) > 0) {
		/* Settle what finished before claiming: the per-webhook cap counts leased rows,
		 * so a claim made before the reap sees the finished ones as still in flight. */
		int running;
		curl_multi_perform(multi, &running);
		if (deliveries_reap(d) > 0 || now_ms() - last_claim >= poll_ms)
			claim_due = true;
		int started = 0;
		if (!stopping) {
			if (claim_due) {
				bool full;
				started = deliveries_claim(d, &full);
				last_claim = now_ms();
				claim_due = started < 0 || full;
			}
			periodic_run(p);
		}
		if (started > 0 && claim_due && deliveries_in_flight(d) < max)
			continue; /* more may be due right now */

		/* Sleep until a transfer moves, a NOTIFY arrives, or the poll interval passes. */
		struct curl_waitfd pg = {.fd = stopping ? -1 : listen_socket(&listening), .events = CURL_WAIT_POLLIN};
		if (pg.fd >= 0 && drain_notifications() > 0) {
			claim_due = true; /* already told: claim now */
			continue;
		}
		int nfd = pg.fd >= 0 ? 1 : 0;
		curl_multi_poll(multi, nfd ? &pg : NULL, (unsigned)nfd, started < 0 ? 1000 : poll_ms, NULL);
		if (nfd && pg.revents && drain_notifications() > 0)
			claim_due = true;
	}
}

int main(void)
{
	log_init("worker");
	if (config_load() || crypto_keys_load())
		return 1;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The providers file: the token refresh needs each provider's token endpoint. */
	if (provider_registry_init())
		return 1;
	db_init(config_str("DATABASE_URL", "postgresql:///switchboard"));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURLM *multi = curl_multi_init();
	char owner[128], host[64] = "worker";
	gethostname(host, sizeof(host) - 1);
	unsigned nonce = 0;
	crypto_random(&nonce, sizeof(nonce));
	snprintf(owner, sizeof(owner), "%s:%d:%08x", host, (int)getpid(), nonce);
	int max = (int)config_int("SB_WORKER_CONCURRENCY", 64, 1, 1024);
	int per_webhook = (int)config_int("SB_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT", 16, 1, 256);
	int poll_ms = (int)config_int("SB_WORKER_POLL_MS", 1000, 10, 60000);
	struct deliveries *d = deliveries_new(multi, owner, max, per_webhook);
	if (!multi || !d)
		return 1;
	log_msg(LOG_INFO, "worker %s: up to %d deliveries in flight, %d per webhook", owner, max, per_webhook);

	struct periodic p = {.owner = owner,
			     .refresh_every = config_int("SB_WORKER_REFRESH_SCAN_SECONDS", 60, 1, 3600)};
	deliver(multi, d, &p, max, poll_ms);
	periodic_stop(&p);
	log_msg(LOG_INFO, "worker %s: stopped", owner);
	deliveries_free(d);
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	db_close();
	return 0;
}
