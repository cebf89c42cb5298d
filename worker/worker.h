/* The background worker: webhook deliveries now; periodic jobs beside them. */
#ifndef SB_WORKER_H
#define SB_WORKER_H

#include <curl/curl.h>
#include <stdbool.h>

struct deliveries;

/* Deliveries in flight on one curl multi handle. */
struct deliveries *deliveries_new(CURLM *multi, const char *owner, int max_in_flight, int per_webhook);
void deliveries_free(struct deliveries *d);
/* Claims due deliveries while there is room and starts them. Returns how many started, -1 on DB
 * trouble. *full: the claim found as many as there was room for (more may be due at once). */
int deliveries_claim(struct deliveries *d, bool *full);
/* Settles every finished transfer. Returns how many it settled. */
int deliveries_reap(struct deliveries *d);
int deliveries_in_flight(const struct deliveries *d);

struct arena;
struct actor;
/* One job of a scan, acting as who (the row's user, no address: the worker): >0 done,
 * 0 nothing to do, <0 not done. a is fresh for each job. */
typedef int (*scan_job)(struct arena *a, const struct actor *who, const char *provider);
/* Runs job for each (user_id, provider) row sql selects. what names it in the log. */
void scan_integrations(const char *what, const char *sql, int n, const char *const *params, scan_job job);

/* Periodic housekeeping (run every minute or so). */
void housekeeping_run(void);
/* Refreshes the OAuth tokens that expire within the margin. */
void token_refresh_run(void);
/* Checks the integrations whose last check is older than the interval. */
void health_scan_run(void);

/* The transfer child (exports, scheduled exports, expiry): started once, restarted by
 * transfer_jobs_supervise when it exits, stopped (after the job in flight) by
 * transfer_jobs_stop. */
#include <sys/types.h>
pid_t transfer_jobs_start(const char *owner);
void transfer_jobs_supervise(pid_t *pid, const char *owner);
void transfer_jobs_stop(pid_t pid);

/* The notifier child (notify.c): forked every SB_NOTIFY_SCAN_SECONDS when none runs. */
#include <time.h>
void notify_supervise(pid_t *pid, time_t *last);
void notify_stop(pid_t pid);

#endif
