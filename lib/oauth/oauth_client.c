/* OAuth2 client side: the providers file and the protocol calls; see oauth.h. */
#include "oauth/oauth_client.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/urlenc.h"
#include "net/outbound.h"

#define MAX_PROVIDERS  64
#define MAX_FILE_BYTES (1 << 20)

const char *const oauth_profile_names[OAUTH_PROFILE_FIELDS] = {"id",   "username",   "email",
							       "name", "avatar_url", "email_verified"};

static struct oauth_provider *providers[MAX_PROVIDERS];
static unsigned nproviders;

/* ---- the providers file ---------------------------------------------------------- */

static void provider_free(struct oauth_provider *p)
{
	if (!p)
		return;
	char **strings[] = {&p->name,	       &p->display_name,      &p->env_prefix,  &p->authorize_url,
			    &p->token_url,     &p->userinfo_url,      &p->emails_url,  &p->revoke_url,
			    &p->api_url,       &p->userinfo_method,   &p->scopes,      &p->scope_separator,
			    &p->client_id_env, &p->client_secret_env, &p->callback_env};
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		free(*strings[i]);
	for (int i = 0; i < OAUTH_PROFILE_FIELDS; i++)
		free(p->profile[i]);
	for (int i = 0; p->headers[i]; i++)
		free(p->headers[i]);
	for (int i = 0; p->authorize_params[i]; i++)
		free(p->authorize_params[i]);
	free(p);
}

void oauth_providers_clear(void)
{
	for (unsigned i = 0; i < nproviders; i++)
		provider_free(providers[i]);
	nproviders = 0;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 40)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

static bool valid_url(const char *s)
{
	return !strncmp(s, "https://", 8) || !strncmp(s, "http://", 7) || !strncmp(s, "{api}", 5);
}

