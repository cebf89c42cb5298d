/* Unit tests of lib/integrations/providers/blynk.c through its ops table: the server URL rules,
 * device validation (with and without the saved row), and the per-device sealed tokens
 * (kept on a PUT without a token, bound to user and device). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/validate.h"
#include "integrations/integration.h"
#include "integrations/providers/blynk.h"
#include "integrations/providers/provider.h"

#define USER  "3f6c2a1e-8b7d-4c55-9a0e-2d4b1f7e9c10"
#define OTHER "9a0e2d4b-1f7e-4c55-8b7d-3f6c2a1e9c10"
#define TOKEN "0123456789abcdef0123456789ABCDEF"

static const struct provider *blynk(void)
{
	const struct provider *p = provider_find("blynk");
	assert_non_null(p);
	return p;
}

static field_check server_check(void)
{
	for (const struct field *f = blynk()->config_fields; f->name; f++)
		if (!strcmp(f->name, "server_url"))
			return f->check;
	fail();
	return NULL;
}

static const char *url_msg(const char *url)
{
	struct json_object *v = json_object_new_string(url);
	const char *m = server_check()(v);
	json_object_put(v);
	return m;
}

static void test_server_url_rules(void **state)
{
	(void)state;
	unsetenv("SB_BLYNK_ALLOW_HTTP");
	assert_null(url_msg("https://blynk.cloud"));
	assert_null(url_msg("https://fra1.blynk.cloud/"));
	assert_null(url_msg("HTTPS://blynk.cloud:8443"));
	assert_null(url_msg("https://[2001:db8::1]:443"));
	assert_non_null(url_msg("http://blynk.cloud"));
	assert_non_null(url_msg("ftp://blynk.cloud"));
	assert_non_null(url_msg("https://"));
	assert_non_null(url_msg("https://:443"));
	assert_non_null(url_msg("https://u:p@blynk.cloud"));
	assert_non_null(url_msg("https://blynk.cloud/external/api"));
	assert_non_null(url_msg("https://blynk.cloud?x=1"));
	assert_non_null(url_msg("https://blynk.cloud#x"));
	assert_non_null(url_msg("https://blynk.cloud:0"));
	assert_non_null(url_msg("https://blynk.cloud:65536"));
	assert_non_null(url_msg("https://blynk.cloud:12a"));
	assert_non_null(url_msg("https://blynk.cloud:"));
	assert_non_null(url_msg("https://bl ynk.cloud"));
	assert_non_null(url_msg("https://[::1"));
	setenv("SB_BLYNK_ALLOW_HTTP", "1", 1);
	assert_null(url_msg("http://127.0.0.1:8080"));
	unsetenv("SB_BLYNK_ALLOW_HTTP");
}

static struct json_object *errors_of(const char *body_json, const struct integration *prev, bool saved)
{
	struct json_object *body = json_tokener_parse(body_json), *errors = NULL;
	assert_non_null(body);
	validate_object(body, blynk()->config_fields, &errors);
	if (!errors)
		errors = json_object_new_object();
	blynk()->validate(body, errors);
	if (saved && json_object_object_length(errors) == 0)
		blynk()->validate_saved(body, prev, errors);
	json_object_put(body);
	return errors;
}

static bool has(struct json_object *errors, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(errors, key, &v);
}

static void test_device_validation(void **state)
{
	(void)state;
	struct json_object *e =
		errors_of("{\"devices\": [{\"name\": \"a\", \"auth_token\": \"" TOKEN "\"}]}", NULL, true);
	assert_int_equal(json_object_object_length(e), 0);
	json_object_put(e);

	e = errors_of("{\"devices\": [{\"name\": \"a\", \"auth_token\": \"" TOKEN
		      "\"}, {\"name\": \"a\", \"auth_token\": "
		      "\"short\"}, 5, {\"name\": \"\"}, {\"auth_token\": \"" TOKEN "\"}]}",
		      NULL, false);
	assert_true(has(e, "devices[1].name"));
	assert_true(has(e, "devices[1].auth_token"));
	assert_true(has(e, "devices[2]"));
	assert_true(has(e, "devices[3].name"));
	assert_true(has(e, "devices[4].name"));
	assert_false(has(e, "devices[0].name"));
	json_object_put(e);

	e = errors_of("{\"devices\": []}", NULL, false);
	assert_true(has(e, "devices"));
	json_object_put(e);

	/* A device without a token needs a stored one. */
	e = errors_of("{\"devices\": [{\"name\": \"a\"}]}", NULL, true);
	assert_true(has(e, "devices[0].auth_token"));
	json_object_put(e);
}

