/* One HTTP request as a responder sees it, parsed from FastCGI parameters, and the
 * response being assembled for it. Everything hangs off the request's arena. */
#ifndef SB_REQUEST_H
#define SB_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

struct actor;
struct arena;
struct json_object;
struct route;

#define REQUEST_MAX_SEGMENTS	 16
#define REQUEST_MAX_QUERY	 32
#define REQUEST_MAX_HEADERS	 64
#define REQUEST_MAX_RESP_HEADERS 12
#define REQUEST_MAX_FORM	 32

struct kv {
	const char *name;
	const char *value;
};

/* What authenticated a request. Keys and OAuth credentials are rate limited and logged
 * to api_request_logs; a user's own JWT is neither (nginx's per-IP limit applies). */
enum auth_kind {
	AUTH_NONE,
	AUTH_JWT,	   /* our access JWT or the host platform's: every scope */
	AUTH_API_KEY,	   /* X-API-Key or Bearer sb_...: its owner, its scopes */
	AUTH_OAUTH_TOKEN,  /* Bearer sbat_...: the client's owner, the token's scopes */
	AUTH_OAUTH_CLIENT, /* client_id + client_secret at the token endpoints */
	AUTH_KIND__MAX
};

struct request {
	struct arena *arena;

	/* From the FastCGI parameters, copied into the arena. */
	const char *method;
	const char *path;			    /* raw path, no query: used for logs */
	const char *segments[REQUEST_MAX_SEGMENTS]; /* percent-decoded path segments */
	size_t nsegments;
	struct kv query[REQUEST_MAX_QUERY]; /* percent-decoded, '+' is a space */
	size_t nquery;
	struct kv headers[REQUEST_MAX_HEADERS]; /* names lower-case with '-' */
	size_t nheaders;
	const char *remote_addr;
	const char *request_id;
	bool https;	     /* the HTTPS parameter was "on" */
	long content_length; /* -1 when the parameter is absent */

	const char *body; /* NUL-terminated copy of exactly content_length bytes */
	size_t body_len;
	struct json_object *json;	  /* parsed body of a JSON route (owned by the arena) */
	struct kv form[REQUEST_MAX_FORM]; /* parsed body of a form route */
	size_t nform;

	/* Set by routing and authentication. */
	const struct route *route;
	struct kv params[REQUEST_MAX_SEGMENTS]; /* path parameters by name */
	size_t nparams;
	const char *user_id; /* authenticated user (UUID text) or NULL */
	enum auth_kind auth_kind;
	const char *scopes;	      /* granted scopes, space-separated; NULL = all (AUTH_JWT) */
	const char *api_key_id;	      /* api_keys.id of AUTH_API_KEY */
	const char *client_id;	      /* api_clients.id of AUTH_OAUTH_TOKEN and AUTH_OAUTH_CLIENT */
	const char *client_public_id; /* its client_id ("sbc_...") */
	const char *token_id;	      /* oauth_access_tokens.id of AUTH_OAUTH_TOKEN */
	bool public_client;	      /* AUTH_OAUTH_CLIENT: a public client, identified by client_id only */
	long rate_limit;	      /* requests per window of the key or client */
	long rate_limit_read;	      /* its read budget (GET, HEAD) */
	long rate_limit_write;	      /* its write budget (every other method) */

	/* The response: decided once, written once by the responder. */
	int status;
	const char *resp_type;
	const char *resp_body;
	size_t resp_len;
	struct kv resp_headers[REQUEST_MAX_RESP_HEADERS];
	size_t nresp_headers;
};

/* Fills rq from a FastCGI environment (NULL-terminated "NAME=value" strings).
 * Returns 0, or an HTTP status (400, 414) when the request line cannot be parsed.
 * rq->arena must be set; every string is copied into it. */
int request_parse(struct request *rq, char *const *envp);

/* Header value by lower-case name ("content-type"), or NULL. */
const char *request_header(const struct request *rq, const char *name);
/* The actor of this request acting as user_id (NULL: no account), in the arena: what
 * domain code records instead of the request itself. */
const struct actor *request_actor(const struct request *rq, const char *user_id);
/* Value of cookie name from the Cookie header (in the arena), or NULL. */
const char *request_cookie(const struct request *rq, const char *name);
/* Query parameter (first occurrence) or NULL. */
const char *request_query(const struct request *rq, const char *name);
/* Path parameter captured by the route ({id}) or NULL. */
const char *request_param(const struct request *rq, const char *name);
/* True when the Content-Type media type is application/json (parameters allowed). */
bool request_is_json(const struct request *rq);

#endif
