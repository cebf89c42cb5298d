/* The one HTTP client for outside services, on libcurl: connect and total timeouts, a
 * response size cap, the private-address guard for user-supplied hosts, and the
 * services used the way their owners ask (spec 004), for every provider:
 *  - 429, and 503 with Retry-After, and GitHub's X-RateLimit-Remaining: 0 with
 *    X-RateLimit-Reset: the host is not called again for that caller (or, for a 503,
 *    for anyone) until then; the call fails with OUTBOUND_RATE_LIMITED and retry_at;
 *  - a client-side limit per host and caller (SB_OUTBOUND_CALLS_PER_WINDOW calls per
 *    SB_OUTBOUND_WINDOW_SECONDS, 120 per 60 s), so one user's loop cannot spend the
 *    platform's shared quota; the caller is a hash of the call's credential (bearer
 *    token or basic-auth user), so it is per user without an id travelling along, or
 *    of rq.caller when the provider names one (a per-request session token);
 *  - retries with exponential backoff and full jitter, for idempotent calls only;
 *  - conditional requests (If-None-Match) for list endpoints that ask for it
 *    (rq.conditional): the answer and its ETag are cached per caller for
 *    SB_OUTBOUND_CACHE_SECONDS (300); a 304 answers from the cache (from_cache).
 * State is shared by every process through PostgreSQL (outbound_quota.h) and fails
 * open without a database. Responses live in the request arena. */
#ifndef SB_OUTBOUND_H
#define SB_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

enum outbound_error {
	OUTBOUND_OK,	    /* an HTTP answer arrived (any status) */
	OUTBOUND_TIMEOUT,   /* connect or total timeout: answer 504 */
	OUTBOUND_CONNECT,   /* DNS, refused, TLS: answer 502 */
	OUTBOUND_TOO_LARGE, /* the response passed the size cap: 502 */
	OUTBOUND_BLOCKED,   /* the private-address guard refused the target */
	OUTBOUND_RATE_LIMITED, /* the service asked us to wait, or our own limit: answer 429 */
	OUTBOUND_FAILED,    /* anything else (bad URL, out of memory) */
	OUTBOUND_ERROR__MAX
};

struct outbound_request {
	const char *method; /* "GET" when NULL */
	const char *url;
	const char *const *headers;		 /* NULL-terminated "Name: value" lines, may be NULL */
	const char *bearer;			 /* adds Authorization: Bearer <token> when set */
	const char *basic_user, *basic_password; /* HTTP basic auth when basic_user is set */
	/* AWS Signature Version 4 (libcurl's CURLOPT_AWS_SIGV4) when aws_sigv4 is set:
	 * "aws:amz:REGION:SERVICE", signed with the key id and secret. */
	const char *aws_sigv4, *aws_key_id, *aws_secret;
	const char *body;			 /* sent as is; content type comes from headers */
	size_t body_len;
	bool user_supplied;	 /* apply the private-address guard (netguard.h) */
	bool idempotent;	 /* may be retried on a connect failure, timeout or 5xx */
	long timeout_ms;	 /* total; SB_OUTBOUND_TIMEOUT_MS (10 s) when 0 */
	long connect_timeout_ms; /* SB_OUTBOUND_CONNECT_TIMEOUT_MS (5 s) when 0 */
	size_t max_response;	 /* SB_OUTBOUND_MAX_RESPONSE (4 MiB) when 0 */
	bool conditional;	 /* a GET of a list that supports ETags: cache and revalidate */
	bool unlimited;		 /* no client-side limit (token endpoints of the OAuth flow) */
	/* The caller when the credential cannot name one: a session token made per request
	 * (ThingsBoard's X-Authorization JWT) or none (its login). A stable per-user key
	 * ("thingsboard:<user id>"); such calls count against the client-side limit. */
	const char *caller;
};

struct outbound_response {
	enum outbound_error error;
	long status; /* HTTP status, 0 without an answer */
	char *body;  /* NUL-terminated, in the arena ("" when empty) */
	size_t len;
	const char *content_type; /* in the arena, or NULL */
	const char *message;	  /* human reason when error != OUTBOUND_OK */
	int attempts;
	bool from_cache;	  /* a 304 answered from the ETag cache (status is 200) */
	long retry_at;		  /* OUTBOUND_RATE_LIMITED: epoch second to wait until */
	bool limit_local;	  /* OUTBOUND_RATE_LIMITED by our own limit, not the service */
	long rate_remaining;	  /* X-RateLimit-Remaining of the answer, -1 when absent */
	const char *link_next;	  /* the Link header's rel="next" URL (RFC 8288), or NULL */
	const char *error_type;	  /* the x-amzn-ErrorType header (AWS JSON services), or NULL */
};

/* Performs rq. Returns 0 when an HTTP answer arrived (check out->status), -1 otherwise
 * with out->error and out->message set. Never logs bodies or credentials. */
int outbound_do(struct arena *a, const struct outbound_request *rq, struct outbound_response *out);

/* The HTTP status a handler should answer for a failed call: 504 for timeouts, 429 when
 * rate limited, 502 else. */
int outbound_http_status(const struct outbound_response *r);

/* retry_at as RFC 3339 UTC (arena), for the rate_limited answers. */
const char *outbound_retry_at_text(struct arena *a, long retry_at);

/* The delay before retry attempt (0-based) of a call: exponential from base_ms, capped
 * at cap_ms, with full jitter (a uniform draw in [0, that]) from rnd (0..UINT32_MAX). */
long outbound_backoff_ms(int attempt, long base_ms, long cap_ms, unsigned rnd);

/* Seconds a Retry-After value asks for (delta seconds or an HTTP date, against now
 * epoch second), or -1 when it is neither. */
long outbound_retry_after_s(const char *value, long now);

/* Parses the response body as a JSON object (owned by the arena), or NULL. */
struct json_object *outbound_json(struct arena *a, const struct outbound_response *r);

#endif
