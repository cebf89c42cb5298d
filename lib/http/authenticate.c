/* Bearer authentication; see auth.h. */
#include "http/authenticate.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/apikey.h"
#include "auth/apikey_store.h"
#include "auth/credential.h"
#include "auth/oauth_client_store.h"
#include "auth/oauth_grant_store.h"
#include "auth/scope.h"
#include "auth/token.h"
#include "auth/user_store.h"
#include "core/arena.h"
#include "db/db.h"
#include "http/form.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/router.h"

int auth_is_uuid(const char *s)
{
	static const int dash[] = {8, 13, 18, 23};
	if (!s || strlen(s) != 36)
		return 0;
	for (int i = 0, d = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return 0;
			d++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/* 401 in the route's format. */
static int unauthorized(struct request *rq, const char *message, int token_was_sent)
{
	if (rq->route && rq->route->errors == ERRORS_OAUTH)
		return reply_unauthorized_oauth(rq, message, token_was_sent);
	return reply_unauthorized(rq, message, token_was_sent);
}

/* Puts what authenticated rq onto it. */
static void take_credential(struct request *rq, enum auth_kind kind, const struct credential *c)
{
	rq->auth_kind = kind;
	rq->user_id = c->user_id;
	rq->scopes = c->scopes;
	rq->rate_limit = c->rate_limit;
	rq->rate_limit_read = c->rate_limit_read;
	rq->rate_limit_write = c->rate_limit_write;
	rq->api_key_id = c->api_key_id;
	rq->client_id = c->client_id;
	rq->client_public_id = c->client_public_id;
	rq->token_id = c->token_id;
	rq->public_client = c->public_client;
}

/* An API key: its owner, its scopes, its limit. Revoked and unknown keys are one answer. */
static int auth_api_key(struct request *rq, const char *key)
{
	if (!apikey_well_formed(key, APIKEY_PREFIX))
		return unauthorized(rq, "The API key is invalid", 1);
	struct credential *c;
	enum db_status s = apikey_store_find(rq->arena, key, &c);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!c)
		return unauthorized(rq, "The API key is invalid or revoked", 1);
	if (c->expired)
		return unauthorized(rq, "The API key has expired", 1);
	take_credential(rq, AUTH_API_KEY, c);
	return 0;
}

/* An opaque OAuth access token of an active client. */
static int auth_access_token(struct request *rq, const char *token)
{
	if (!apikey_well_formed(token, ACCESS_TOKEN_PREFIX))
		return unauthorized(rq, "The access token is invalid", 1);
	struct credential *c;
	enum db_status s = oauth_access_token_find(rq->arena, token, &c);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!c)
		return unauthorized(rq, "The access token is invalid or revoked", 1);
	if (c->expired)
		return unauthorized(rq, "The access token has expired", 1);
	take_credential(rq, AUTH_OAUTH_TOKEN, c);
	return 0;
}

int auth_require_user(struct request *rq)
{
	const char *h = request_header(rq, "authorization");
	const char *key = request_header(rq, "x-api-key");
	if (key && h && *h)
		return unauthorized(rq, "Send either X-API-Key or Authorization, not both", 1);
	if (key)
		return auth_api_key(rq, key);
	if (!h || !*h)
		return unauthorized(rq, "Authentication required", 0);
	if (strncasecmp(h, "Bearer ", 7) || !h[7])
		return unauthorized(rq, "Use an Authorization: Bearer token", 1);
	const char *t = h + 7;
	if (!strncmp(t, APIKEY_PREFIX, strlen(APIKEY_PREFIX)))
		return auth_api_key(rq, t);
	if (!strncmp(t, ACCESS_TOKEN_PREFIX, strlen(ACCESS_TOKEN_PREFIX)))
		return auth_access_token(rq, t);
	struct token_claims c;
	enum token_error e = token_verify(rq->arena, t, time(NULL), &c);
	if (e != TOKEN_OK)
		return unauthorized(rq, token_error_message(e), 1);
	if (c.issuer == TOKEN_HOST) {
		/* A host-platform identity maps to one user row, created on first sight. */
		enum db_status s = user_store_for_host(rq->arena, c.sub, c.email, c.name, &rq->user_id);
		if (s != DB_OK)
			return reply_db_failure(rq, s);
		rq->auth_kind = AUTH_JWT;
		return 0;
	}
	if (!auth_is_uuid(c.sub))
		return unauthorized(rq, token_error_message(TOKEN_BAD_CLAIMS), 1);
	rq->user_id = c.sub;
	rq->auth_kind = AUTH_JWT;
	rq->scopes = c.scope; /* NULL: every scope; a directory sign-in may narrow it */
	return 0;
}

int auth_require_scope(struct request *rq, const char *scope)
{
	if (scope_allows(rq->scopes, scope))
		return 0;
	return reply_insufficient_scope(rq, scope, rq->route && rq->route->errors == ERRORS_OAUTH);
}

static int invalid_client(struct request *rq, const char *message)
{
	reply_header(rq, "WWW-Authenticate", "Basic realm=\"switchboard\"");
	return reply_oauth_error(rq, 401, "invalid_client", message);
}

int auth_invalid_client(struct request *rq)
{
	return invalid_client(rq, "Unknown client or wrong secret");
}

int auth_require_client(struct request *rq)
{
	const char *user = NULL, *pass = NULL;
	int basic = basic_auth_parse(rq->arena, request_header(rq, "authorization"), &user, &pass);
	if (basic < 0)
		return invalid_client(rq, "Malformed Basic credentials");
	const char *fid = form_value(rq, "client_id"), *fsecret = form_value(rq, "client_secret");
	if (basic > 0 && fsecret)
		return reply_oauth_error(rq, 400, "invalid_request", "Use one client authentication method, not two");
	if (basic > 0) {
		/* client_id may repeat in the form (public clients send it); it must agree. */
		if (fid && strcmp(fid, user))
			return reply_oauth_error(rq, 400, "invalid_request",
						 "client_id does not match the credentials");
	} else {
		/* client_id alone: a public client (RFC 6749 §2.1), refused for any other. */
		if (!fid)
			return invalid_client(
				rq, "Client authentication required (HTTP Basic or client_id and client_secret)");
		user = fid;
		pass = fsecret;
	}
	struct credential *c;
	bool cached = rq->route && rq->route->client_confirmed_by_handler && rq->route->client_confirmed_by_handler(rq);
	enum db_status s = (cached ? oauth_client_verify_cached : oauth_client_verify)(rq->arena, user, pass, &c);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!c)
		return auth_invalid_client(rq);
	take_credential(rq, AUTH_OAUTH_CLIENT, c);
	return 0;
}
