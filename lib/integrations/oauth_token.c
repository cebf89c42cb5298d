/* Token use and refresh; see oauth_token.h. */
#include "integrations/oauth_token.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "events/audit.h"
#include "integrations/integration_events.h"
#include "oauth/oauth_client.h"

long oauth_token_margin(void)
{
	return config_int("SB_TOKEN_REFRESH_MARGIN_SECONDS", 300, 0, 86400);
}

struct snapshot {
	bool found;
	const char *access, *refresh, *expires_at, *status;
	bool due; /* expires within the margin */
};

#define SNAPSHOT_SQL                                                                                                   \
	"SELECT access_token, refresh_token, " SQL_RFC3339("token_expires_at") ", status, "                            \
									       "token_expires_at IS NOT NULL AND "     \
									       "token_expires_at <= now() + "          \
									       "make_interval(secs => $3) "            \
									       "FROM user_integrations WHERE user_id " \
									       "= $1 AND provider = $2"

static enum db_status snapshot_load(struct arena *a, const char *user_id, const char *provider, bool lock,
				    struct snapshot *s)
{
	char margin[24];
	snprintf(margin, sizeof(margin), "%ld", oauth_token_margin());
	const char *p[] = {user_id, provider, margin};
	PGresult *res;
	enum db_status st = db_exec(a, &res, lock ? SNAPSHOT_SQL " FOR UPDATE" : SNAPSHOT_SQL, 3, p);
	memset(s, 0, sizeof(*s));
	if (st != DB_OK)
		return st;
	if (PQntuples(res) == 1) {
		s->found = true;
		s->access = db_value(res, 0, 0);
		s->refresh = db_value(res, 0, 1);
		s->expires_at = db_value(res, 0, 2);
		s->status = db_value(res, 0, 3);
		s->due = PQgetvalue(res, 0, 4)[0] == 't';
	}
	return DB_OK;
}

static int open_token(struct arena *a, const char *user_id, const char *provider, const char *column,
		      const char *sealed, char **plain)
{
	return crypto_open(a, sealed, integration_token_aad(a, user_id, provider, column), plain, NULL);
}

static enum oauth_token_status use_snapshot(struct arena *a, const char *user_id, const char *provider,
					    const struct snapshot *s, bool refreshed, struct oauth_token_use *out)
{
	char *plain;
	if (open_token(a, user_id, provider, "access_token", s->access, &plain)) {
		out->reason = "the stored access token could not be decrypted";
		return OAUTH_TOKEN_SECRET;
	}
	out->access_token = plain;
	out->expires_at = s->expires_at;
	out->refreshed = refreshed;
	return OAUTH_TOKEN_OK;
}

static enum oauth_token_status db_fail(struct arena *a, enum db_status s, struct oauth_token_use *out)
{
	db_rollback(a);
	out->db = s;
	out->reason = "database error";
	return OAUTH_TOKEN_DB;
}

static enum oauth_token_status not_connected(struct oauth_token_use *out)
{
	out->reason = "not connected";
	return OAUTH_TOKEN_NOT_CONNECTED;
}

static bool same(const char *x, const char *y)
{
	return (!x && !y) || (x && y && !strcmp(x, y));
}

/* Marks the integration expired after a refused refresh, guarded by the refresh token
 * that was refused: a row rotated meanwhile is left alone. */
static enum db_status mark_expired(struct arena *a, const struct actor *who, const char *provider,
				   const char *refused_refresh, const char *reason)
{
	const char *user_id = who->user_id;
	PGresult *res, *was = NULL;
	const char *p[] = {user_id, provider, reason, refused_refresh};
	enum db_status s = db_begin(a);
	if (s == DB_OK)
		s = db_exec(a, &was,
			    "SELECT status FROM user_integrations WHERE user_id = $1 AND provider = $2 FOR UPDATE", 2,
			    p);
	if (s == DB_OK)
		s = db_exec(
			a, &res,
			"UPDATE user_integrations SET status = 'expired', last_error = left($3, 1000), "
			"last_checked_at = now(), updated_at = now() "
			"WHERE user_id = $1 AND provider = $2 AND refresh_token IS NOT DISTINCT FROM $4 RETURNING id",
			4, p);
	bool marked = s == DB_OK && PQntuples(res) == 1;
	if (s == DB_OK && marked) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "error", json_object_new_string(reason));
		s = audit_record(a, who, "integration.token_refresh_failed", provider, d);
	}
	/* Published only when it is a change (an expired token refused again is not). */
	if (s == DB_OK && marked)
		s = integration_event_health_changed(a, user_id, provider,
						     PQntuples(was) == 1 ? PQgetvalue(was, 0, 0) : NULL, "expired");
	return db_finish(a, s);
}

/* Stores what the provider granted (in the open transaction, which it ends), with its
 * audit entry and integration.token_refreshed. */
