/* Webhooks: the Standard Webhooks signing scheme, secrets, the message body, URL rules,
 * and what one delivery attempt means (retry schedule, disabling), shared by the
 * webhooks responder (test sends) and the worker (everything else). No SQL here: the
 * delivery store records attempts. */
#ifndef SB_WEBHOOK_H
#define SB_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

#define WEBHOOK_MAX_SECRETS 2

/* A new signing secret: "whsec_" + base64 of 32 random bytes, in the arena. */
char *webhook_secret_new(struct arena *a);
/* Associated data binding a sealed secret to its webhook. */
char *webhook_secret_aad(struct arena *a, const char *webhook_id);

/* "v1," + base64(HMAC-SHA256(base64-decoded secret, "{id}.{timestamp}.{body}")).
 * secret is "whsec_..." (the prefix is optional). Returns NULL for a malformed secret. */
char *webhook_signature(struct arena *a, const char *secret, const char *msg_id, long timestamp, const char *body,
			size_t len);

/* The delivered body: {"type":...,"timestamp":...,"data":...}; data_json is JSON text. */
char *webhook_body(struct arena *a, const char *type, const char *timestamp, const char *data_json);

/* Checks a receiver URL: http(s) only (http when SB_WEBHOOK_ALLOW_HTTP=1), a host, no
 * credentials, bounded length, and (unless private targets are allowed) a host that
 * resolves only to public addresses. NULL when fine, else the message for the user. */
const char *webhook_url_check(struct arena *a, const char *url);

/* One claimed delivery, as the sender needs it. */
struct webhook_job {
	const char *delivery_id, *webhook_id, *user_id;
	const char *url, *message_id, *event_type;
	const char *body;
	const char *secrets[WEBHOOK_MAX_SECRETS]; /* opened; NULL-padded */
	int attempt;				  /* this attempt's number, from 1 */
	int retry_count;			  /* retries after the first attempt */
	int timeout_seconds;
	const char *headers_json;     /* the webhook's custom headers, a JSON object, or NULL */
	const char *allowed_ips_json; /* JSON array of networks the receiver must be in, or NULL */
	const char *last_error;	      /* set by the store when settling a failure */
};

/* What one attempt got back. */
struct webhook_attempt {
	long status;	   /* HTTP status, 0 when none */
	const char *error; /* transport error, or NULL */
	const char *body;  /* first 4 KiB of the response */
	const char *request_headers_json;
	double ms;
	long retry_after; /* seconds from Retry-After, -1 when absent */
};

enum webhook_outcome { WEBHOOK_DELIVERED, WEBHOOK_RETRY, WEBHOOK_FAILED, WEBHOOK_GONE, WEBHOOK_OUTCOME__MAX };

/* Seconds before retry number `retry` (1 = the first retry) by the schedule
 * SB_WEBHOOK_RETRY_SCHEDULE ("5,300,1800,7200,18000,36000,36000"), with ±20% jitter
 * when jitter is true. */
long webhook_retry_delay(int retry, bool jitter);

/* What an attempt means for its delivery: 2xx delivered, 410 gone (the webhook is
 * switched off), otherwise retried while retries are left, then failed. */
enum webhook_outcome webhook_outcome_of(const struct webhook_job *job, const struct webhook_attempt *at);
/* Seconds until the next attempt of an outcome (0 unless WEBHOOK_RETRY): the schedule
 * with jitter, or a longer Retry-After of a 429/503 within a day. */
long webhook_next_delay(const struct webhook_job *job, const struct webhook_attempt *at, enum webhook_outcome o);
/* The last_error a delivery keeps for an outcome: the transport error, "receiver
 * answered HTTP n", "no response", or NULL when delivered. In the arena or static. */
const char *webhook_outcome_error(struct arena *a, const struct webhook_attempt *at, enum webhook_outcome o);
/* The delivery status of each outcome: delivered, pending, failed, failed. */
extern const char *const webhook_outcome_status[WEBHOOK_OUTCOME__MAX];

#endif