static bool valid_env_name(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Where a parse error goes: the provider being read and the caller's buffer. */
struct perr {
	const char *prov;
	char *buf;
	size_t len;
};

__attribute__((format(printf, 2, 3))) static int perr_set(const struct perr *e, const char *fmt, ...)
{
	int n = snprintf(e->buf, e->len, "provider %s: ", e->prov);
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < e->len)
		vsnprintf(e->buf + n, e->len - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* A string member: required or optional; *out is a malloc'ed copy (NULL when absent). */
static int get_str(struct json_object *o, const char *key, bool required, char **out, const struct perr *e)
{
	struct json_object *v;
	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return required ? perr_set(e, "%s is required", key) : 0;
	if (!json_object_is_type(v, json_type_string))
		return perr_set(e, "%s must be a string", key);
	*out = strdup(json_object_get_string(v));
	return *out ? 0 : -1;
}

static int get_bool(struct json_object *o, const char *key, bool def, bool *out, const struct perr *e)
{
	struct json_object *v;
	*out = def;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return perr_set(e, "%s must be true or false", key);
	*out = json_object_get_boolean(v);
	return 0;
}

static char *upper_copy(const char *s)
{
	char *u = strdup(s);
	for (char *p = u; p && *p; p++)
		*p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	return u;
}

static char *default_env(const char *prefix, const char *suffix)
{
	size_t n = strlen(prefix) + strlen(suffix) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s_%s", prefix, suffix);
	return s;
}

/* The plain members of an entry, declared as data: name, where it goes, and whether it
 * is required (strings) or its default (booleans). */
#define MEMBER(f) offsetof(struct oauth_provider, f)
static const struct {
	const char *key;
	size_t off;
	bool required;
} string_members[] = {
	{"name", MEMBER(name), true},
	{"display_name", MEMBER(display_name), true},
	{"env_prefix", MEMBER(env_prefix), false},
	{"authorize_url", MEMBER(authorize_url), true},
	{"token_url", MEMBER(token_url), true},
	{"userinfo_url", MEMBER(userinfo_url), true},
	{"emails_url", MEMBER(emails_url), false},
	{"revoke_url", MEMBER(revoke_url), false},
	{"api_url", MEMBER(api_url), false},
	{"userinfo_method", MEMBER(userinfo_method), false},
	{"scope_separator", MEMBER(scope_separator), false},
	{"client_id_env", MEMBER(client_id_env), false},
	{"client_secret_env", MEMBER(client_secret_env), false},
	{"callback_url_env", MEMBER(callback_env), false},
};
static const struct {
	const char *key;
	size_t off;
	bool def;
} bool_members[] = {
	{"pkce", MEMBER(pkce), true},
	{"refresh_tokens", MEMBER(refresh), false},
	{"sign_in", MEMBER(sign_in), false},
	{"token_request_json", MEMBER(token_json), false},
};

/* A member naming one of a closed set of words; absent: def. */
struct keyword {
	const char *word;
	int value;
};
static const struct keyword token_auths[] = {
	{"client_secret_post", OAUTH_AUTH_POST},
	{"client_secret_basic", OAUTH_AUTH_BASIC},
	{NULL, 0},
};
static const struct keyword revoke_styles[] = {
	{"rfc7009", OAUTH_REVOKE_RFC7009},
	{"github", OAUTH_REVOKE_GITHUB},
	{"bearer", OAUTH_REVOKE_BEARER},
	{"json", OAUTH_REVOKE_JSON},
	{"none", OAUTH_REVOKE_NONE},
	{NULL, 0},
};

static int get_keyword(struct json_object *o, const char *key, const struct keyword *words, int def, int *out,
		       const char *choices, const struct perr *e)
{
	char *tmp;
	if (get_str(o, key, false, &tmp, e))
		return -1;
	*out = def;
	int rc = 0;
	if (tmp) {
		rc = -1;
		for (const struct keyword *k = words; k->word; k++)
			if (!strcmp(tmp, k->word)) {
				*out = k->value;
				rc = 0;
			}
		if (rc)
			perr_set(e, "%s must be %s", key, choices);
	}
	free(tmp);
	return rc;
}

static int parse_members(struct json_object *o, struct oauth_provider *p, const struct perr *e)
{
	for (size_t i = 0; i < sizeof(string_members) / sizeof(string_members[0]); i++)
		if (get_str(o, string_members[i].key, string_members[i].required,
			    (char **)((char *)p + string_members[i].off), e))
			return -1;
	for (size_t i = 0; i < sizeof(bool_members) / sizeof(bool_members[0]); i++)
		if (get_bool(o, bool_members[i].key, bool_members[i].def, (bool *)((char *)p + bool_members[i].off), e))
			return -1;
	int auth, revoke;
	if (get_keyword(o, "token_endpoint_auth", token_auths, OAUTH_AUTH_POST, &auth,
			"client_secret_post or client_secret_basic", e) ||
	    get_keyword(o, "revoke_style", revoke_styles, p->revoke_url ? OAUTH_REVOKE_RFC7009 : OAUTH_REVOKE_NONE,
			&revoke, "rfc7009, json, github, bearer or none", e))
		return -1;
	p->token_auth = (enum oauth_token_auth)auth;
	p->revoke = (enum oauth_revoke)revoke;
	return 0;
}

/* Defaults that derive from other members, then the rules across members. */
static int complete(struct oauth_provider *p, const struct perr *e)
{
	if (!p->env_prefix)
		p->env_prefix = upper_copy(p->name);
	if (!valid_env_name(p->env_prefix))
		return perr_set(e, "env_prefix must be [A-Z0-9_]");
	if (!p->client_id_env)
		p->client_id_env = default_env(p->env_prefix, "CLIENT_ID");
	if (!p->client_secret_env)
		p->client_secret_env = default_env(p->env_prefix, "CLIENT_SECRET");
	if (!p->callback_env)
		p->callback_env = default_env(p->env_prefix, "CALLBACK_URL");
	if (!valid_env_name(p->client_id_env) || !valid_env_name(p->client_secret_env) ||
	    !valid_env_name(p->callback_env))
		return perr_set(e, "environment variable names must be [A-Z0-9_]");
	if (!p->userinfo_method)
		p->userinfo_method = strdup("GET");
	if (strcmp(p->userinfo_method, "GET") && strcmp(p->userinfo_method, "POST"))
		return perr_set(e, "userinfo_method must be GET or POST");
	if (!p->scope_separator)
		p->scope_separator = strdup(" ");
	const char *urls[] = {p->authorize_url, p->token_url,  p->userinfo_url,
			      p->emails_url,	p->revoke_url, p->api_url};
	for (size_t i = 0; i < 6; i++) {
		if (urls[i] && !valid_url(urls[i]))
			return perr_set(e, "%s is not an http(s) URL", urls[i]);
		if (urls[i] && !strncmp(urls[i], "{api}", 5) && (!p->api_url || !strncmp(p->api_url, "{api}", 5)))
			return perr_set(e, "%s needs an api_url", urls[i]);
	}
	if (p->revoke != OAUTH_REVOKE_NONE && !p->revoke_url)
		return perr_set(e, "revoke_style needs a revoke_url");
	return 0;
}

/* scopes: non-empty words joined with the separator. */
static int parse_scopes(struct json_object *o, struct oauth_provider *p, const struct perr *e)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, "scopes", &v) || !json_object_is_type(v, json_type_array))
		return perr_set(e, "scopes must be an array of strings");
	size_t cap = 1;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *s = json_object_array_get_idx(v, i);
		if (!json_object_is_type(s, json_type_string) || !*json_object_get_string(s) ||
		    strpbrk(json_object_get_string(s), " ,"))
			return perr_set(e, "scopes must be non-empty strings without spaces or commas");
		cap += strlen(json_object_get_string(s)) + strlen(p->scope_separator);
	}
	p->scopes = calloc(1, cap);
	for (size_t i = 0; p->scopes && i < json_object_array_length(v); i++) {
		if (i)
			strcat(p->scopes, p->scope_separator);
		strcat(p->scopes, json_object_get_string(json_object_array_get_idx(v, i)));
	}
	return 0;
}

