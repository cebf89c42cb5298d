/* The HTTP answer to a provider operation's outcome, shared by the groups that
 * run provider operations (integrations, connect): one table of statuses, so
 * the same outcome never answers two ways. Statuses are chosen here, in
 * cgi-bin/, never in lib/. */
#ifndef SB_PROVIDER_REPLY_H
#define SB_PROVIDER_REPLY_H

#include "http/request.h"
#include "integrations/providers/provider_result.h"

int reply_result(struct request *rq, struct provider_result *r);

#endif
