/* The query parameters of the request-log lists (GET /api-keys/{id}/logs,
 * /oauth/clients/{id}/logs): status, method, path, from, to, besides page and limit. */
#ifndef SB_LOGFILTER_H
#define SB_LOGFILTER_H

#include "auth/request_log_store.h"

struct request;

/* Fills *f and *page from rq's query: status "404" or a class "4xx", method (any case,
 * one of the HTTP methods), path (a prefix starting with "/"), from and to (RFC 3339).
 * Returns 0, or answers 422 naming every bad parameter and returns that status. */
int logfilter_parse(struct request *rq, struct request_log_filter *f, struct rows_page *page);

#endif
