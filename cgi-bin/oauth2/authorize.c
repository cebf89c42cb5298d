/* The authorization endpoint (RFC 6749 §4.1.1, PKCE RFC 7636 §4.3), the consent API the
 * console's consent page uses, and the user's authorized apps.
 *
 * GET /oauth/authorize checks the request, stores it as a consent request (10 minutes)
 * and sends the browser to the console: /console/#/consent?request=ID when it has a
 * session (the sb_csrf cookie of a cookie sign-in), else /console/#/login?next=<that
 * consent URL>. An unknown client or a redirect_uri that is not exactly one of the
 * client's registered URIs is shown to the user and never redirected (§4.1.2.1); every
 * other error goes back to the redirect URI with error, error_description and state.
 * The signed-in user decides with POST /oauth/consent/{request} (their own JWT plus the
 * CSRF header): the answer is the URL to send the browser to, with the code or
 * access_denied. */
#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>

#include "auth/oauth_code_store.h"
#include "auth/scope.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/urlenc.h"
#include "core/validate.h"
#include "db/db.h"
#include "events/audit.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"

#define STATE_MAX 1024

/* The parameters of §4.1.1 and RFC 7636 §4.3. */
static const char *const authorize_params[] = {"response_type",	 "client_id", "redirect_uri",	       "scope",
					       "state",		 "code_challenge", "code_challenge_method", NULL};

/* The value of query parameter name, NULL when absent or empty (§3.1: "sent without a
 * value MUST be treated as if they were omitted"); *repeated when it occurs twice. */
static const char *param(const struct request *rq, const char *name, bool *repeated)
{
	const char *v = NULL;
	int n = 0;
	for (size_t i = 0; i < rq->nquery; i++)
		if (!strcmp(rq->query[i].name, name) && ++n == 1)
			v = rq->query[i].value;
	if (repeated)
		*repeated = n > 1;
	return v && *v ? v : NULL;
}

/* An error the user sees (400, or status): no redirect to an unverified URI. The text
 * is ours only. */
static int error_page_status(struct request *rq, int status, const char *error, const char *description)
{
	const char *html = arena_printf(rq->arena,
					"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
					"<title>Authorization failed</title></head><body><h1>Authorization failed</h1>"
					"<p>The application sent an invalid authorization request, so you were not "
					"sent back to it.</p><p><code>%s</code>: %s</p></body></html>\n",
					error, description);
	reply_header(rq, "Cache-Control", "no-store");
	if (status == 503)
		reply_header(rq, "Retry-After", "5");
	return reply_raw(rq, status, "text/html; charset=utf-8", html, strlen(html));
}

static int error_page(struct request *rq, const char *error, const char *description)
{
	return error_page_status(rq, 400, error, description);
}

static int redirect(struct request *rq, const char *location)
{
	reply_header(rq, "Location", location);
	reply_header(rq, "Cache-Control", "no-store");
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "location", json_object_new_string(location));
	return reply_ok(rq, 302, d, "Redirecting");
}

/* redirect_uri with the §4.1.2.1 error parameters, state and (RFC 9207) iss. */
static const char *error_url(struct request *rq, const char *redirect_uri, const char *error, const char *description,
			     const char *state)
{
	struct arena *a = rq->arena;
	struct form f;
	form_init(&f, a);
	form_add(&f, "error", error);
	form_add(&f, "error_description", description);
	form_add(&f, "state", state);
	form_add(&f, "iss", oauth2_issuer(rq));
	return url_with_query(a, redirect_uri, &f);
}

static int error_redirect(struct request *rq, const char *redirect_uri, const char *error, const char *description,
			  const char *state)
{
	return redirect(rq, error_url(rq, redirect_uri, error, description, state));
}

/* The scope parameter checked against the client's: the set to ask the user for, or
 * NULL with *error set. Without one: the client's scopes but offline_access. */
static const char *asked_scope(struct request *rq, const struct oauth_authorize_client *c, const char **error)
{
	const char *want = param(rq, "scope", NULL);
	if (!want)
		return scope_without(rq->arena, c->scopes, "offline_access");
	const char *bad = NULL;
	char *norm = scope_normalise(rq->arena, want, &bad);
	if (!norm || !*norm) {
		*error = "The scope is empty or names an unknown scope";
		return NULL;
	}
	if (!scope_subset(norm, c->scopes)) {
		*error = "The scope exceeds what this client may be granted";
		return NULL;
	}
	return norm;
}

/* The PKCE parameters (RFC 7636 §4.3, §4.4.1): the S256 challenge, or NULL for none;
 * *error set when they are wrong or missing for a public client. */
