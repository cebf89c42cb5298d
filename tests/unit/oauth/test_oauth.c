/* Unit tests of the OAuth client pieces: the providers file (the shipped one and every
 * rule of the parser), PKCE S256 (RFC 7636 Appendix B), state shape and reasons, URL and
 * form encoding, token responses (JSON and form), profile mapping, URL overrides, git
 * blob ids and project paths, and the outbound client's guard and failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/urlenc.h"
#include "integrations/providers/github.h"
#include "net/outbound.h"
#include "oauth/oauth_client.h"
#include "oauth/oauth_state.h"

static int setup(void **state)
{
	*state = arena_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	arena_free(*state);
	oauth_providers_clear();
	return 0;
}

/* ---- providers file ---------------------------------------------------------------- */

static void test_shipped_providers_file(void **state)
{
	(void)state;
	setenv("SB_PROVIDERS_FILE", "config/providers.json", 1);
	assert_int_equal(oauth_providers_load(), 0);
	static const char *const names[] = {"github",  "google",  "gitlab",    "microsoft", "slack",
					    "discord", "dropbox", "bitbucket", "notion",    "spotify"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct oauth_provider *p = oauth_provider_find(names[i]);
		if (!p)
			fail_msg("provider %s missing", names[i]);
		assert_true(!strncmp(p->authorize_url, "https://", 8));
		assert_true(!strncmp(p->token_url, "https://", 8));
		assert_non_null(p->profile[PROFILE_ID]);
	}
	const struct oauth_provider *gh = oauth_provider_find("github");
	assert_string_equal(gh->scopes, "read:user user:email repo");
	assert_true(gh->pkce);
	assert_int_equal(gh->revoke, OAUTH_REVOKE_GITHUB);
	assert_string_equal(gh->client_id_env, "GITHUB_CLIENT_ID");
	assert_string_equal(gh->callback_env, "GITHUB_CALLBACK_URL");
	assert_int_equal(oauth_provider_find("notion")->token_auth, OAUTH_AUTH_BASIC);
	assert_true(oauth_provider_find("notion")->token_json);
	assert_false(gh->token_json);
	assert_string_equal(oauth_provider_find("dropbox")->userinfo_method, "POST");
	assert_null(oauth_provider_find("nope"));
	unsetenv("SB_PROVIDERS_FILE");
}

static const char minimal[] = "{\"providers\":[{\"name\":\"acme\",\"display_name\":\"Acme\","
			      "\"authorize_url\":\"https://a.example/auth\",\"token_url\":\"https://a.example/token\","
			      "\"userinfo_url\":\"https://a.example/me\",\"scopes\":[\"read\",\"write\"],"
			      "\"profile\":{\"id\":\"id\",\"email\":\"contact.email\"}}]}";

static void test_parse_defaults(void **state)
{
	(void)state;
	char err[256] = "";
	assert_int_equal(oauth_providers_parse(minimal, err, sizeof(err)), 0);
	const struct oauth_provider *p = oauth_provider_find("acme");
	assert_non_null(p);
	assert_string_equal(p->env_prefix, "ACME");
	assert_string_equal(p->client_id_env, "ACME_CLIENT_ID");
	assert_string_equal(p->client_secret_env, "ACME_CLIENT_SECRET");
	assert_string_equal(p->callback_env, "ACME_CALLBACK_URL");
	assert_string_equal(p->scopes, "read write");
	assert_true(p->pkce);
	assert_false(p->refresh);
	assert_int_equal(p->token_auth, OAUTH_AUTH_POST);
	assert_int_equal(p->revoke, OAUTH_REVOKE_NONE);
	assert_string_equal(p->userinfo_method, "GET");
	/* A later entry of the same name replaces the first. */
	assert_int_equal(
		oauth_providers_parse("{\"providers\":[{\"name\":\"acme\",\"display_name\":\"Acme 2\","
				      "\"authorize_url\":\"https://b/a\",\"token_url\":\"https://b/t\","
				      "\"userinfo_url\":\"https://b/u\",\"scopes\":[],\"profile\":{\"id\":\"sub\"}}]}",
				      err, sizeof(err)),
		0);
	assert_string_equal(oauth_provider_find("acme")->display_name, "Acme 2");
	assert_null(oauth_provider_at(1));
}

struct bad_case {
	const char *json, *want;
};

