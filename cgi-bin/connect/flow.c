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
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"
#include "integrations/oauth_connection.h"
#include "oauth/oauth_client.h"
#include "oauth/oauth_signin.h"
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

/* ?return_to=console: the console started this connect and the callback brings the
 * browser back to it, on this origin. Only that word is taken (never a URL). */
static int start(struct request *rq, const struct oauth_provider *p, const char *purpose, const char *user_id)
{
	const char *return_to = request_query(rq, "return_to");
	if (return_to && (strcmp(return_to, "console") || strcmp(purpose, "connect")))
		return reply_invalid_field(rq, "return_to",
					   strcmp(purpose, "connect") ? "is only taken by connect"
								      : "must be \"console\" (or left out)");
	return connect_start(rq, p, purpose, user_id, NULL, NULL, return_to, "/api/v1/auth/", wants_json(rq));
}

int connect_start(struct request *rq, const struct oauth_provider *p, const char *purpose, const char *user_id,
		  const char *redirect_uri, const char *scopes, const char *return_to, const char *cookie_path,
		  bool json)
{
	if (!redirect_uri)
		redirect_uri = oauth_callback_url(p);
	if (!scopes)
		scopes = p->scopes;
	char *verifier = p->pkce ? oauth_pkce_verifier(rq->arena) : NULL, *state, *binding;
	if (p->pkce && !verifier)
		return reply_internal(rq);
	enum db_status s =
		oauth_state_create(rq->arena, purpose, user_id, p->name, verifier, redirect_uri, return_to, &state,
				   &binding);
	if (s != DB_OK)
		return s == DB_UNAVAILABLE ? reply_db_unavailable(rq) : reply_internal(rq);
	/* The browser-binding cookie: the callback only completes in this browser. */
	reply_header(rq, "Set-Cookie",
		     arena_printf(rq->arena, "%s=%s; Path=%s; Max-Age=%ld; HttpOnly; SameSite=Lax%s",
				  oauth_state_cookie_name(rq->arena, state), binding, cookie_path, oauth_state_ttl(),
				  config_bool("SB_COOKIE_SECURE", true) ? "; Secure" : ""));
	char *url = oauth_authorize_url_to(rq->arena, p, state,
					   verifier ? oauth_pkce_challenge(rq->arena, verifier) : NULL, redirect_uri,
					   scopes);
	if (!url)
		return reply_internal(rq);
	if (!json)
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
/* Where a connect ends in the browser: the operator's frontend, or, for a flow the
 * console started (return_to "console"), the console's integrations page on this
 * origin; f holds the query (connected=, or error= and provider=). */
static const char *landing(struct request *rq, const char *purpose, const char *return_to, struct form *f)
{
	if (return_to && !strcmp(return_to, "console"))
		return url_with_query(rq->arena, "/console/#/integrations", f);
	const char *path = purpose && !strcmp(purpose, "login") ? "/login" : "/settings/integrations";
	return url_with_query(rq->arena, arena_printf(rq->arena, "%s%s", frontend(), path), f);
}

static int finish_error(struct request *rq, const char *purpose, const char *return_to, const char *provider,
			int status, const char *reason, const char *message)
{
	if (wants_json(rq))
		return reply_error(rq, status, reason, message);
	struct form f;
	form_init(&f, rq->arena);
	form_add(&f, "error", reason);
	form_add(&f, "provider", provider);
	return redirect(rq, landing(rq, purpose, return_to, &f));
}

static int finish_db_error(struct request *rq, const char *purpose, const char *return_to, const char *provider,
			   enum db_status s)
{
	db_rollback(rq->arena);
	if (s == DB_UNAVAILABLE) {
		reply_header(rq, "Retry-After", "5");
		return finish_error(rq, purpose, return_to, provider, 503, "service_unavailable",
				    "The database is unavailable; try again shortly");
	}
	return finish_error(rq, purpose, return_to, provider, 500, "internal_error", "Internal error");
}

static int finish_login(struct request *rq, const struct oauth_provider *p, const struct oauth_tokens *t,
			struct json_object *profile)
{
	const char *email = jsonx_get_string(profile, "email");
	if (!email || !jsonx_get_bool(profile, "email_verified", 0)) {
		if (audit_record(rq->arena, request_actor(rq, NULL), "user.login_failed", p->name, NULL) ==
		    DB_UNAVAILABLE)
			return finish_db_error(rq, "login", NULL, p->name, DB_UNAVAILABLE);
		return finish_error(rq, "login", NULL, p->name, 403, "email_not_verified",
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
			s = oauth_signin_user(rq->arena, p->name, profile, &user_id, &created, &taken);
		if (s != DB_CONFLICT)
			break;
		db_rollback(rq->arena);
	}
	if (s == DB_OK && taken) {
		db_rollback(rq->arena);
		if (audit_record(rq->arena, request_actor(rq, NULL), "user.login_failed", p->name, NULL) ==
		    DB_UNAVAILABLE)
			return finish_db_error(rq, "login", NULL, p->name, DB_UNAVAILABLE);
		return finish_error(
			rq, "login", NULL, p->name, 409, "account_exists",
			arena_printf(rq->arena,
				     "An account with this email already exists: sign in with its password, "
				     "then connect %s from the integration settings",
				     p->name));
	}
	if (s == DB_OK && created)
		s = audit_record(rq->arena, request_actor(rq, user_id), "user.registered", p->name, NULL);
	if (s == DB_OK)
		s = oauth_connection_store(rq->arena, request_actor(rq, user_id), p, t, profile, &reconnected);
	if (s == DB_OK)
		s = audit_record(rq->arena, request_actor(rq, user_id), "user.login", p->name, NULL);
	if (s == DB_OK)
		s = session_create(rq->arena, user_id, NULL, &pair);
	struct json_object *user = s == DB_OK ? oauth_signin_user_json(rq->arena, user_id) : NULL;
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK) {
		json_object_put(pair);
		json_object_put(user);
		return finish_db_error(rq, "login", NULL, p->name, s);
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
	return finish_error(rq, pend->purpose, pend->return_to, pend->provider, status, reason, message);
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
		return finish_db_error(rq, NULL, NULL, name, s);
	const char *purpose = check == OAUTH_STATE_OK ? pend.purpose : NULL;
	const char *return_to = check == OAUTH_STATE_OK ? pend.return_to : NULL;
	const char *perror = request_query(rq, "error");
	if (perror) {
		const char *desc = request_query(rq, "error_description");
		if (check == OAUTH_STATE_OK)
			audit_record(rq->arena, request_actor(rq, pend.user_id), "integration.connect_failed", name,
				     NULL);
		return finish_error(rq, purpose, return_to, name, 400, reason_code(rq->arena, perror),
				    desc ? arena_printf(rq->arena, "The provider reported: %.200s", desc)
					 : "The authorization was not granted at the provider");
	}
	if (check != OAUTH_STATE_OK)
		return finish_error(rq, purpose, return_to, name, 400, oauth_state_reason(check), oauth_state_message(check));
	const char *code = request_query(rq, "code");
	if (!code || !*code || strlen(code) > 2048)
		return finish_error(rq, purpose, return_to, name, 400, "code_missing", "The provider sent no authorization code");
	if (!oauth_provider_available(p))
		return finish_error(rq, purpose, return_to, name, 409, "provider_not_configured",
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
		s = oauth_connection_store(rq->arena, request_actor(rq, pend.user_id), p, &t, profile, &reconnected);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return finish_db_error(rq, purpose, return_to, name, s);
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
	return redirect(rq, landing(rq, pend.purpose, pend.return_to, &f));
}