static const char *pkce_challenge(struct request *rq, const struct oauth_authorize_client *c, const char **error)
{
	const char *challenge = param(rq, "code_challenge", NULL), *method = param(rq, "code_challenge_method", NULL);
	*error = NULL;
	if (!challenge) {
		if (method)
			*error = "code_challenge_method without code_challenge";
		else if (c->public_client)
			*error = "PKCE is required for public clients: send code_challenge and "
				 "code_challenge_method=S256";
		return NULL;
	}
	/* Without a method the challenge is "plain" (§4.3), which we do not accept. */
	if (!method || strcmp(method, "S256")) {
		*error = "code_challenge_method must be S256 (plain is not supported)";
		return NULL;
	}
	if (!oauth_pkce_well_formed(challenge) || strlen(challenge) != 43) {
		*error = "code_challenge must be the base64url SHA-256 of the verifier (43 characters)";
		return NULL;
	}
	return challenge;
}

/* 302 to the console (consent or sign-in) | 302 to redirect_uri with an error
 * (invalid_request, unsupported_response_type, invalid_scope, server_error,
 * temporarily_unavailable) | 400 HTML page (unknown client, bad redirect_uri) | 429 |
 * 500 / 503 HTML page (the client cannot be checked: nothing to redirect to yet). */
int handle_authorize(struct request *rq)
{
	bool rep_client, rep_redirect, rep_other = false;
	const char *client_id = param(rq, "client_id", &rep_client);
	const char *given_uri = param(rq, "redirect_uri", &rep_redirect);
	if (rep_client || rep_redirect)
		return error_page(rq, "invalid_request", "client_id and redirect_uri may be sent only once.");
	if (!client_id)
		return error_page(rq, "invalid_request", "client_id is missing.");
	struct oauth_authorize_client *c;
	enum db_status s = oauth_authorize_client_find(rq->arena, client_id, given_uri, &c);
	if (s != DB_OK)
		return error_page_status(rq, s == DB_UNAVAILABLE ? 503 : 500,
					 s == DB_UNAVAILABLE ? "temporarily_unavailable" : "server_error",
					 "The authorization server cannot check this request now; try again shortly.");
	if (!c)
		return error_page(rq, "invalid_client", "No such client.");
	if (given_uri && !c->redirect_matches)
		return error_page(rq, "invalid_request",
				  "redirect_uri is not one of the redirect URIs registered for this client.");
	if (!given_uri && !c->sole_redirect_uri)
		return error_page(rq, "invalid_request",
				  "redirect_uri is required: the client has no or several registered redirect URIs.");
	const char *uri = given_uri ? given_uri : c->sole_redirect_uri;

	/* From here on errors go back to the client. */
	bool rep_state;
	const char *state = param(rq, "state", &rep_state);
	if (state && strlen(state) > STATE_MAX)
		return error_redirect(rq, uri, "invalid_request", "state is longer than 1024 characters", NULL);
	for (size_t i = 0; authorize_params[i]; i++) {
		bool rep;
		param(rq, authorize_params[i], &rep);
		rep_other = rep_other || rep;
	}
	if (rep_other)
		return error_redirect(rq, uri, "invalid_request", "A parameter is repeated", rep_state ? NULL : state);
	const char *response_type = param(rq, "response_type", NULL);
	if (!response_type)
		return error_redirect(rq, uri, "invalid_request", "response_type is required", state);
	if (strcmp(response_type, "code"))
		return error_redirect(rq, uri, "unsupported_response_type", "Only response_type=code is supported",
				      state);
	const char *error = NULL;
	const char *scopes = asked_scope(rq, c, &error);
	if (!scopes)
		return error_redirect(rq, uri, "invalid_scope", error, state);
	if (!*scopes)
		return error_redirect(rq, uri, "invalid_scope", "The client may be granted no scope", state);
	const char *challenge = pkce_challenge(rq, c, &error);
	if (error)
		return error_redirect(rq, uri, "invalid_request", error, state);

	struct oauth_authorization r = {.client_id = c->id,
					.redirect_uri = uri,
					.redirect_uri_given = given_uri != NULL,
					.scopes = scopes,
					.state = state,
					.code_challenge = challenge};
	const char *id = NULL;
	s = oauth_consent_create(rq->arena, &r, &id);
	if (s != DB_OK)
		return error_redirect(rq, uri, s == DB_UNAVAILABLE ? "temporarily_unavailable" : "server_error",
				      "The authorization server cannot take this request now", state);
	const char *consent = arena_printf(rq->arena, "/console/#/consent?request=%s", id);
	const char *session = request_cookie(rq, "sb_csrf");
	if (session && *session)
		return redirect(rq, consent);
	return redirect(rq, arena_printf(rq->arena, "/console/#/login?next=%s", url_encode(rq->arena, consent)));
}

/* Consent is the signed-in user's own act: their JWT, never a key or a client's token,
 * nor a sign-in narrowed below admin (a directory sign-in mapped to fewer scopes must not
 * grant a client more than it holds). */
static int require_jwt(struct request *rq)
{
	if (rq->auth_kind == AUTH_JWT && scope_allows(rq->scopes, "admin"))
		return 0;
	return reply_error(rq, 403, "forbidden", "Only the signed-in user can answer a consent request");
}

static int no_such_request(struct request *rq)
{
	return reply_error(rq, 404, "not_found", "No such consent request (it may have expired or been answered)");
}