static void test_parse_errors(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{"[]", "\"providers\" array"},
		{"{\"providers\":{}}", "\"providers\" array"},
		{"{\"providers\":[1]}", "not an object"},
		{"{\"providers\":[{\"name\":\"Bad Name\"}]}", "name of 1-40"},
		{"{\"providers\":[{\"name\":\"x\",\"display_name\":\"X\"}]}", "authorize_url is required"},
		{"{\"providers\":[{\"name\":\"x\",\"display_name\":\"X\",\"authorize_url\":\"ftp://"
		 "a\",\"token_url\":\"https://t\","
		 "\"userinfo_url\":\"https://u\",\"scopes\":[],\"profile\":{\"id\":\"id\"}}]}",
		 "not an http(s) URL"},
		{"{\"providers\":[{\"name\":\"x\",\"display_name\":\"X\",\"authorize_url\":\"https://"
		 "a\",\"token_url\":\"https://t\","
		 "\"userinfo_url\":\"https://u\",\"scopes\":[\"a b\"],\"profile\":{\"id\":\"id\"}}]}",
		 "without spaces"},
		{"{\"providers\":[{\"name\":\"x\",\"display_name\":\"X\",\"authorize_url\":\"https://"
		 "a\",\"token_url\":\"https://t\","
		 "\"userinfo_url\":\"https://u\",\"scopes\":[],\"profile\":{}}]}",
		 "id is required"},
		{"{\"providers\":[{\"name\":\"x\",\"display_name\":\"X\",\"authorize_url\":\"https://"
		 "a\",\"token_url\":\"https://t\","
		 "\"userinfo_url\":\"https://u\",\"scopes\":[],\"profile\":{\"id\":\"id\",\"shoe_size\":\"s\"}}]}",
		 "unknown field shoe_size"},
		{"{\"providers\":[{\"name\":\"x\",\"display_name\":\"X\",\"authorize_url\":\"https://"
		 "a\",\"token_url\":\"https://t\","
		 "\"userinfo_url\":\"https://"
		 "u\",\"scopes\":[],\"profile\":{\"id\":\"id\"},\"token_endpoint_auth\":\"jwt\"}]}",
		 "token_endpoint_auth"},
		{"{\"providers\":[{\"name\":\"x\",\"display_name\":\"X\",\"authorize_url\":\"https://"
		 "a\",\"token_url\":\"https://t\","
		 "\"userinfo_url\":\"https://"
		 "u\",\"scopes\":[],\"profile\":{\"id\":\"id\"},\"revoke_style\":\"rfc7009\"}]}",
		 "needs a revoke_url"},
		{"{\"providers\":[{\"name\":\"x\",\"display_name\":\"X\",\"authorize_url\":\"https://"
		 "a\",\"token_url\":\"https://t\","
		 "\"userinfo_url\":\"https://u\",\"scopes\":[],\"profile\":{\"id\":\"id\"},\"pkce\":\"yes\"}]}",
		 "pkce must be true or false"},
		{"{\"providers\":[{\"name\":\"x\",\"display_name\":\"X\",\"authorize_url\":\"https://"
		 "a\",\"token_url\":\"https://t\","
		 "\"userinfo_url\":\"https://"
		 "u\",\"scopes\":[],\"profile\":{\"id\":\"id\"},\"headers\":{\"X\":\"a\\r\\nb\"}}]}",
		 "not a valid header"},
		{"{\"providers\":[{\"name\":\"x\",\"display_name\":\"X\",\"authorize_url\":\"https://"
		 "a\",\"token_url\":\"https://t\","
		 "\"userinfo_url\":\"https://"
		 "u\",\"scopes\":[],\"profile\":{\"id\":\"id\"},\"client_id_env\":\"lower\"}]}",
		 "environment variable names"},
		{"{\"providers\":[{\"name\":\"x\",\"display_name\":\"X\",\"authorize_url\":\"https://"
		 "a\",\"token_url\":\"https://t\","
		 "\"userinfo_url\":\"{api}/me\",\"scopes\":[],\"profile\":{\"id\":\"id\"}}]}",
		 "needs an api_url"},
		{"not json", "\"providers\" array"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		if (oauth_providers_parse(cases[i].json, err, sizeof(err)) != -1)
			fail_msg("case %zu parsed", i);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err, cases[i].want);
		oauth_providers_clear();
	}
}

