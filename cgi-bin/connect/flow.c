/* Starting an authorization (connect, sign-in) and finishing it (callback). */
#include <ctype.h>
#include <json-c/json.h>
#include <string.h>

#include "auth/session.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/urlenc.h"
#include "db/db.h"
#include "events/audit.h"
#include "events/events.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"
#include "integrations/integration.h"
#include "oauth/oauth_client.h"
#include "oauth/oauth_state.h"

static bool wants_json(const struct request *rq)
{
	const char *acc = request_header(rq, "accept");
	return acc && strstr(acc, "application/json");
}

static const char *frontend(void)
{
	return config_str("SB_FRONTEND_URL", "http://localhost:3000");
}

static int redirect(struct request *rq, const char *location)
{
	reply_header(rq, "Location", location);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "location", json_object_new_string(location));
	return reply_ok(rq, 302, d, "Redirecting");
}

/* The provider named in the path, or a 404 already answered. */
static const struct oauth_provider *provider_or_404(struct request *rq)
{
	const struct oauth_provider *p = oauth_provider_find(request_param(rq, "provider"));
	if (!p)
		reply_error(rq, 404, "not_found", "No such OAuth provider");
	else if (!oauth_provider_available(p)) {
		reply_error(rq, 409, "provider_not_configured", "This provider is not configured on this server");
		p = NULL;
	}
	return p;
}

static int start(struct request *rq, const struct oauth_provider *p, const char *purpose, const char *user_id)
{
	char *verifier = p->pkce ? oauth_pkce_verifier(rq->arena) : NULL, *state, *binding;
	if (p->pkce && !verifier)
		return reply_internal(rq);
	enum db_status s = oauth_state_create(rq->arena, purpose, user_id, p->name, verifier, oauth_callback_url(p),
					      &state, &binding);
	if (s != DB_OK)
		return s == DB_UNAVAILABLE ? reply_db_unavailable(rq) : reply_internal(rq);
	/* The browser-binding cookie: the callback only completes in this browser. */
	reply_header(rq, "Set-Cookie",
		     arena_printf(rq->arena, "%s=%s; Path=/api/v1/auth/; Max-Age=%ld; HttpOnly; SameSite=Lax%s",
				  oauth_state_cookie_name(rq->arena, state), binding, oauth_state_ttl(),
				  config_bool("SB_COOKIE_SECURE", true) ? "; Secure" : ""));
	char *url =
		oauth_authorize_url(rq->arena, p, state, verifier ? oauth_pkce_challenge(rq->arena, verifier) : NULL);
	if (!url)
		return reply_internal(rq);
	if (!wants_json(rq))
		return redirect(rq, url);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "authorization_url", json_object_new_string(url));
	json_object_object_add(d, "state", json_object_new_string(state));
	json_object_object_add(d, "provider", json_object_new_string(p->name));
	json_object_object_add(d, "expires_in", json_object_new_int64(oauth_state_ttl()));
	return reply_ok(rq, 200, d, NULL);
}

/* 200 {authorization_url, state} (Accept: application/json) | 302 to the provider | 401 |
 * 404 unknown provider | 409 provider_not_configured | 500 | 503 */
int handle_connect(struct request *rq)
{
	const struct oauth_provider *p = provider_or_404(rq);
	return p ? start(rq, p, "connect", rq->user_id) : rq->status;
}

/* The same as connect without a JWT, for providers that allow sign-in. */
int handle_login_start(struct request *rq)
{
	const struct oauth_provider *p = provider_or_404(rq);
	if (!p)
		return rq->status;
	if (!p->sign_in)
		return reply_error(rq, 404, "sign_in_unsupported", "Sign-in is not offered with this provider");
	return start(rq, p, "login", NULL);
}