/* profile: a path for each known field (id required), nothing else. */
static int parse_profile(struct json_object *o, struct oauth_provider *p, const struct perr *e)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, "profile", &v) || !json_object_is_type(v, json_type_object))
		return perr_set(e, "profile must map id, username, email, name, avatar_url to fields");
	for (int i = 0; i < OAUTH_PROFILE_FIELDS; i++)
		if (get_str(v, oauth_profile_names[i], i == PROFILE_ID, &p->profile[i], e))
			return -1;
	json_object_object_foreach(v, pk, pv)
	{
		(void)pv;
		bool known = false;
		for (int i = 0; i < OAUTH_PROFILE_FIELDS; i++)
			known |= !strcmp(pk, oauth_profile_names[i]);
		if (!known)
			return perr_set(e, "profile has an unknown field %s", pk);
	}
	return 0;
}

/* headers (extra API call headers) and authorize_params, both optional string maps. */
static int parse_maps(struct json_object *o, struct oauth_provider *p, const struct perr *e)
{
	struct json_object *v;
	if (json_object_object_get_ex(o, "headers", &v)) {
		int n = 0;
		if (!json_object_is_type(v, json_type_object) || json_object_object_length(v) > OAUTH_MAX_HEADERS)
			return perr_set(e, "headers must be an object of at most %d strings", OAUTH_MAX_HEADERS);
		json_object_object_foreach(v, hk, hv)
		{
			if (!json_object_is_type(hv, json_type_string) || strpbrk(hk, ":\r\n") ||
			    strpbrk(json_object_get_string(hv), "\r\n"))
				return perr_set(e, "header %s is not a valid header", hk);
			size_t len = strlen(hk) + strlen(json_object_get_string(hv)) + 3;
			p->headers[n] = malloc(len);
			snprintf(p->headers[n++], len, "%s: %s", hk, json_object_get_string(hv));
		}
	}
	if (json_object_object_get_ex(o, "authorize_params", &v)) {
		int n = 0;
		if (!json_object_is_type(v, json_type_object) || json_object_object_length(v) > OAUTH_MAX_PARAMS)
			return perr_set(e, "authorize_params must be an object of at most %d strings",
					OAUTH_MAX_PARAMS);
		json_object_object_foreach(v, ak, av)
		{
			if (!json_object_is_type(av, json_type_string))
				return perr_set(e, "authorize_params.%s must be a string", ak);
			p->authorize_params[n++] = strdup(ak);
			p->authorize_params[n++] = strdup(json_object_get_string(av));
		}
	}
	return 0;
}

