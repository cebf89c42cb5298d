/* Unit tests of lib/auth/scope.c: the scope hierarchy, subsets, normalisation and the JSON
 * array checks used by the key and client field tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <string.h>

#include "auth/scope.h"
#include "core/arena.h"

static void test_null_grants_everything(void **state)
{
	(void)state;
	assert_true(scope_allows(NULL, "admin"));
	assert_true(scope_allows(NULL, "integrations:write"));
	assert_true(scope_allows("", NULL));
	assert_true(scope_allows("", ""));
	assert_false(scope_allows("", "read"));
}

static void test_hierarchy(void **state)
{
	(void)state;
	assert_true(scope_allows("admin", "integrations:write"));
	assert_true(scope_allows("admin", "offline_access"));
	assert_true(scope_allows("write", "read"));
	assert_true(scope_allows("write", "webhooks:write"));
	assert_true(scope_allows("write", "events:read"));
	assert_false(scope_allows("write", "admin"));
	assert_false(scope_allows("write", "offline_access"));
	assert_true(scope_allows("read", "integrations:read"));
	assert_false(scope_allows("read", "integrations:write"));
	assert_false(scope_allows("read", "write"));
	assert_true(scope_allows("integrations:write", "integrations:read"));
	assert_false(scope_allows("integrations:write", "webhooks:read"));
	assert_false(scope_allows("integrations:read", "integrations:write"));
	assert_false(scope_allows("integrations:read", "read"));
	assert_false(scope_allows("integrations:write", "write"));
	assert_true(scope_allows("offline_access", "offline_access"));
	assert_false(scope_allows("read", "offline_access"));
}

static void test_words_not_substrings(void **state)
{
	(void)state;
	/* "events:write" must not be found inside "webhooks:write"-like neighbours. */
	assert_false(scope_allows("webhooks:read", "hooks:read"));
	assert_false(scope_allows("readx", "read"));
	assert_false(scope_allows("integrations:readwrite", "integrations:read"));
	assert_true(scope_allows("  events:read   integrations:write ", "integrations:read"));
	assert_true(scope_allows("integrations:read events:write", "events:write"));
}

static void test_subset(void **state)
{
	(void)state;
	assert_true(scope_subset("read integrations:read", "read"));
	assert_true(scope_subset("read integrations:write", "write"));
	assert_false(scope_subset("read admin", "write"));
	assert_true(scope_subset("", "read"));
	assert_true(scope_subset("admin offline_access", NULL));
	assert_false(scope_subset("offline_access", "read write"));
	assert_true(scope_subset("read offline_access", "read offline_access"));
}

static void test_normalise(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *bad = NULL;
	assert_string_equal(scope_normalise(a, "  read  read integrations:read ", &bad), "read integrations:read");
	assert_string_equal(scope_normalise(a, "", &bad), "");
	assert_string_equal(scope_normalise(a, "   ", &bad), "");
	assert_null(scope_normalise(a, "read sudo", &bad));
	assert_string_equal(bad, "sudo");
	assert_null(scope_normalise(a, "Read", NULL));
	arena_free(a);
}

static void test_known(void **state)
{
	(void)state;
	for (size_t i = 0; scope_names[i]; i++)
		assert_true(scope_known(scope_names[i]));
	assert_false(scope_known(""));
	assert_false(scope_known("integrations"));
	assert_false(scope_known("integrations:delete"));
}

static void test_array_checks(void **state)
{
	(void)state;
	struct json_object *ok = json_tokener_parse("[\"read\",\"integrations:write\",\"offline_access\"]");
	struct json_object *dup = json_tokener_parse("[\"read\",\"read\"]");
	struct json_object *unknown = json_tokener_parse("[\"read\",\"root\"]");
	struct json_object *notstr = json_tokener_parse("[\"read\",1]");
	assert_null(check_scope_array(ok));
	assert_non_null(check_scope_array_key(ok)); /* offline_access is not for keys */
	assert_non_null(check_scope_array(dup));
	assert_non_null(check_scope_array(unknown));
	assert_non_null(check_scope_array(notstr));
	struct arena *a = arena_new();
	assert_string_equal(scope_join(a, ok), "read integrations:write offline_access");
	assert_string_equal(scope_join(a, NULL), "");
	arena_free(a);
	json_object_put(ok);
	json_object_put(dup);
	json_object_put(unknown);
	json_object_put(notstr);
}

static void test_has_and_without(void **state)
{
	(void)state;
	assert_true(scope_has("read offline_access", "offline_access"));
	assert_true(scope_has("offline_access", "offline_access"));
	assert_true(scope_has("a offline_access b", "offline_access"));
	assert_false(scope_has("read", "offline_access"));
	assert_false(scope_has("xoffline_access offline_accessx", "offline_access")); /* words, not substrings */
	assert_false(scope_has("write", "read"));				      /* members, not the hierarchy */
	assert_false(scope_has(NULL, "read"));
	assert_false(scope_has("read", ""));
	struct arena *a = arena_new();
	assert_string_equal(scope_without(a, "read offline_access write", "offline_access"), "read write");
	assert_string_equal(scope_without(a, "offline_access", "offline_access"), "");
	assert_string_equal(scope_without(a, "  read   write ", "offline_access"), "read write");
	assert_string_equal(scope_without(a, NULL, "read"), "");
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_grants_everything),
		cmocka_unit_test(test_hierarchy),
		cmocka_unit_test(test_words_not_substrings),
		cmocka_unit_test(test_subset),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_known),
		cmocka_unit_test(test_array_checks),
		cmocka_unit_test(test_has_and_without),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
