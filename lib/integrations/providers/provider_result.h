/* What a provider operation hands back to the integrations responder: an outcome kind
 * with its error code and message, or the data of a success. The library never picks
 * an HTTP status; cgi-bin/provider_reply.c maps each kind to one. */
#ifndef SB_PROVIDER_RESULT_H
#define SB_PROVIDER_RESULT_H

#include "core/actor.h"
#include "db/db.h"
#include "integrations/oauth_token.h"

struct arena;
struct json_object;

enum provider_outcome {
	PROVIDER_OK,		   /* data (and message) answered */
	PROVIDER_BAD_REQUEST,	   /* the request cannot be carried out as sent */
	PROVIDER_FORBIDDEN,	   /* the outside account may not do this */
	PROVIDER_NOT_FOUND,	   /* nothing saved, an unknown device, repository, project, ... */
	PROVIDER_NOT_ALLOWED,	   /* not an operation of this provider (allow lists those that are) */
	PROVIDER_CONFLICT,	   /* the integration's state forbids it (expired, disabled, ...) */
	PROVIDER_INVALID,	   /* invalid fields: data is {field: message} */
	PROVIDER_SECRET,	   /* a stored secret could not be opened */
	PROVIDER_INTERNAL,	   /* our own failure */
	PROVIDER_UPSTREAM,	   /* the outside service failed or answered nonsense */
	PROVIDER_UPSTREAM_TIMEOUT, /* the outside service did not answer in time */
	PROVIDER_DB,		   /* database trouble: db says which */
	PROVIDER_RATE_LIMITED,	   /* the outside service asked us to wait (or our own limit): retry_at */
	PROVIDER_ACCEPTED,	   /* queued: data describes the job (HTTP 202) */
	PROVIDER_TOO_LARGE,	   /* the thing asked for passes a size limit (HTTP 413) */
	PROVIDER_UNSUPPORTED,	   /* a kind of content this operation cannot handle (HTTP 415) */
	PROVIDER_OUTCOME__MAX
};

struct provider_result {
	enum provider_outcome outcome;
	const char *code;	  /* error code of the envelope ("not_found"), NULL on success */
	const char *message;	  /* the envelope's message, may be NULL on success */
	struct json_object *data; /* owned by the result: the answer's data, or the invalid fields */
	enum db_status db;	  /* on PROVIDER_DB */
	const char *allow;	  /* on PROVIDER_NOT_ALLOWED: the methods that exist */
	long retry_at;		  /* on PROVIDER_RATE_LIMITED: epoch second, 0 when unknown */
};

/* One call of a provider operation: who acts (who->user_id is the integration's user),
 * the request's JSON body (NULL when none), the arena everything lives in. */
struct provider_call {
	struct arena *a;
	const struct actor *who;
	const char *user_id;
	struct json_object *body;
	/* PUT /integrations/{id}: a display name to set with the settings (NULL removes it). */
	bool set_name;
	const char *name;
	/* GET .../{provider}/{action}/{param}: the last path segment (a job id). */
	const char *param;
	/* GET actions: the request's query parameters as {name: value}, or NULL. */
	struct json_object *query;
};

/* Each fills *r and returns its outcome, so an operation ends with `return provider_...`. */
int provider_ok(struct provider_result *r, struct json_object *data, const char *message);
/* Queued: data (taken) is the job. */
int provider_accepted(struct provider_result *r, struct json_object *data, const char *message);
/* rate_limited until retry_at (epoch second, 0 when unknown). */
int provider_rate_limited(struct provider_result *r, long retry_at, const char *reason);
int provider_fail(struct provider_result *r, enum provider_outcome o, const char *code, const char *message);
/* PROVIDER_INVALID with fields (taken); provider_invalid_field makes the object. */
int provider_invalid(struct provider_result *r, struct json_object *fields);
int provider_invalid_field(struct provider_result *r, const char *field, const char *message);
/* Rolls back any open transaction of a, then PROVIDER_DB with s. */
int provider_db(struct arena *a, struct provider_result *r, enum db_status s);
/* An outside service failed: http_status 504 (timed out) or anything else (502). */
int provider_upstream(struct provider_result *r, int http_status, const char *reason);
/* A stored secret could not be opened; message tells the user what to do. */
int provider_secret(struct provider_result *r, const char *message);
/* "This integration is not configured". */
int provider_not_configured(struct provider_result *r);
/* The outcome of a failed oauth_token_get. */
int provider_token_failure(struct arena *a, struct provider_result *r, enum oauth_token_status st,
			   const struct oauth_token_use *u);

#endif