/* A reason safe to put in a URL and a JSON code: [a-z0-9_], at most 40 characters. */
static const char *reason_code(struct arena *a, const char *s)
{
	char *r = arena_strndup(a, s, 40);
	for (char *c = r; *c; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_'))
			*c = '_';
	return *r ? r : "error";
}

/* Ends a failed callback: JSON error, or a redirect to the frontend with the reason. */
static int finish_error(struct request *rq, const char *purpose, const char *provider, int status, const char *reason,
			const char *message)
{
	if (wants_json(rq))
		return reply_error(rq, status, reason, message);
	struct form f;
	form_init(&f, rq->arena);
	form_add(&f, "error", reason);
	form_add(&f, "provider", provider);
	const char *path = purpose && !strcmp(purpose, "login") ? "/login" : "/settings/integrations";
	return redirect(rq, url_with_query(rq->arena, arena_printf(rq->arena, "%s%s", frontend(), path), &f));
}

static int finish_db_error(struct request *rq, const char *purpose, const char *provider, enum db_status s)
{
	db_rollback(rq->arena);
	if (s == DB_UNAVAILABLE) {
		reply_header(rq, "Retry-After", "5");
		return finish_error(rq, purpose, provider, 503, "service_unavailable",
				    "The database is unavailable; try again shortly");
	}
	return finish_error(rq, purpose, provider, 500, "internal_error", "Internal error");
}

/* Inserts or replaces the (user, provider) row with the new tokens and profile. A
 * reconnect keeps the provider settings in config (GitHub's auto_sync, ...). */
static enum db_status store_integration(struct request *rq, const struct oauth_provider *p, const char *user_id,
					const struct oauth_tokens *t, struct json_object *profile, bool *reconnected)
{
	struct arena *a = rq->arena;
	char *access, *refresh = NULL;
	if (crypto_seal(a, t->access_token, strlen(t->access_token),
			integration_token_aad(a, user_id, p->name, "access_token"), &access) ||
	    (t->refresh_token && crypto_seal(a, t->refresh_token, strlen(t->refresh_token),
					     integration_token_aad(a, user_id, p->name, "refresh_token"), &refresh)))
		return DB_ERROR;
	struct json_object *meta = arena_defer(a, jsonx_put, json_object_new_object());
	json_object_object_add(meta, "profile", json_object_get(profile));
	json_object_object_add(meta, "scopes", oauth_scope_list(t->scope ? t->scope : p->scopes));
	json_object_object_add(meta, "token_type", jsonx_string_or_null(t->token_type));
	char expires_in[24];
	snprintf(expires_in, sizeof(expires_in), "%ld", t->expires_in);
	const char *params[] = {user_id, p->name, json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PLAIN),
				access,	 refresh, expires_in};
	PGresult *res;
	enum db_status s = db_exec(
		a, &res,
		"INSERT INTO user_integrations AS ui (user_id, provider, enabled, metadata, access_token, "
		"refresh_token, "
		"token_expires_at, status, connected_at, last_used_at) "
		"VALUES ($1, $2, true, $3::jsonb, $4, $5, "
		"CASE WHEN $6::bigint > 0 THEN now() + make_interval(secs => $6::bigint) END, 'active', now(), now()) "
		"ON CONFLICT (user_id, provider) DO UPDATE SET enabled = true, metadata = EXCLUDED.metadata, "
		"access_token = EXCLUDED.access_token, refresh_token = EXCLUDED.refresh_token, "
		"token_expires_at = EXCLUDED.token_expires_at, status = 'active', last_error = NULL, "
		"connected_at = now(), last_used_at = now(), updated_at = now() "
		"RETURNING (xmax <> 0)",
		6, params);
	if (s != DB_OK)
		return s;
	*reconnected = PQgetvalue(res, 0, 0)[0] == 't';
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "account", jsonx_string_or_null(jsonx_get_string(profile, "username")));
	json_object_object_add(d, "scopes", oauth_scope_list(t->scope ? t->scope : p->scopes));
	json_object_object_add(d, "reconnected", json_object_new_boolean(*reconnected));
	s = audit_record(rq->arena, request_actor(rq, user_id), "integration.connected", p->name, d);
	if (s != DB_OK)
		return s;
	struct json_object *ev = arena_defer(a, jsonx_put, json_object_new_object());
	json_object_object_add(ev, "provider", json_object_new_string(p->name));
	json_object_object_add(ev, "account", jsonx_string_or_null(jsonx_get_string(profile, "username")));
	json_object_object_add(ev, "scopes", oauth_scope_list(t->scope ? t->scope : p->scopes));
	struct event_published pub;
	return events_publish(a, user_id, "integration.connected", ev, NULL, &pub);
}

