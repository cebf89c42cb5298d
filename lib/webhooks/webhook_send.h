/* One webhook HTTP attempt on libcurl: signed headers, the address guard at connect
 * time (after DNS, so rebinding cannot reach a private address), no redirects, http(s)
 * only, the response body capped. The easy handle runs alone (test sends) or inside
 * the worker's multi handle. */
#ifndef SB_WEBHOOK_SEND_H
#define SB_WEBHOOK_SEND_H

#include <curl/curl.h>
#include <stdbool.h>
#include <time.h>

#include "webhooks/webhook.h"
#include "webhooks/webhook_options.h"

#define WEBHOOK_BODY_KEEP 4096

struct webhook_send {
	CURL *easy;
	struct curl_slist *headers;
	char body[WEBHOOK_BODY_KEEP + 1];
	size_t body_len, received;
	long retry_after;
	bool blocked;
	bool not_allowed;			  /* the address is outside allowed_ips */
	char refused_addr[64];			  /* the address refused, as text */
	struct webhook_cidr allowed[WEBHOOK_MAX_ALLOWED_IPS];
	int n_allowed;				  /* 0: any (public) address */
	char errbuf[CURL_ERROR_SIZE];
	const char *headers_json;
	void *owner;	 /* for the caller (the worker's job) */
	CURLcode result; /* for the caller: how the transfer ended */
};

/* Prepares s to deliver job, signed at `now`: Switchboard's headers, then the webhook's
 * custom ones; the connection is refused unless the resolved address passes the
 * private-address guard and, when the webhook has allowed_ips, is inside one of them;
 * the local address is SB_WEBHOOK_SOURCE_ADDRESS when the operator sets one. Returns 0 or -1 (malformed secret, no memory). */
int webhook_send_init(struct webhook_send *s, struct arena *a, const struct webhook_job *job, time_t now);
/* Fills *at from a finished transfer (rc from curl) and s's timings. */
void webhook_send_result(struct webhook_send *s, struct arena *a, CURLcode rc, struct webhook_attempt *at);
void webhook_send_free(struct webhook_send *s);

#endif
