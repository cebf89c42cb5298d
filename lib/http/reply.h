/* Response helpers: the JSON envelope of PRODUCT.md, decided once per request.
 * Each returns the status it set, so a handler ends with `return reply_...(rq, ...)`. */
#ifndef SB_REPLY_H
#define SB_REPLY_H

#include <stddef.h>

struct request;
struct json_object;

/* {"success":true,"data":data,"message":message}. Takes ownership of data (may be
 * NULL for "data": null); message may be NULL. */
int reply_ok(struct request *rq, int status, struct json_object *data, const char *message);
/* {"success":false,"error":{"code":code,"message":message}} */
int reply_error(struct request *rq, int status, const char *code, const char *message);
/* 422 validation_failed with "fields": {name: message}; takes ownership of fields. */
int reply_invalid(struct request *rq, struct json_object *fields);
/* 401 with WWW-Authenticate: Bearer (error="invalid_token" when a token was sent). */
int reply_unauthorized(struct request *rq, const char *message, int token_was_sent);
/* RFC 6749 §5.2 / RFC 6750 §3 error JSON {"error": error, "error_description": description}
 * (description may be NULL), for the OAuth endpoints that do not use the envelope. */
int reply_oauth_error(struct request *rq, int status, const char *error, const char *description);
/* 403 insufficient_scope with WWW-Authenticate: Bearer error="insufficient_scope" and the
 * scope needed (RFC 6750 §3.1); oauth picks the RFC body instead of the envelope. */
int reply_insufficient_scope(struct request *rq, const char *scope, int oauth);
/* 401 as reply_unauthorized, with the RFC 6750 body for the OAuth endpoints. */
int reply_unauthorized_oauth(struct request *rq, const char *message, int token_was_sent);
/* 422 validation_failed for one field. */
int reply_invalid_field(struct request *rq, const char *field, const char *message);
/* After a failed statement: answers 503 when the database is unreachable, 500 otherwise.
 * It does not end a transaction: db_finish does (and the responder's safety net). */
int reply_db_failure(struct request *rq, int db_status);
/* Reads ?page= (from 1) and ?limit= (1..100, default 20); answers 422 naming the bad
 * ones and returns that status, or returns 0. */
int reply_page_params(struct request *rq, long *page, long *limit);
/* rows_page_json (db/rows.h) for handlers that hold page and limit apart; takes ownership of items. */
struct json_object *reply_page(struct json_object *items, long page, long limit, long long total);

/* The standard answers the library gives for database trouble and the unexpected. */
int reply_db_unavailable(struct request *rq);
int reply_internal(struct request *rq);
/* Raw body (for RFC formats that are not the envelope). body is copied. */
int reply_raw(struct request *rq, int status, const char *content_type, const char *body, size_t len);
/* Serialises obj (taking ownership) as the whole body. */
int reply_json(struct request *rq, int status, struct json_object *obj);
/* Adds a response header; name and value are copied. Silently drops past the cap. */
void reply_header(struct request *rq, const char *name, const char *value);

/* Reason phrase of a status code ("Not Found"), "Unknown" for others. */
const char *reply_reason(int status);

#endif