static void test_tokens_sealed_per_device(void **state)
{
	(void)state;
	unsigned char key[CRYPTO_KEY_LEN];
	memset(key, 7, sizeof(key));
	crypto_keys_clear();
	assert_int_equal(crypto_key_add(1, key, true), 0);
	struct arena *a = arena_new();

	struct json_object *body =
		json_tokener_parse("{\"devices\": [{\"name\": \"Lamp\", \"auth_token\": \"" TOKEN "\"}]}");
	struct json_object *config;
	assert_int_equal(blynk()->config_build(a, USER, body, NULL, &config), 0);
	json_object_put(body);
	assert_null(strstr(json_object_to_json_string(config), TOKEN));
	struct json_object *sealed;
	assert_true(json_object_object_get_ex(config, "devices/Lamp/auth_token_encrypted", &sealed));

	struct integration row = {.user_id = USER, .provider = "blynk", .enabled = true, .config = config};
	assert_string_equal(blynk_server_url(&row), "https://blynk.cloud");
	char *tok = NULL;
	assert_int_equal(blynk_device_token(a, &row, "Lamp", &tok), 1);
	assert_string_equal(tok, TOKEN);
	assert_int_equal(blynk_device_token(a, &row, "Fan", &tok), 0);

	/* A PUT naming the device without its token keeps the sealed text as it is. */
	body = json_tokener_parse("{\"server_url\": \"https://x.example/\", \"devices\": [{\"name\": \"Lamp\"}]}");
	struct json_object *errors = json_object_new_object();
	blynk()->validate_saved(body, &row, errors);
	assert_int_equal(json_object_object_length(errors), 0);
	json_object_put(errors);
	struct json_object *config2;
	assert_int_equal(blynk()->config_build(a, USER, body, &row, &config2), 0);
	json_object_put(body);
	struct json_object *sealed2;
	assert_true(json_object_object_get_ex(config2, "devices/Lamp/auth_token_encrypted", &sealed2));
	assert_string_equal(json_object_get_string(sealed), json_object_get_string(sealed2));
	struct integration row2 = {.user_id = USER, .provider = "blynk", .enabled = true, .config = config2};
	assert_string_equal(blynk_server_url(&row2), "https://x.example");

	/* Another user, or another device name, cannot open it. */
	struct integration other = {.user_id = OTHER, .provider = "blynk", .enabled = true, .config = config};
	assert_int_equal(blynk_device_token(a, &other, "Lamp", &tok), -1);
	struct json_object *moved = json_tokener_parse("{\"devices\": [{\"name\": \"Fan\"}]}");
	json_object_object_add(moved, "devices/Fan/auth_token_encrypted", json_object_get(sealed));
	struct integration renamed = {.user_id = USER, .provider = "blynk", .enabled = true, .config = moved};
	assert_int_equal(blynk_device_token(a, &renamed, "Fan", &tok), -1);
	json_object_put(moved);

	/* The view says has_token and never shows it. */
	struct json_object *v = blynk()->view(a, &row);
	assert_null(strstr(json_object_to_json_string(v), TOKEN));
	assert_null(strstr(json_object_to_json_string(v), "sb1."));
	json_object_put(v);
	arena_free(a);
	crypto_keys_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_url_rules),
		cmocka_unit_test(test_device_validation),
		cmocka_unit_test(test_tokens_sealed_per_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