/* Finds the user of a provider identity, else the account with the verified email,
 * else creates one; links the identity. Inside the caller's transaction.
 * An account with that email which has a password (or comes from the host platform) is
 * never linked: its email was never verified by us, so whoever registered it first
 * (perhaps not the email's owner) would gain the identity. *taken is set instead. */
static enum db_status sign_in_user(struct request *rq, const char *provider, struct json_object *profile,
				   const char **user_id, bool *created, bool *taken)
{
	struct arena *a = rq->arena;
	const char *subject = jsonx_get_string(profile, "id"), *email = jsonx_get_string(profile, "email");
	const char *name = jsonx_get_string(profile, "name");
	if (!name)
		name = jsonx_get_string(profile, "username");
	PGresult *res;
	*created = false;
	const char *ip[] = {provider, subject};
	enum db_status s =
		db_exec(a, &res,
			"UPDATE user_identities SET last_login_at = now() WHERE provider = $1 AND subject = $2 "
			"RETURNING user_id",
			2, ip);
	if (s != DB_OK)
		return s;
	if (PQntuples(res) == 1) {
		*user_id = PQgetvalue(res, 0, 0);
		return DB_OK;
	}
	const char *ep[] = {email};
	s = db_exec(a, &res,
		    "SELECT id, password_hash IS NULL AND external_subject IS NULL FROM users WHERE lower(email) = "
		    "lower($1)",
		    1, ep);
	if (s != DB_OK)
		return s;
	if (PQntuples(res) == 1) {
		if (PQgetvalue(res, 0, 1)[0] != 't') {
			*taken = true;
			return DB_OK;
		}
		*user_id = PQgetvalue(res, 0, 0);
	} else {
		const char *np[] = {email, name ? name : "", provider};
		s = db_exec(
			a, &res,
			"INSERT INTO users (email, name, oauth_provider) VALUES ($1, left($2, 100), $3) RETURNING id",
			3, np);
		if (s != DB_OK)
			return s;
		*user_id = PQgetvalue(res, 0, 0);
		*created = true;
	}
	const char *lp[] = {provider, subject, *user_id, email};
	return db_exec(a, NULL,
		       "INSERT INTO user_identities (provider, subject, user_id, email) VALUES ($1, $2, $3, $4)", 4,
		       lp);
}

static struct json_object *user_json(struct arena *a, const char *user_id)
{
	PGresult *res;
	const char *p[] = {user_id};
	if (db_exec(a, &res,
		    "SELECT id, email, name, " SQL_RFC3339("created_at") ", " SQL_RFC3339(
			    "updated_at") " FROM users WHERE id = $1",
		    1, p) != DB_OK ||
	    PQntuples(res) != 1)
		return NULL;
	struct json_object *u = json_object_new_object();
	json_object_object_add(u, "id", json_object_new_string(PQgetvalue(res, 0, 0)));
	json_object_object_add(u, "email", jsonx_string_or_null(db_value(res, 0, 1)));
	json_object_object_add(u, "name", json_object_new_string(PQgetvalue(res, 0, 2)));
	json_object_object_add(u, "created_at", json_object_new_string(PQgetvalue(res, 0, 3)));
	json_object_object_add(u, "updated_at", json_object_new_string(PQgetvalue(res, 0, 4)));
	return u;
}

