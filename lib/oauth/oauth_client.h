/* OAuth2 clients for outside providers (we are the client): the providers file, PKCE,
 * the authorization URL, the code exchange, refresh, the profile and revocation. Every
 * provider is data: GitHub, Google and the rest differ only in their entry of the
 * providers file (config/providers.json, or SB_PROVIDERS_FILE). */
#ifndef SB_OAUTH_H
#define SB_OAUTH_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct json_object;
struct outbound_response;

enum oauth_token_auth { OAUTH_AUTH_POST, OAUTH_AUTH_BASIC, OAUTH_TOKEN_AUTH__MAX };
enum oauth_revoke {
	OAUTH_REVOKE_NONE,
	OAUTH_REVOKE_RFC7009,
	OAUTH_REVOKE_GITHUB,
	OAUTH_REVOKE_BEARER,
	OAUTH_REVOKE_JSON, /* RFC 7009's request with a JSON body {"token": ...} (Intuit) */
	OAUTH_REVOKE__MAX
};

#define OAUTH_PROFILE_FIELDS 6
/* Profile fields mapped from the userinfo response, in this order. */
enum oauth_profile_field {
	PROFILE_ID,
	PROFILE_USERNAME,
	PROFILE_EMAIL,
	PROFILE_NAME,
	PROFILE_AVATAR,
	PROFILE_EMAIL_VERIFIED
};
extern const char *const oauth_profile_names[OAUTH_PROFILE_FIELDS];

#define OAUTH_MAX_HEADERS 8
#define OAUTH_MAX_PARAMS  8

struct oauth_provider {
	char *name; /* URL segment and user_integrations.provider */
	char *display_name;
	char *env_prefix; /* "GITHUB": GITHUB_AUTHORIZE_URL etc. override the URLs */
	char *authorize_url, *token_url, *userinfo_url, *emails_url, *revoke_url, *api_url;
	char *userinfo_method; /* "GET" or "POST" */
	char *scopes;	       /* joined with scope_separator, ready for the URL */
	char *scope_separator;
	bool pkce, refresh, sign_in;
	bool token_json; /* the token endpoint takes a JSON body (Notion) instead of a form */
	enum oauth_token_auth token_auth;
	enum oauth_revoke revoke;
	char *client_id_env, *client_secret_env, *callback_env;
	char *profile[OAUTH_PROFILE_FIELDS];		  /* dotted paths into the userinfo JSON, may be NULL */
	char *headers[OAUTH_MAX_HEADERS + 1];		  /* extra "Name: value" lines for API calls */
	char *authorize_params[OAUTH_MAX_PARAMS * 2 + 1]; /* name, value, ..., NULL */
};

/* Parses a providers file's text and appends its entries (a later file's entry replaces
 * an earlier one of the same name). Returns 0, or -1 with a message in err naming the
 * provider and field. The entries live until oauth_providers_clear(). */
int oauth_providers_parse(const char *text, char *err, size_t errlen);
/* Loads SB_PROVIDERS_FILE (colon-separated list; default config/providers.json beside
 * the binary's build tree, then the working directory). Returns 0 or -1 (message on stderr). */
int oauth_providers_load(void);
void oauth_providers_clear(void);
const struct oauth_provider *oauth_provider_find(const char *name);
/* The i-th provider (file order), NULL past the end. */
const struct oauth_provider *oauth_provider_at(unsigned i);

/* URL of kind ("authorize", "token", "userinfo", "emails", "revoke", "api") with the
 * <PREFIX>_<KIND>_URL override applied; NULL when the provider has none. */
const char *oauth_url(struct arena *a, const struct oauth_provider *p, const char *kind);
const char *oauth_client_id(const struct oauth_provider *p);
const char *oauth_client_secret(const struct oauth_provider *p);
const char *oauth_callback_url(const struct oauth_provider *p);
/* True when the operator configured a client id (and callback): listed as available. */
bool oauth_provider_available(const struct oauth_provider *p);

/* PKCE (RFC 7636): a 43-character verifier from 32 random bytes, and its S256 challenge. */
char *oauth_pkce_verifier(struct arena *a);
char *oauth_pkce_challenge(struct arena *a, const char *verifier);

/* The authorization URL for state (and the PKCE challenge when the provider does PKCE). */
char *oauth_authorize_url(struct arena *a, const struct oauth_provider *p, const char *state, const char *challenge);
/* The same with another redirect_uri (one the operator allowed) and scope string. */
char *oauth_authorize_url_to(struct arena *a, const struct oauth_provider *p, const char *state, const char *challenge,
			     const char *redirect_uri, const char *scopes);

/* What a token endpoint granted. */
struct oauth_tokens {
	const char *access_token, *refresh_token, *token_type, *scope;
	long expires_in; /* seconds, 0 when not said */
};

enum oauth_result {
	OAUTH_OK,
	OAUTH_REFUSED,	   /* the provider answered with an OAuth error (invalid_grant, ...) */
	OAUTH_UNAVAILABLE, /* not reached, timed out, or answered nonsense: 502/504 */
	OAUTH_RESULT__MAX
};

/* Token endpoint calls. On OAUTH_REFUSED *reason is the provider's error code and
 * description; on OAUTH_UNAVAILABLE *reason says what failed and *http_status is 502 or 504. */
/* redirect_uri: the one sent with the authorization (NULL: the configured callback). */
enum oauth_result oauth_exchange_code(struct arena *a, const struct oauth_provider *p, const char *code,
				      const char *verifier, const char *redirect_uri, struct oauth_tokens *out,
				      const char **reason, int *http_status);
enum oauth_result oauth_refresh(struct arena *a, const struct oauth_provider *p, const char *refresh_token,
				struct oauth_tokens *out, const char **reason, int *http_status);
/* Parses a token endpoint answer (JSON, or a form for old GitHub-style endpoints). */
enum oauth_result oauth_parse_token_response(struct arena *a, long status, const char *body, struct oauth_tokens *out,
					     const char **reason);

/* Fetches the profile with access_token and maps it to {id, username, email, name,
 * avatar_url, email_verified, raw} (a new object owned by the arena). The email is the
 * primary verified address from emails_url when the provider has one. */
enum oauth_result oauth_fetch_profile(struct arena *a, const struct oauth_provider *p, const char *access_token,
				      struct json_object **profile, const char **reason, int *http_status);
/* Maps a userinfo JSON object through the provider's field paths (no I/O). */
struct json_object *oauth_map_profile(struct arena *a, const struct oauth_provider *p, struct json_object *userinfo);
/* The value at a dotted path ("name.display_name", "images.0.url"), or NULL. */
struct json_object *oauth_json_path(struct json_object *obj, const char *path);

/* Revokes token at the provider. OAUTH_OK also when the provider has no revocation. */
enum oauth_result oauth_revoke_token(struct arena *a, const struct oauth_provider *p, const char *token,
				     const char **reason);

/* Splits a granted scope string (space or comma separated) into a JSON array. */
struct json_object *oauth_scope_list(const char *scope);

#endif
