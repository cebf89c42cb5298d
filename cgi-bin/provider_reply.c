/* The HTTP status of each outcome of a provider operation (provider_reply.h). */
#include <time.h>

#include "core/arena.h"
#include "http/reply.h"
#include "http/request.h"
#include "integrations/providers/provider_result.h"
#include "provider_reply.h"

static const int status_of[PROVIDER_OUTCOME__MAX] = {
	[PROVIDER_OK] = 200,	    [PROVIDER_BAD_REQUEST] = 400,      [PROVIDER_FORBIDDEN] = 403,
	[PROVIDER_NOT_FOUND] = 404, [PROVIDER_NOT_ALLOWED] = 405,      [PROVIDER_CONFLICT] = 409,
	[PROVIDER_INVALID] = 422,   [PROVIDER_SECRET] = 500,	       [PROVIDER_INTERNAL] = 500,
	[PROVIDER_UPSTREAM] = 502,  [PROVIDER_UPSTREAM_TIMEOUT] = 504, [PROVIDER_DB] = 503,
		[PROVIDER_RATE_LIMITED] = 429, [PROVIDER_TOO_LARGE] = 413, [PROVIDER_UNSUPPORTED] = 415,
};

int reply_result(struct request *rq, struct provider_result *r)
{
	switch (r->outcome) {
	case PROVIDER_OK:
		return reply_ok(rq, 200, r->data, r->message);
	case PROVIDER_ACCEPTED:
		return reply_ok(rq, 202, r->data, r->message);
	case PROVIDER_INVALID:
		return reply_invalid(rq, r->data);
	case PROVIDER_DB:
		return reply_db_failure(rq, r->db);
	case PROVIDER_NOT_ALLOWED:
		if (r->allow)
			reply_header(rq, "Allow", r->allow);
		break;
	case PROVIDER_RATE_LIMITED:
		if (r->retry_at > 0) {
			long wait = r->retry_at - (long)time(NULL);
			reply_header(rq, "Retry-After", arena_printf(rq->arena, "%ld", wait > 1 ? wait : 1));
		}
		break;
	default:
		break;
	}
	if (r->outcome >= PROVIDER_OUTCOME__MAX || !r->code)
		return reply_internal(rq);
	return reply_error(rq, status_of[r->outcome], r->code, r->message);
}