static int finish_login(struct request *rq, const struct oauth_provider *p, const struct oauth_tokens *t,
			struct json_object *profile)
{
	const char *email = jsonx_get_string(profile, "email");
	if (!email || !jsonx_get_bool(profile, "email_verified", 0)) {
		if (audit_record(rq->arena, request_actor(rq, NULL), "user.login_failed", p->name, NULL) ==
		    DB_UNAVAILABLE)
			return finish_db_error(rq, "login", p->name, DB_UNAVAILABLE);
		return finish_error(rq, "login", p->name, 403, "email_not_verified",
				    "The provider did not confirm a verified email address for this account");
	}
	const char *user_id = NULL;
	bool created = false, reconnected, taken = false;
	struct json_object *pair = NULL;
	enum db_status s = DB_OK;
	/* Two first sign-ins at once may both try to create the account: the loser retries
	 * and finds it. */
	for (int attempt = 0; attempt < 2; attempt++) {
		s = db_begin(rq->arena);
		if (s == DB_OK)
			s = sign_in_user(rq, p->name, profile, &user_id, &created, &taken);
		if (s != DB_CONFLICT)
			break;
		db_rollback(rq->arena);
	}
	if (s == DB_OK && taken) {
		db_rollback(rq->arena);
		if (audit_record(rq->arena, request_actor(rq, NULL), "user.login_failed", p->name, NULL) ==
		    DB_UNAVAILABLE)
			return finish_db_error(rq, "login", p->name, DB_UNAVAILABLE);
		return finish_error(
			rq, "login", p->name, 409, "account_exists",
			arena_printf(rq->arena,
				     "An account with this email already exists: sign in with its password, "
				     "then connect %s from the integration settings",
				     p->name));
	}
	if (s == DB_OK && created)
		s = audit_record(rq->arena, request_actor(rq, user_id), "user.registered", p->name, NULL);
	if (s == DB_OK)
		s = store_integration(rq, p, user_id, t, profile, &reconnected);
	if (s == DB_OK)
		s = audit_record(rq->arena, request_actor(rq, user_id), "user.login", p->name, NULL);
	if (s == DB_OK)
		s = session_create(rq->arena, user_id, NULL, &pair);
	struct json_object *user = s == DB_OK ? user_json(rq->arena, user_id) : NULL;
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK) {
		json_object_put(pair);
		json_object_put(user);
		return finish_db_error(rq, "login", p->name, s);
	}
	if (wants_json(rq)) {
		json_object_object_add(pair, "user", user);
		json_object_object_add(pair, "created", json_object_new_boolean(created));
		json_object_object_add(pair, "provider", json_object_new_string(p->name));
		return reply_ok(rq, 200, pair, "Authenticated");
	}
	/* Tokens travel in the fragment: browsers never send it to a server or log it. */
	struct form f;
	form_init(&f, rq->arena);
	form_add(&f, "access_token", jsonx_get_string(pair, "access_token"));
	form_add(&f, "refresh_token", jsonx_get_string(pair, "refresh_token"));
	form_add(&f, "token_type", "Bearer");
	form_add(&f, "expires_in", arena_printf(rq->arena, "%ld", session_access_ttl()));
	form_add(&f, "provider", p->name);
	json_object_put(pair);
	json_object_put(user);
	return redirect(rq, arena_printf(rq->arena, "%s/auth/callback#%s", frontend(), f.text));
}

/* A failure once the state was valid: audited for the user it belongs to (sign-in has
 * no user yet), then answered like any other. */
static int fail_after_state(struct request *rq, const struct oauth_pending *pend, int status, const char *reason,
			    const char *message)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "reason", json_object_new_string(reason));
	json_object_object_add(d, "purpose", json_object_new_string(pend->purpose));
	if (audit_record(rq->arena, request_actor(rq, pend->user_id), "integration.connect_failed", pend->provider,
			 d) == DB_UNAVAILABLE)
		log_msg(LOG_WARN, "could not audit a failed %s callback: database unavailable", pend->provider);
	return finish_error(rq, pend->purpose, pend->provider, status, reason, message);
}

/* 302 to the frontend (or JSON with Accept: application/json): 200 connected / signed in |
 * 400 state_* , access_denied and other provider errors, code_missing, token_exchange_refused |
 * 403 email_not_verified (sign-in) | 404 unknown provider | 409 provider_not_configured |
 * 502/504 provider_unavailable / provider_timeout | 500 | 503
 * Nothing is stored unless the state checks out and the provider granted tokens. */