static void test_url_overrides_and_availability(void **state)
{
	struct arena *a = *state;
	char err[256];
	assert_int_equal(oauth_providers_parse("{\"providers\":[{\"name\":\"gh\",\"display_name\":\"G\","
					       "\"authorize_url\":\"https://github.com/login/oauth/authorize\","
					       "\"token_url\":\"https://github.com/login/oauth/access_token\","
					       "\"api_url\":\"https://api.github.com\",\"userinfo_url\":\"{api}/user\","
					       "\"scopes\":[\"repo\"],\"profile\":{\"id\":\"id\"}}]}",
					       err, sizeof(err)),
			 0);
	const struct oauth_provider *p = oauth_provider_find("gh");
	assert_string_equal(oauth_url(a, p, "userinfo"), "https://api.github.com/user");
	assert_null(oauth_url(a, p, "revoke"));
	setenv("GH_API_URL", "http://127.0.0.1:9999/", 1);
	setenv("GH_AUTH_BASE_URL", "http://127.0.0.1:9998", 1);
	assert_string_equal(oauth_url(a, p, "userinfo"), "http://127.0.0.1:9999/user");
	assert_string_equal(oauth_url(a, p, "token"), "http://127.0.0.1:9998/login/oauth/access_token");
	setenv("GH_TOKEN_URL", "http://127.0.0.1:1/t", 1);
	assert_string_equal(oauth_url(a, p, "token"), "http://127.0.0.1:1/t");
	assert_false(oauth_provider_available(p));
	setenv("GH_CLIENT_ID", "cid", 1);
	assert_false(oauth_provider_available(p)); /* no callback yet */
	setenv("GH_CALLBACK_URL", "https://api.example/cb", 1);
	assert_true(oauth_provider_available(p));
	char *url = oauth_authorize_url(a, p, "STATE", "CHAL");
	assert_string_equal(url, "http://127.0.0.1:9998/login/oauth/authorize?response_type=code&client_id=cid&"
				 "redirect_uri=https%3A%2F%2Fapi.example%2Fcb&scope=repo&state=STATE&"
				 "code_challenge=CHAL&code_challenge_method=S256");
	unsetenv("GH_API_URL");
	unsetenv("GH_AUTH_BASE_URL");
	unsetenv("GH_TOKEN_URL");
	unsetenv("GH_CLIENT_ID");
	unsetenv("GH_CALLBACK_URL");
}

/* ---- PKCE and state ------------------------------------------------------------------ */