static enum oauth_token_status store_refreshed(struct arena *a, const struct actor *who, const char *provider,
					       bool force, const struct oauth_tokens *t, struct oauth_token_use *out)
{
	const char *user_id = who->user_id;
	char *sealed_access, *sealed_refresh = NULL;
	if (crypto_seal(a, t->access_token, strlen(t->access_token),
			integration_token_aad(a, user_id, provider, "access_token"), &sealed_access) ||
	    (t->refresh_token &&
	     crypto_seal(a, t->refresh_token, strlen(t->refresh_token),
			 integration_token_aad(a, user_id, provider, "refresh_token"), &sealed_refresh))) {
		db_rollback(a);
		out->reason = "could not seal the new token";
		return OAUTH_TOKEN_SECRET;
	}
	struct json_object *scopes = t->scope ? arena_defer(a, jsonx_put, oauth_scope_list(t->scope)) : NULL;
	enum db_status s = integration_store_refreshed(a, user_id, provider, sealed_access, sealed_refresh,
						       t->expires_in, scopes, &out->expires_at);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "forced", json_object_new_boolean(force));
		json_object_object_add(d, "rotated_refresh_token", json_object_new_boolean(t->refresh_token != NULL));
		s = audit_record(a, who, "integration.token_refreshed", provider, d);
	}
	if (s == DB_OK)
		s = integration_event_token_refreshed(a, user_id, provider, "active", out->expires_at);
	if (s == DB_OK)
		s = db_commit(a);
	if (s != DB_OK)
		return db_fail(a, s, out);
	out->access_token = t->access_token;
	out->refreshed = true;
	return OAUTH_TOKEN_OK;
}

/* The provider refused the refresh token used. Another process (without our lock, e.g.
 * an older worker) may have rotated it: re-read before giving up on the integration. */
static enum oauth_token_status refused(struct arena *a, const struct actor *who, const char *provider,
				       const char *used_refresh, const char *reason, struct oauth_token_use *out)
{
	struct snapshot cur;
	enum db_status s = snapshot_load(a, who->user_id, provider, false, &cur);
	if (s != DB_OK)
		return db_fail(a, s, out);
	if (cur.found && cur.access && !same(cur.refresh, used_refresh))
		return use_snapshot(a, who->user_id, provider, &cur, false, out);
	char *why = arena_printf(a, "token refresh refused: %s", reason);
	s = mark_expired(a, who, provider, used_refresh, why);
	if (s != DB_OK)
		return db_fail(a, s, out);
	out->reason = why;
	return OAUTH_TOKEN_EXPIRED;
}

/* Refreshes with cur's refresh token while the row lock is held (the transaction is
 * open and ends here, whatever happens). */
static enum oauth_token_status refresh_locked(struct arena *a, const struct actor *who, const struct oauth_provider *p,
					      bool force, const struct snapshot *cur, struct oauth_token_use *out)
{
	const char *provider = p->name;
	char *refresh_plain;
	if (open_token(a, who->user_id, provider, "refresh_token", cur->refresh, &refresh_plain)) {
		db_rollback(a);
		out->reason = "the stored refresh token could not be decrypted";
		return OAUTH_TOKEN_SECRET;
	}
	struct oauth_tokens t;
	const char *reason = NULL;
	int http_status = 502;
	enum oauth_result r = oauth_refresh(a, p, refresh_plain, &t, &reason, &http_status);
	if (r == OAUTH_OK)
		return store_refreshed(a, who, provider, force, &t, out);
	db_rollback(a);
	if (r == OAUTH_REFUSED)
		return refused(a, who, provider, cur->refresh, reason, out);
	out->reason = reason;
	out->http_status = http_status;
	log_msg(LOG_WARN, "token refresh for %s unavailable: %s", provider, reason);
	return OAUTH_TOKEN_UNAVAILABLE;
}

enum oauth_token_status oauth_token_get(struct arena *a, const struct actor *who, const char *provider, bool force,
					struct oauth_token_use *out)
{
	const char *user_id = who->user_id;
	memset(out, 0, sizeof(*out));
	const struct oauth_provider *p = oauth_provider_find(provider);
	if (!p) {
		out->reason = "unknown provider";
		return OAUTH_TOKEN_UNKNOWN_PROVIDER;
	}
	struct snapshot seen, cur;
	enum db_status s = snapshot_load(a, user_id, provider, false, &seen);
	if (s != DB_OK)
		return db_fail(a, s, out);
	if (!seen.found || !seen.access)
		return not_connected(out);
	if (!force && !seen.due)
		return use_snapshot(a, user_id, provider, &seen, false, out);

	/* Due (or forced): take the row lock, then look again. A process that held the lock
	 * before us may have refreshed already; then its token is ours too. */
	s = db_begin(a);
	if (s == DB_OK)
		s = snapshot_load(a, user_id, provider, true, &cur);
	if (s != DB_OK)
		return db_fail(a, s, out);
	if (!cur.found || !cur.access) {
		db_rollback(a);
		return not_connected(out);
	}
	if ((!force && !cur.due) || (force && !same(cur.access, seen.access))) {
		db_rollback(a);
		return use_snapshot(a, user_id, provider, &cur, false, out);
	}
	if (!cur.refresh) {
		db_rollback(a);
		/* Expiring with nothing to refresh it: still usable until it expires. */
		if (!force)
			return use_snapshot(a, user_id, provider, &cur, false, out);
		out->reason = "the provider issued no refresh token: reconnect to renew access";
		return OAUTH_TOKEN_NO_REFRESH;
	}
	return refresh_locked(a, who, p, force, &cur, out);
}
