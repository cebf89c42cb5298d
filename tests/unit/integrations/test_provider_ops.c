/* Unit tests of the provider ops table as the only dispatch: actions found by name in
 * the provider's table, an OAuth2 providers-file entry given the generic ops with a
 * built-in specialisation laid over them (GitHub's view, settings, sync action), and
 * provider results that carry outcome kinds, never HTTP statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "integrations/integration_ops.h"
#include "integrations/providers/provider.h"
#include "integrations/providers/provider_result.h"
#include "oauth/oauth_client.h"

extern const struct provider provider_github;

static const char *const file =
	"{\"providers\":[{\"name\":\"github\",\"display_name\":\"GitHub\",\"authorize_url\":\"https://a.example/x\","
	"\"token_url\":\"https://a.example/t\",\"userinfo_url\":\"https://a.example/u\",\"scopes\":[\"repo\"],"
	"\"profile\":{\"id\":\"id\"}},{\"name\":\"acme\",\"display_name\":\"Acme\",\"authorize_url\":"
	"\"https://acme.example/a\",\"token_url\":\"https://acme.example/t\",\"userinfo_url\":\"https://acme.example/"
	"u\",\"scopes\":[\"read\"],\"profile\":{\"id\":\"sub\"}}]}";

static void test_actions_by_name(void **state)
{
	(void)state;
	const struct provider *mqtt = provider_find("mqtt"), *blynk = provider_find("blynk");
	assert_non_null(mqtt);
	assert_non_null(blynk);
	const struct provider_action *t = provider_action_find(mqtt, "test");
	assert_non_null(t);
	assert_false(t->body_required); /* an empty body tests the saved config */
	assert_null(provider_action_find(mqtt, "virtual-pin"));
	assert_non_null(provider_action_find(blynk, "virtual-pin"));
	assert_true(provider_action_find(blynk, "virtual-pin")->body_required);
	assert_null(provider_action_find(blynk, "test"));
	assert_null(provider_action_find(mqtt, NULL));
	/* Arduino Cloud is found by its URL segment too, and brings its own GET/PUT/refresh. */
	const struct provider *ard = provider_find("arduino-cloud");
	assert_non_null(ard);
	assert_ptr_equal(ard, provider_find("arduino_cloud"));
	assert_non_null(ard->get);
	assert_non_null(ard->put);
	assert_non_null(ard->refresh);
}

static void test_oauth_fill_with_and_without_special(void **state)
{
	(void)state;
	char err[256];
	oauth_providers_clear();
	assert_int_equal(oauth_providers_parse(file, err, sizeof(err)), 0);
	struct provider gh, acme;
	provider_oauth_fill(&gh, oauth_provider_find("github"), &provider_github);
	provider_oauth_fill(&acme, oauth_provider_find("acme"), NULL);
	/* Both get the generic OAuth2 ops... */
	assert_int_equal(gh.auth, PROVIDER_AUTH_OAUTH2);
	assert_non_null(gh.del);
	assert_ptr_equal(gh.del, acme.del);
	assert_ptr_equal(gh.refresh, acme.refresh);
	assert_ptr_equal(gh.health, acme.health);
	/* ... and only GitHub what its file adds. */
	assert_ptr_equal(gh.view, provider_github.view);
	assert_ptr_not_equal(acme.view, provider_github.view);
	assert_non_null(provider_action_find(&gh, "sync"));
	assert_null(provider_action_find(&acme, "sync"));
	assert_non_null(gh.settings);
	assert_null(acme.settings);
	assert_string_equal(acme.description, "Connect your account through OAuth2");
	oauth_providers_clear();
}

static void test_results_are_kinds(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct provider_result r;
	assert_int_equal(provider_upstream(&r, 504, "slow"), PROVIDER_UPSTREAM_TIMEOUT);
	assert_string_equal(r.code, "provider_timeout");
	assert_int_equal(provider_upstream(&r, 502, "down"), PROVIDER_UPSTREAM);
	assert_string_equal(r.code, "provider_unavailable");
	struct oauth_token_use u = {.reason = "invalid_grant"};
	assert_int_equal(provider_token_failure(a, &r, OAUTH_TOKEN_EXPIRED, &u), PROVIDER_CONFLICT);
	assert_string_equal(r.code, "integration_expired");
	assert_non_null(strstr(r.message, "invalid_grant"));
	assert_int_equal(provider_token_failure(a, &r, OAUTH_TOKEN_NOT_CONNECTED, &u), PROVIDER_NOT_FOUND);
	u.db = DB_UNAVAILABLE;
	assert_int_equal(provider_token_failure(a, &r, OAUTH_TOKEN_DB, &u), PROVIDER_DB);
	assert_int_equal(r.db, DB_UNAVAILABLE);
	assert_int_equal(provider_invalid_field(&r, "pin", "is required"), PROVIDER_INVALID);
	struct json_object *m;
	assert_true(json_object_object_get_ex(r.data, "pin", &m));
	json_object_put(r.data);
	/* A PUT of an OAuth provider is not an operation it has: the methods that are. */
	struct provider gh;
	char err[256];
	assert_int_equal(oauth_providers_parse(file, err, sizeof(err)), 0);
	provider_oauth_fill(&gh, oauth_provider_find("github"), &provider_github);
	struct provider_call c = {a, NULL, "3f6c2a1e-8b7d-4c55-9a0e-2d4b1f7e9c10", NULL};
	assert_int_equal(integration_put(&gh, &c, &r), PROVIDER_NOT_ALLOWED);
	assert_string_equal(r.allow, "GET, PATCH, DELETE");
	oauth_providers_clear();
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_actions_by_name),
		cmocka_unit_test(test_oauth_fill_with_and_without_special),
		cmocka_unit_test(test_results_are_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