int handle_callback(struct request *rq)
{
	const struct oauth_provider *p = oauth_provider_find(request_param(rq, "provider"));
	if (!p)
		return reply_error(rq, 404, "not_found", "No such OAuth provider");
	const char *name = p->name;
	enum oauth_state_check check;
	struct oauth_pending pend;
	const char *state = request_query(rq, "state");
	const char *binding = state ? request_cookie(rq, oauth_state_cookie_name(rq->arena, state)) : NULL;
	enum db_status s = oauth_state_consume(rq->arena, state, name, binding, &check, &pend);
	if (s != DB_OK)
		return finish_db_error(rq, NULL, name, s);
	const char *purpose = check == OAUTH_STATE_OK ? pend.purpose : NULL;
	const char *perror = request_query(rq, "error");
	if (perror) {
		const char *desc = request_query(rq, "error_description");
		if (check == OAUTH_STATE_OK)
			audit_record(rq->arena, request_actor(rq, pend.user_id), "integration.connect_failed", name,
				     NULL);
		return finish_error(rq, purpose, name, 400, reason_code(rq->arena, perror),
				    desc ? arena_printf(rq->arena, "The provider reported: %.200s", desc)
					 : "The authorization was not granted at the provider");
	}
	if (check != OAUTH_STATE_OK)
		return finish_error(rq, purpose, name, 400, oauth_state_reason(check), oauth_state_message(check));
	const char *code = request_query(rq, "code");
	if (!code || !*code || strlen(code) > 2048)
		return finish_error(rq, purpose, name, 400, "code_missing", "The provider sent no authorization code");
	if (!oauth_provider_available(p))
		return finish_error(rq, purpose, name, 409, "provider_not_configured",
				    "This provider is not configured on this server");

	struct oauth_tokens t;
	const char *reason = NULL;
	int http_status = 502;
	enum oauth_result r =
		oauth_exchange_code(rq->arena, p, code, pend.verifier, pend.redirect_uri, &t, &reason, &http_status);
	if (r == OAUTH_REFUSED) {
		log_msg(LOG_WARN, "%s code exchange refused: %s", name, reason);
		return fail_after_state(
			rq, &pend, 400, "token_exchange_refused",
			arena_printf(rq->arena, "The provider refused the authorization code (%s)", reason));
	}
	if (r != OAUTH_OK)
		return fail_after_state(rq, &pend, http_status,
					http_status == 504 ? "provider_timeout" : "provider_unavailable", reason);
	struct json_object *profile;
	r = oauth_fetch_profile(rq->arena, p, t.access_token, &profile, &reason, &http_status);
	if (r != OAUTH_OK)
		return fail_after_state(rq, &pend, http_status == 504 ? 504 : 502,
					http_status == 504 ? "provider_timeout" : "provider_unavailable", reason);

	if (!strcmp(pend.purpose, "login"))
		return finish_login(rq, p, &t, profile);

	bool reconnected;
	s = db_begin(rq->arena);
	if (s == DB_OK)
		s = store_integration(rq, p, pend.user_id, &t, profile, &reconnected);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return finish_db_error(rq, purpose, name, s);
	if (wants_json(rq)) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "provider", json_object_new_string(name));
		json_object_object_add(d, "connected", json_object_new_boolean(1));
		json_object_object_add(d, "reconnected", json_object_new_boolean(reconnected));
		json_object_object_add(d, "account", jsonx_string_or_null(jsonx_get_string(profile, "username")));
		json_object_object_add(d, "scopes", oauth_scope_list(t.scope ? t.scope : p->scopes));
		return reply_ok(rq, 200, d, "Connected");
	}
	struct form f;
	form_init(&f, rq->arena);
	form_add(&f, "connected", name);
	return redirect(rq,
			url_with_query(rq->arena, arena_printf(rq->arena, "%s/settings/integrations", frontend()), &f));
}