static struct json_object *scope_list(const char *scopes)
{
	struct json_object *a = json_object_new_array();
	const char *p = scopes;
	while (p && *p) {
		size_t n = strcspn(p, " ");
		if (n)
			json_object_array_add(a, json_object_new_string_len(p, (int)n));
		p += n;
		p += strspn(p, " ");
	}
	return a;
}

/* 200 {client: {name, client_id}, scopes, redirect_uri, previously_granted, expires_in} |
 * 401 | 403 (not a user JWT) | 404 | 500 | 503 */
int handle_consent_get(struct request *rq)
{
	if (require_jwt(rq))
		return rq->status;
	const char *id = request_param(rq, "request");
	if (!text_is_uuid(id))
		return no_such_request(rq);
	struct oauth_authorization *r;
	enum db_status s = oauth_consent_find(rq->arena, id, rq->user_id, false, &r);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!r)
		return no_such_request(rq);
	struct json_object *d = json_object_new_object(), *client = json_object_new_object();
	json_object_object_add(client, "name", json_object_new_string(r->client_name));
	json_object_object_add(client, "client_id", json_object_new_string(r->client_public_id));
	json_object_object_add(d, "client", client);
	json_object_object_add(d, "scopes", scope_list(r->scopes));
	json_object_object_add(d, "redirect_uri", json_object_new_string(r->redirect_uri));
	json_object_object_add(d, "previously_granted", json_object_new_boolean(r->previously_granted));
	return reply_ok(rq, 200, d, NULL);
}

const struct field consent_fields[] = {
	{"approve", FIELD_BOOL, true, 0, 0, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

/* X-CSRF-Token equal to the sb_csrf cookie, compared in constant time. */
static bool csrf_ok(const struct request *rq)
{
	const char *header = request_header(rq, "x-csrf-token"), *cookie = request_cookie(rq, "sb_csrf");
	return header && cookie && *cookie && crypto_str_equal(header, cookie);
}

static struct json_object *consent_details(const struct oauth_authorization *r)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "client_id", json_object_new_string(r->client_public_id));
	json_object_object_add(d, "scopes", scope_list(r->scopes));
	return d;
}

/* 200 {redirect_to} (the code and state, or error=access_denied) | 401 | 403 (not a user
 * JWT, csrf_failed) | 404 (unknown, expired or already answered) | 422 | 500 | 503.
 * The request is locked and decided once: a second answer is a 404. */
int handle_consent_post(struct request *rq)
{
	if (require_jwt(rq))
		return rq->status;
	if (!csrf_ok(rq))
		return reply_error(rq, 403, "csrf_failed", "The X-CSRF-Token header must equal the sb_csrf cookie");
	const char *id = request_param(rq, "request");
	if (!text_is_uuid(id))
		return no_such_request(rq);
	bool approve = jsonx_get_bool(rq->json, "approve", 0);
	struct oauth_authorization *r = NULL;
	const char *code = NULL;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = oauth_consent_find(rq->arena, id, rq->user_id, true, &r);
	if (s == DB_OK && r)
		s = oauth_consent_decide(rq->arena, id);
	if (s == DB_OK && r && approve)
		s = oauth_code_issue(rq->arena, r, rq->user_id, &code);
	if (s == DB_OK && r)
		s = audit_record(rq->arena, request_actor(rq, rq->user_id),
				 approve ? "oauth.consent_granted" : "oauth.consent_denied", NULL, consent_details(r));
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!r)
		return no_such_request(rq);
	const char *to;
	if (approve) {
		struct form f;
		form_init(&f, rq->arena);
		form_add(&f, "code", code);
		form_add(&f, "state", r->state);
		form_add(&f, "iss", oauth2_issuer(rq));
		to = url_with_query(rq->arena, r->redirect_uri, &f);
	} else {
		to = error_url(rq, r->redirect_uri, "access_denied", "The user denied the request", r->state);
	}
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "redirect_to", json_object_new_string(to));
	return reply_ok(rq, 200, d, approve ? "Authorized" : "Denied");
}

/* 200 [{client_id, name, description, scopes, created_at, updated_at}] | 401 | 403 | 500 | 503 */
int handle_authorized_apps(struct request *rq)
{
	struct json_object *apps;
	enum db_status s = oauth_authorized_apps(rq->arena, rq->user_id, &apps);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, apps, NULL);
}

/* 200 | 401 | 403 | 404 (no grant to that client) | 500 | 503. Every token the user
 * delegated to the client stops working at once; the client's own tokens stay. */
int handle_authorized_app_revoke(struct request *rq)
{
	const char *client_id = request_param(rq, "client_id");
	bool found = false;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = oauth_authorized_app_revoke(rq->arena, rq->user_id, client_id, &found);
	if (s == DB_OK && found) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "client_id", json_object_new_string(client_id));
		s = audit_record(rq->arena, request_actor(rq, rq->user_id), "oauth.app_revoked", NULL, d);
	}
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!found)
		return reply_error(rq, 404, "not_found", "You have not authorized this application");
	return reply_ok(rq, 200, NULL, "Access revoked");
}