static void test_pkce_rfc7636_appendix_b(void **state)
{
	struct arena *a = *state;
	assert_string_equal(oauth_pkce_challenge(a, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
			    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	char *v1 = oauth_pkce_verifier(a), *v2 = oauth_pkce_verifier(a);
	assert_int_equal(strlen(v1), 43); /* RFC 7636: 43..128 unreserved characters */
	assert_string_not_equal(v1, v2);
	assert_true(oauth_state_well_formed(v1));
}

static void test_state_shape_and_reasons(void **state)
{
	(void)state;
	assert_true(oauth_state_well_formed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_6"));
	assert_false(oauth_state_well_formed(NULL));
	assert_false(oauth_state_well_formed(""));
	assert_false(oauth_state_well_formed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_"));   /* 42 */
	assert_false(oauth_state_well_formed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_67")); /* 44 */
	assert_false(oauth_state_well_formed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-+6"));
	assert_false(oauth_state_well_formed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123'_6"));
	assert_string_equal(oauth_state_reason(OAUTH_STATE_EXPIRED), "state_expired");
	assert_string_equal(oauth_state_reason(OAUTH_STATE_REUSED), "state_reused");
	assert_string_equal(oauth_state_reason(OAUTH_STATE_MISMATCH), "state_mismatch");
	assert_string_equal(oauth_state_reason(OAUTH_STATE_UNKNOWN), "state_unknown");
	assert_string_equal(oauth_state_reason(OAUTH_STATE_MISSING), "state_missing");
	assert_string_equal(oauth_state_reason(OAUTH_STATE_CHECK__MAX), "state_invalid");
	for (int c = 0; c < OAUTH_STATE_CHECK__MAX; c++)
		assert_non_null(oauth_state_message((enum oauth_state_check)c));
	unsetenv("SB_OAUTH_STATE_TTL_SECONDS");
	assert_int_equal(oauth_state_ttl(), 600);
	setenv("SB_OAUTH_STATE_TTL_SECONDS", "5", 1);
	assert_int_equal(oauth_state_ttl(), 5);
	unsetenv("SB_OAUTH_STATE_TTL_SECONDS");
}

/* ---- encoding ------------------------------------------------------------------------- */

static void test_url_encode_and_form(void **state)
{
	struct arena *a = *state;
	assert_string_equal(url_encode(a, "AZaz09-._~"), "AZaz09-._~");
	assert_string_equal(url_encode(a, "a b+c&d=e/f?"), "a%20b%2Bc%26d%3De%2Ff%3F");
	assert_string_equal(url_encode(a, "é"), "%C3%A9");
	assert_string_equal(url_encode(a, ""), "");
	struct form f;
	form_init(&f, a);
	assert_string_equal(url_with_query(a, "https://x/y", &f), "https://x/y");
	form_add(&f, "grant_type", "authorization_code");
	form_add(&f, "skipped", NULL);
	form_add(&f, "redirect uri", "https://a/b?c=d");
	assert_string_equal(f.text, "grant_type=authorization_code&redirect%20uri=https%3A%2F%2Fa%2Fb%3Fc%3Dd");
	assert_string_equal(url_with_query(a, "https://x/y", &f), arena_printf(a, "https://x/y?%s", f.text));
	assert_string_equal(url_with_query(a, "https://x/y?z=1", &f), arena_printf(a, "https://x/y?z=1&%s", f.text));
	assert_string_equal(url_with_query(a, "https://x/y?", &f), arena_printf(a, "https://x/y?%s", f.text));
	const char *body = "access_token=gho_abc&scope=repo%2Cuser&token_type=bearer&empty=&plus=a+b";
	assert_string_equal(form_get(a, body, "access_token"), "gho_abc");
	assert_string_equal(form_get(a, body, "scope"), "repo,user");
	assert_string_equal(form_get(a, body, "empty"), "");
	assert_string_equal(form_get(a, body, "plus"), "a b");
	assert_null(form_get(a, body, "access"));
	assert_null(form_get(a, "bad=%zz", "bad"));
	assert_null(form_get(a, "", "x"));
}

/* ---- token responses and profiles ------------------------------------------------------- */

static void test_token_responses(void **state)
{
	struct arena *a = *state;
	struct oauth_tokens t;
	const char *reason = NULL;
	assert_int_equal(
		oauth_parse_token_response(a, 200,
					   "{\"access_token\":\"at\",\"refresh_token\":\"rt\",\"expires_in\":3599,"
					   "\"token_type\":\"Bearer\",\"scope\":\"openid email\"}",
					   &t, &reason),
		OAUTH_OK);
	assert_string_equal(t.access_token, "at");
	assert_string_equal(t.refresh_token, "rt");
	assert_int_equal(t.expires_in, 3599);
	assert_string_equal(t.scope, "openid email");
	/* GitHub's default form answer, and its errors as 200 + error. */
	assert_int_equal(oauth_parse_token_response(a, 200, "access_token=gho_x&scope=repo%2Cgist&token_type=bearer",
						    &t, &reason),
			 OAUTH_OK);
	assert_string_equal(t.access_token, "gho_x");
	assert_null(t.refresh_token);
	assert_int_equal(t.expires_in, 0);
	assert_int_equal(
		oauth_parse_token_response(a, 200,
					   "{\"error\":\"bad_verification_code\",\"error_description\":\"The code "
					   "passed is incorrect or expired.\"}",
					   &t, &reason),
		OAUTH_REFUSED);
	assert_string_equal(reason, "bad_verification_code: The code passed is incorrect or expired.");
	assert_int_equal(oauth_parse_token_response(a, 400, "{\"error\":\"invalid_grant\"}", &t, &reason),
			 OAUTH_REFUSED);
	assert_string_equal(reason, "invalid_grant");
	assert_int_equal(oauth_parse_token_response(a, 401, "", &t, &reason), OAUTH_REFUSED);
	assert_int_equal(oauth_parse_token_response(a, 200, "{\"token_type\":\"bearer\"}", &t, &reason),
			 OAUTH_UNAVAILABLE);
	assert_int_equal(oauth_parse_token_response(a, 200, "<html>", &t, &reason), OAUTH_UNAVAILABLE);
	/* expires_in as a string (some providers), an empty refresh token ignored. */
	assert_int_equal(
		oauth_parse_token_response(
			a, 200, "{\"access_token\":\"a\",\"expires_in\":\"60\",\"refresh_token\":\"\"}", &t, &reason),
		OAUTH_OK);
	assert_int_equal(t.expires_in, 60);
	assert_null(t.refresh_token);
}

static void test_profile_mapping(void **state)
{
	struct arena *a = *state;
	char err[256];
	assert_int_equal(
		oauth_providers_parse(
			"{\"providers\":[{\"name\":\"sp\",\"display_name\":\"S\","
			"\"authorize_url\":\"https://a\",\"token_url\":\"https://t\",\"userinfo_url\":\"https://u\","
			"\"scopes\":[],\"profile\":{\"id\":\"id\",\"username\":\"login\",\"email\":\"mail.primary\","
			"\"name\":\"name.display_name\",\"avatar_url\":\"images.1.url\",\"email_verified\":\"ok\"}}]}",
			err, sizeof(err)),
		0);
	struct json_object *info = arena_defer(
		a, jsonx_put,
		json_tokener_parse(
			"{\"id\":12345,\"login\":\"\",\"mail\":{\"primary\":\"x@y.z\"},\"name\":{\"display_name\":"
			"\"X Y\"},\"images\":[{\"url\":\"a\"},{\"url\":\"b\"}],\"ok\":true}"));
	struct json_object *m = oauth_map_profile(a, oauth_provider_find("sp"), info);
	assert_string_equal(jsonx_get_string(m, "id"), "12345");
	assert_null(jsonx_get_string(m, "username")); /* empty string -> null */
	assert_string_equal(jsonx_get_string(m, "email"), "x@y.z");
	assert_string_equal(jsonx_get_string(m, "name"), "X Y");
	assert_string_equal(jsonx_get_string(m, "avatar_url"), "b");
	assert_true(jsonx_get_bool(m, "email_verified", 0));
	assert_null(oauth_json_path(info, "images.2.url"));
	assert_null(oauth_json_path(info, "images.x"));
	assert_null(oauth_json_path(info, "id.deeper"));
	assert_null(oauth_json_path(info, NULL));
	struct json_object *scopes = oauth_scope_list(" repo,read:user  gist,");
	assert_int_equal(json_object_array_length(scopes), 3);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(scopes, 1)), "read:user");
	json_object_put(scopes);
	scopes = oauth_scope_list(NULL);
	assert_int_equal(json_object_array_length(scopes), 0);
	json_object_put(scopes);
}

/* ---- GitHub pieces ---------------------------------------------------------------------- */

static void test_git_blob_sha_and_paths(void **state)
{
	struct arena *a = *state;
	char sha[41];
	github_blob_sha("", 0, sha);
	assert_string_equal(sha, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"); /* git hash-object /dev/null */
	github_blob_sha("hello world\n", 12, sha);
	assert_string_equal(sha, "3b18e512dba79e4c8300dd08aeb37f8e728b8dad");
	assert_string_equal(github_project_path(a, "Weather station"), "nexflux/Weather station.json");
	assert_string_equal(github_project_path(a, "../../etc/passwd"), "nexflux/___.._etc_passwd.json");
	assert_string_equal(github_project_path(a, "a/b\\c\nd"), "nexflux/a_b_c_d.json");
}

/* ---- outbound ------------------------------------------------------------------------------ */

static void test_outbound_guard_and_failures(void **state)
{
	struct arena *a = *state;
	struct outbound_response r;
	unsetenv("SWITCHBOARD_ALLOW_PRIVATE_TARGETS");
	struct outbound_request rq = {.url = "http://127.0.0.1:9/", .user_supplied = true, .timeout_ms = 2000};
	assert_int_equal(outbound_do(a, &rq, &r), -1);
	assert_int_equal(r.error, OUTBOUND_BLOCKED);
	assert_int_equal(outbound_http_status(&r), 502);
	/* Operator URLs are trusted: the same address is tried, and refused by the kernel. */
	rq.user_supplied = false;
	assert_int_equal(outbound_do(a, &rq, &r), -1);
	assert_int_equal(r.error, OUTBOUND_CONNECT);
	assert_int_equal(r.attempts, 1); /* not idempotent: no retry */
	setenv("SB_OUTBOUND_RETRIES", "1", 1);
	rq.idempotent = true;
	assert_int_equal(outbound_do(a, &rq, &r), -1);
	assert_int_equal(r.attempts, 2);
	unsetenv("SB_OUTBOUND_RETRIES");
	rq.url = "file:///etc/passwd";
	assert_int_equal(outbound_do(a, &rq, &r), -1);
	assert_int_equal(r.error, OUTBOUND_FAILED);
	assert_null(outbound_json(a, &r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shipped_providers_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_url_overrides_and_availability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pkce_rfc7636_appendix_b, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_shape_and_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_url_encode_and_form, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_responses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git_blob_sha_and_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbound_guard_and_failures, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
