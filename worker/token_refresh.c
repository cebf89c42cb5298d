/* Background token refresh: OAuth tokens that expire within the margin are refreshed
 * before anyone needs them, through the same function every use goes through (row
 * lock, re-read on refusal, audit and integration.token_refreshed event). */
#include <stdio.h>

#include "core/config.h"
#include "integrations/oauth_token.h"
#include "worker.h"

/* 1 refreshed, 0 nothing to do (another process did it), -1 not refreshed. */
static int refresh_one(struct arena *a, const struct actor *who, const char *provider)
{
	struct oauth_token_use use;
	enum oauth_token_status st = oauth_token_get(a, who, provider, false, &use);
	return st != OAUTH_TOKEN_OK ? -1 : use.refreshed ? 1 : 0;
}

void token_refresh_run(void)
{
	char margin[24], limit[24];
	snprintf(margin, sizeof(margin), "%ld", oauth_token_margin());
	snprintf(limit, sizeof(limit), "%ld", config_int("SB_WORKER_REFRESH_BATCH", 50, 1, 1000));
	const char *p[] = {margin, limit};
	/* Not 'error': a failed health check (a provider down for a while) must not stop
	 * the refresh that keeps the token alive; 'expired' needs the user to reconnect. */
	scan_integrations("token refresh",
			  "SELECT user_id, provider FROM user_integrations WHERE refresh_token IS NOT NULL AND enabled "
			  "AND status <> 'expired' AND token_expires_at < now() + make_interval(secs => $1::int) "
			  "ORDER BY token_expires_at LIMIT $2::int",
			  2, p, refresh_one);
}
