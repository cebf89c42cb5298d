/* The background worker: webhook deliveries now; periodic jobs beside them. */
#ifndef SB_WORKER_H
#define SB_WORKER_H

#include <curl/curl.h>
#include <stdbool.h>

struct deliveries;

/* Deliveries in flight on one curl multi handle. */
struct deliveries *deliveries_new(CURLM *multi, const char *owner, int max_in_flight, int per_webhook);
void deliveries_free(struct deliveries *d);
/* Claims due deliveries while there is room and starts them. Returns how many started, -1 on DB trouble. */
int deliveries_claim(struct deliveries *d);
/* Settles every finished transfer. */
void deliveries_reap(struct deliveries *d);
int deliveries_in_flight(const struct deliveries *d);

/* Periodic housekeeping (run every minute or so). */
void housekeeping_run(void);
/* Refreshes the OAuth tokens that expire within the margin. */
void token_refresh_run(void);
/* Checks the integrations whose last check is older than the interval. */
void health_scan_run(void);

#endif