static int parse_one(struct json_object *o, struct oauth_provider **out, char *err, size_t errlen)
{
	const char *name = jsonx_get_string(o, "name");
	if (!name || !valid_name(name)) {
		snprintf(err, errlen, "a provider needs a name of 1-40 characters [a-z0-9_-]");
		return -1;
	}
	struct oauth_provider *p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	const struct perr e = {name, err, errlen};
	if (parse_members(o, p, &e) || complete(p, &e) || parse_scopes(o, p, &e) || parse_profile(o, p, &e) ||
	    parse_maps(o, p, &e)) {
		provider_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

int oauth_providers_parse(const char *text, char *err, size_t errlen)
{
	struct json_object *root = json_tokener_parse(text);
	struct json_object *list;
	int rc = -1;
	if (!root || !json_object_object_get_ex(root, "providers", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		snprintf(err, errlen, "the providers file must be a JSON object with a \"providers\" array");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *e = json_object_array_get_idx(list, i);
		struct oauth_provider *p;
		if (!json_object_is_type(e, json_type_object)) {
			snprintf(err, errlen, "providers[%zu] is not an object", i);
			goto out;
		}
		if (parse_one(e, &p, err, errlen))
			goto out;
		unsigned k = 0;
		while (k < nproviders && strcmp(providers[k]->name, p->name))
			k++;
		if (k < nproviders) {
			provider_free(providers[k]);
			providers[k] = p;
		} else if (nproviders < MAX_PROVIDERS) {
			providers[nproviders++] = p;
		} else {
			provider_free(p);
			snprintf(err, errlen, "more than %d providers", MAX_PROVIDERS);
			goto out;
		}
	}
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(MAX_FILE_BYTES + 1);
	size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
	fclose(f);
	if (!buf || n > MAX_FILE_BYTES) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

int oauth_providers_load(void)
{
	oauth_providers_clear();
	const char *list = config_str("SB_PROVIDERS_FILE", "config/providers.json");
	char *copy = strdup(list), *save = NULL;
	int rc = 0;
	for (char *path = strtok_r(copy, ":", &save); path && !rc; path = strtok_r(NULL, ":", &save)) {
		char *text = read_file(path), err[256];
		if (!text) {
			fprintf(stderr, "providers file %s: %s\n", path, strerror(errno));
			rc = -1;
		} else if (oauth_providers_parse(text, err, sizeof(err))) {
			fprintf(stderr, "providers file %s: %s\n", path, err);
			rc = -1;
		}
		free(text);
	}
	free(copy);
	return rc;
}

const struct oauth_provider *oauth_provider_find(const char *name)
{
	for (unsigned i = 0; name && i < nproviders; i++)
		if (!strcmp(providers[i]->name, name))
			return providers[i];
	return NULL;
}

const struct oauth_provider *oauth_provider_at(unsigned i)
{
	return i < nproviders ? providers[i] : NULL;
}

/* ---- configuration --------------------------------------------------------------- */

static const char *env_of(struct arena *a, const struct oauth_provider *p, const char *suffix)
{
	return config_str(arena_printf(a, "%s_%s", p->env_prefix, suffix), NULL);
}

/* A leading {api} becomes the API base (<PREFIX>_API_URL, else api_url), without a
 * doubled '/'. */
static const char *expand(struct arena *a, const struct oauth_provider *p, const char *tmpl)
{
	if (strncmp(tmpl, "{api}", 5))
		return tmpl;
	const char *base = env_of(a, p, "API_URL");
	if (!base)
		base = p->api_url ? p->api_url : "";
	size_t n = strlen(base);
	return arena_printf(a, "%.*s%s", (int)(n && base[n - 1] == '/' ? n - 1 : n), base, tmpl + 5);
}

/* Resolution order: <PREFIX>_<KIND>_URL; for the authorize and token URLs,
 * <PREFIX>_AUTH_BASE_URL in place of the scheme and host (GitHub's both live on
 * github.com); then the file's URL with {api} expanded. */
const char *oauth_url(struct arena *a, const struct oauth_provider *p, const char *kind)
{
	struct {
		const char *kind, *env;
		const char *tmpl;
	} map[] = {{"authorize", "AUTHORIZE_URL", p->authorize_url}, {"token", "TOKEN_URL", p->token_url},
		   {"userinfo", "USERINFO_URL", p->userinfo_url},    {"emails", "EMAILS_URL", p->emails_url},
		   {"revoke", "REVOKE_URL", p->revoke_url},	     {"api", "API_URL", p->api_url}};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(map[i].kind, kind))
			continue;
		const char *over = env_of(a, p, map[i].env);
		if (over)
			return over;
		if (!map[i].tmpl)
			return NULL;
		const char *auth_base = env_of(a, p, "AUTH_BASE_URL");
		if (auth_base && (!strcmp(kind, "authorize") || !strcmp(kind, "token")) && strstr(map[i].tmpl, "://")) {
			const char *path = strchr(strstr(map[i].tmpl, "://") + 3, '/');
			return arena_printf(a, "%s%s", auth_base, path ? path : "");
		}
		return expand(a, p, map[i].tmpl);
	}
	return NULL;
}

const char *oauth_client_id(const struct oauth_provider *p)
{
	return config_str(p->client_id_env, NULL);
}

const char *oauth_client_secret(const struct oauth_provider *p)
{
	return config_str(p->client_secret_env, NULL);
}

const char *oauth_callback_url(const struct oauth_provider *p)
{
	return config_str(p->callback_env, NULL);
}

bool oauth_provider_available(const struct oauth_provider *p)
{
	return oauth_client_id(p) && oauth_callback_url(p);
}

/* ---- PKCE and the authorization URL ---------------------------------------------- */

char *oauth_pkce_verifier(struct arena *a)
{
	return crypto_token(a, 32);
}

char *oauth_pkce_challenge(struct arena *a, const char *verifier)
{
	unsigned char d[32];
	crypto_sha256(verifier, strlen(verifier), d);
	return base64url_encode(a, d, sizeof(d));
}

char *oauth_authorize_url(struct arena *a, const struct oauth_provider *p, const char *state, const char *challenge)
{
	return oauth_authorize_url_to(a, p, state, challenge, oauth_callback_url(p), p->scopes);
}

char *oauth_authorize_url_to(struct arena *a, const struct oauth_provider *p, const char *state, const char *challenge,
			     const char *redirect_uri, const char *scopes)
{
	struct form f;
	form_init(&f, a);
	form_add(&f, "response_type", "code");
	form_add(&f, "client_id", oauth_client_id(p));
	form_add(&f, "redirect_uri", redirect_uri);
	if (scopes && *scopes)
		form_add(&f, "scope", scopes);
	form_add(&f, "state", state);
	if (p->pkce && challenge) {
		form_add(&f, "code_challenge", challenge);
		form_add(&f, "code_challenge_method", "S256");
	}
	for (int i = 0; p->authorize_params[i]; i += 2)
		form_add(&f, p->authorize_params[i], p->authorize_params[i + 1]);
	const char *base = oauth_url(a, p, "authorize");
	return base ? url_with_query(a, base, &f) : NULL;
}

/* ---- token endpoint ---------------------------------------------------------------- */

enum oauth_result oauth_parse_token_response(struct arena *a, long status, const char *body, struct oauth_tokens *out,
					     const char **reason)
{
	memset(out, 0, sizeof(*out));
	struct json_object *o = body ? json_tokener_parse(body) : NULL;
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	arena_defer(a, jsonx_put, o);
	const char *error, *desc;
	if (o) {
		error = jsonx_get_string(o, "error");
		desc = jsonx_get_string(o, "error_description");
		out->access_token = jsonx_get_string(o, "access_token");
		out->refresh_token = jsonx_get_string(o, "refresh_token");
		out->token_type = jsonx_get_string(o, "token_type");
		out->scope = jsonx_get_string(o, "scope");
		struct json_object *e;
		if (json_object_object_get_ex(o, "expires_in", &e))
			out->expires_in = json_object_is_type(e, json_type_string) ? atol(json_object_get_string(e))
										   : (long)json_object_get_int64(e);
	} else {
		/* application/x-www-form-urlencoded (GitHub's default). */
		error = body ? form_get(a, body, "error") : NULL;
		desc = body ? form_get(a, body, "error_description") : NULL;
		out->access_token = body ? form_get(a, body, "access_token") : NULL;
		out->refresh_token = body ? form_get(a, body, "refresh_token") : NULL;
		out->token_type = body ? form_get(a, body, "token_type") : NULL;
		out->scope = body ? form_get(a, body, "scope") : NULL;
		const char *e = body ? form_get(a, body, "expires_in") : NULL;
		out->expires_in = e ? atol(e) : 0;
	}
	if (out->expires_in < 0)
		out->expires_in = 0;
	if (error) {
		*reason = desc ? arena_printf(a, "%s: %s", error, desc) : error;
		return OAUTH_REFUSED;
	}
	if (status >= 400 && status < 500) {
		*reason = arena_printf(a, "the token endpoint answered %ld", status);
		return OAUTH_REFUSED;
	}
	if (status != 200 || !out->access_token || !*out->access_token) {
		*reason = arena_printf(a, "the token endpoint answered %ld without an access token", status);
		return OAUTH_UNAVAILABLE;
	}
	if (out->refresh_token && !*out->refresh_token)
		out->refresh_token = NULL;
	return OAUTH_OK;
}

static enum oauth_result token_call(struct arena *a, const struct oauth_provider *p, struct form *f,
				    struct oauth_tokens *out, const char **reason, int *http_status)
{
	const char *url = oauth_url(a, p, "token");
	static const char *const headers[] = {"Accept: application/json",
					      "Content-Type: application/x-www-form-urlencoded", NULL};
	struct outbound_request rq = {.method = "POST", .url = url, .headers = headers};
	if (p->token_auth == OAUTH_AUTH_BASIC) {
		rq.basic_user = oauth_client_id(p);
		rq.basic_password = oauth_client_secret(p);
	} else {
		form_add(f, "client_id", oauth_client_id(p));
		form_add(f, "client_secret", oauth_client_secret(p));
	}
	rq.body = f->text;
	if (p->token_json) {
		/* The same parameters as a JSON object of strings. */
		static const char *const jh[] = {"Accept: application/json", "Content-Type: application/json", NULL};
		struct json_object *o = arena_defer(a, jsonx_put, json_object_new_object());
		char *copy = arena_strdup(a, f->text), *save = NULL;
		for (char *kv = strtok_r(copy, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(kv, '=');
			if (!eq)
				continue;
			*eq = '\0';
			json_object_object_add(o, url_decode(a, kv, strlen(kv), false),
					       json_object_new_string(url_decode(a, eq + 1, strlen(eq + 1), false)));
		}
		rq.headers = jh;
		rq.body = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	}
	rq.body_len = strlen(rq.body);
	struct outbound_response r;
	*http_status = 502;
	if (!url) {
		*reason = "the provider has no token URL";
		return OAUTH_UNAVAILABLE;
	}
	if (outbound_do(a, &rq, &r)) {
		*reason = arena_printf(a, "token endpoint: %s", r.message);
		*http_status = outbound_http_status(&r);
		return OAUTH_UNAVAILABLE;
	}
	if (r.status >= 500) {
		*reason = arena_printf(a, "the token endpoint answered %ld", r.status);
		return OAUTH_UNAVAILABLE;
	}
	return oauth_parse_token_response(a, r.status, r.body, out, reason);
}

enum oauth_result oauth_exchange_code(struct arena *a, const struct oauth_provider *p, const char *code,
				      const char *verifier, const char *redirect_uri, struct oauth_tokens *out,
				      const char **reason, int *http_status)
{
	struct form f;
	form_init(&f, a);
	form_add(&f, "grant_type", "authorization_code");
	form_add(&f, "code", code);
	form_add(&f, "redirect_uri", redirect_uri ? redirect_uri : oauth_callback_url(p));
	if (p->pkce)
		form_add(&f, "code_verifier", verifier);
	return token_call(a, p, &f, out, reason, http_status);
}

enum oauth_result oauth_refresh(struct arena *a, const struct oauth_provider *p, const char *refresh_token,
				struct oauth_tokens *out, const char **reason, int *http_status)
{
	struct form f;
	form_init(&f, a);
	form_add(&f, "grant_type", "refresh_token");
	form_add(&f, "refresh_token", refresh_token);
	return token_call(a, p, &f, out, reason, http_status);
}

/* ---- profile ------------------------------------------------------------------------ */

struct json_object *oauth_json_path(struct json_object *obj, const char *path)
{
	char buf[256];
	if (!obj || !path || strlen(path) >= sizeof(buf))
		return NULL;
	strcpy(buf, path);
	struct json_object *cur = obj;
	char *save = NULL;
	for (char *seg = strtok_r(buf, ".", &save); seg && cur; seg = strtok_r(NULL, ".", &save)) {
		struct json_object *next = NULL;
		if (json_object_is_type(cur, json_type_array)) {
			char *end;
			long idx = strtol(seg, &end, 10);
			if (*end || idx < 0 || (size_t)idx >= json_object_array_length(cur))
				return NULL;
			next = json_object_array_get_idx(cur, (size_t)idx);
		} else if (!json_object_is_type(cur, json_type_object) || !json_object_object_get_ex(cur, seg, &next)) {
			return NULL;
		}
		cur = next;
	}
	return cur && !json_object_is_type(cur, json_type_null) ? cur : NULL;
}

struct json_object *oauth_map_profile(struct arena *a, const struct oauth_provider *p, struct json_object *userinfo)
{
	struct json_object *out = arena_defer(a, jsonx_put, json_object_new_object());
	for (int i = 0; i < OAUTH_PROFILE_FIELDS; i++) {
		struct json_object *v = oauth_json_path(userinfo, p->profile[i]);
		if (i == PROFILE_EMAIL_VERIFIED) {
			bool ok = v && ((json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v)) ||
					(json_object_is_type(v, json_type_string) &&
					 !strcmp(json_object_get_string(v), "true")));
			json_object_object_add(out, oauth_profile_names[i], json_object_new_boolean(ok));
		} else if (v && (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int))) {
			const char *s = json_object_get_string(v);
			json_object_object_add(out, oauth_profile_names[i], *s ? json_object_new_string(s) : NULL);
		} else {
			json_object_object_add(out, oauth_profile_names[i], NULL);
		}
	}
	return out;
}

static const char *const *api_headers(struct arena *a, const struct oauth_provider *p, const char *extra)
{
	const char **h = arena_alloc(a, sizeof(char *) * (OAUTH_MAX_HEADERS + 3));
	int n = 0;
	for (int i = 0; p->headers[i]; i++)
		h[n++] = p->headers[i];
	if (extra)
		h[n++] = extra;
	h[n] = NULL;
	return h;
}

/* The primary verified address of a GitHub-style [{email, primary, verified}] list. */
static void pick_email(struct json_object *list, struct json_object *profile)
{
	if (!list || !json_object_is_type(list, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *e = json_object_array_get_idx(list, i);
		if (jsonx_get_bool(e, "primary", 0) && jsonx_get_string(e, "email")) {
			json_object_object_add(profile, "email", json_object_new_string(jsonx_get_string(e, "email")));
			json_object_object_add(profile, "email_verified",
					       json_object_new_boolean(jsonx_get_bool(e, "verified", 0)));
			return;
		}
	}
}

enum oauth_result oauth_fetch_profile(struct arena *a, const struct oauth_provider *p, const char *access_token,
				      struct json_object **profile, const char **reason, int *http_status)
{
	bool post = !strcmp(p->userinfo_method, "POST");
	/* An RPC-style POST (Dropbox) takes a JSON null body, not an empty form. */
	struct outbound_request rq = {.method = p->userinfo_method,
				      .url = oauth_url(a, p, "userinfo"),
				      .headers = api_headers(a, p, post ? "Content-Type: application/json" : NULL),
				      .bearer = access_token,
				      .body = post ? "null" : NULL,
				      .body_len = post ? 4 : 0,
				      .idempotent = !post};
	struct outbound_response r;
	*http_status = 502;
	if (outbound_do(a, &rq, &r)) {
		*reason = arena_printf(a, "profile: %s", r.message);
		*http_status = outbound_http_status(&r);
		return OAUTH_UNAVAILABLE;
	}
	struct json_object *info = outbound_json(a, &r);
	if (r.status == 401 || r.status == 403) {
		*reason = arena_printf(a, "the profile endpoint refused the token (%ld)", r.status);
		return OAUTH_REFUSED;
	}
	if (r.status != 200 || !info || !json_object_is_type(info, json_type_object)) {
		*reason = arena_printf(a, "the profile endpoint answered %ld", r.status);
		return OAUTH_UNAVAILABLE;
	}
	struct json_object *out = oauth_map_profile(a, p, info);
	if (!jsonx_get_string(out, "id")) {
		*reason = "the profile has no account id";
		return OAUTH_UNAVAILABLE;
	}
	const char *emails = oauth_url(a, p, "emails");
	if (emails) {
		struct outbound_request er = {
			.url = emails, .headers = api_headers(a, p, NULL), .bearer = access_token, .idempotent = true};
		/* Missing permission for the list is not fatal: the profile's own email stays, unverified. */
		json_object_object_add(out, "email_verified", json_object_new_boolean(0));
		if (!outbound_do(a, &er, &r) && r.status == 200)
			pick_email(outbound_json(a, &r), out);
	}
	*profile = out;
	return OAUTH_OK;
}

/* ---- revocation --------------------------------------------------------------------- */

enum oauth_result oauth_revoke_token(struct arena *a, const struct oauth_provider *p, const char *token,
				     const char **reason)
{
	if (p->revoke == OAUTH_REVOKE_NONE || !token)
		return OAUTH_OK;
	const char *url = oauth_url(a, p, "revoke");
	const char *id = oauth_client_id(p);
	if (!url) {
		*reason = "the provider has no revoke URL";
		return OAUTH_UNAVAILABLE;
	}
	/* {client_id} in the URL (GitHub's /applications/{client_id}/grant). */
	const char *ph = strstr(url, "{client_id}");
	if (ph)
		url = arena_printf(a, "%.*s%s%s", (int)(ph - url), url, url_encode(a, id ? id : ""), ph + 11);
	struct outbound_request rq = {.method = "POST", .url = url};
	struct form f;
	form_init(&f, a);
	switch (p->revoke) {
	case OAUTH_REVOKE_GITHUB: {
		static const char *const h[] = {"Accept: application/vnd.github+json", "Content-Type: application/json",
						NULL};
		struct json_object *b = arena_defer(a, jsonx_put, json_object_new_object());
		json_object_object_add(b, "access_token", json_object_new_string(token));
		rq.method = "DELETE";
		rq.headers = h;
		rq.basic_user = id;
		rq.basic_password = oauth_client_secret(p);
		rq.body = json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN);
		rq.body_len = strlen(rq.body);
		break;
	}
	case OAUTH_REVOKE_BEARER:
		rq.bearer = token;
		rq.headers = api_headers(a, p, NULL);
		break;
	case OAUTH_REVOKE_JSON: {
		static const char *const h[] = {"Accept: application/json", "Content-Type: application/json", NULL};
		struct json_object *b = arena_defer(a, jsonx_put, json_object_new_object());
		json_object_object_add(b, "token", json_object_new_string(token));
		rq.headers = h;
		rq.basic_user = id;
		rq.basic_password = oauth_client_secret(p);
		rq.body = json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN);
		rq.body_len = strlen(rq.body);
		break;
	}
	default: {
		static const char *const h[] = {"Accept: application/json",
						"Content-Type: application/x-www-form-urlencoded", NULL};
		form_add(&f, "token", token);
		if (p->token_auth == OAUTH_AUTH_BASIC) {
			rq.basic_user = id;
			rq.basic_password = oauth_client_secret(p);
		} else {
			form_add(&f, "client_id", id);
			form_add(&f, "client_secret", oauth_client_secret(p));
		}
		rq.headers = h;
		rq.body = f.text;
		rq.body_len = strlen(f.text);
	}
	}
	struct outbound_response r;
	if (outbound_do(a, &rq, &r)) {
		*reason = arena_printf(a, "revocation: %s", r.message);
		return OAUTH_UNAVAILABLE;
	}
	/* A token the provider no longer knows is as good as revoked. */
	if ((r.status >= 200 && r.status < 300) || r.status == 404 ||
	    (r.status == 400 && strstr(r.body, "invalid_token")))
		return OAUTH_OK;
	*reason = arena_printf(a, "the revocation endpoint answered %ld", r.status);
	return r.status >= 500 ? OAUTH_UNAVAILABLE : OAUTH_REFUSED;
}

struct json_object *oauth_scope_list(const char *scope)
{
	struct json_object *list = json_object_new_array();
	if (!scope)
		return list;
	const char *s = scope;
	while (*s) {
		while (*s == ' ' || *s == ',')
			s++;
		size_t n = strcspn(s, " ,");
		if (n) {
			json_object_array_add(list, json_object_new_string_len(s, (int)n));
			s += n;
		}
	}
	return list;
}
