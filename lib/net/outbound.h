/* The one HTTP client for outside services, on libcurl: connect and total timeouts, a
 * response size cap, the private-address guard for user-supplied hosts, and retries
 * with backoff for idempotent calls only. Responses live in the request arena. */
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
	OUTBOUND_FAILED,    /* anything else (bad URL, out of memory) */
	OUTBOUND_ERROR__MAX
};

struct outbound_request {
	const char *method; /* "GET" when NULL */
	const char *url;
	const char *const *headers;		 /* NULL-terminated "Name: value" lines, may be NULL */
	const char *bearer;			 /* adds Authorization: Bearer <token> when set */
	const char *basic_user, *basic_password; /* HTTP basic auth when basic_user is set */
	const char *body;			 /* sent as is; content type comes from headers */
	size_t body_len;
	bool user_supplied;	 /* apply the private-address guard (netguard.h) */
	bool idempotent;	 /* may be retried on a connect failure, timeout or 5xx */
	long timeout_ms;	 /* total; SB_OUTBOUND_TIMEOUT_MS (10 s) when 0 */
	long connect_timeout_ms; /* SB_OUTBOUND_CONNECT_TIMEOUT_MS (5 s) when 0 */
	size_t max_response;	 /* SB_OUTBOUND_MAX_RESPONSE (4 MiB) when 0 */
};

struct outbound_response {
	enum outbound_error error;
	long status; /* HTTP status, 0 without an answer */
	char *body;  /* NUL-terminated, in the arena ("" when empty) */
	size_t len;
	const char *content_type; /* in the arena, or NULL */
	const char *message;	  /* human reason when error != OUTBOUND_OK */
	int attempts;
};

/* Performs rq. Returns 0 when an HTTP answer arrived (check out->status), -1 otherwise
 * with out->error and out->message set. Never logs bodies or credentials. */
int outbound_do(struct arena *a, const struct outbound_request *rq, struct outbound_response *out);

/* The HTTP status a handler should answer for a failed call: 504 for timeouts, 502 else. */
int outbound_http_status(const struct outbound_response *r);

/* Parses the response body as a JSON object (owned by the arena), or NULL. */
struct json_object *outbound_json(struct arena *a, const struct outbound_response *r);

#endif
