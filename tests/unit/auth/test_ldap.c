/* Unit tests of lib/auth/ldap_filter.c (RFC 4515 escaping, filter templates) and
 * lib/auth/ldap_settings.c (the SB_LDAP_* settings, group scopes, the loopback rule). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/ldap_filter.h"
#include "auth/ldap_settings.h"
#include "core/arena.h"

static void test_escape_specials(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	assert_string_equal(ldap_filter_escape(a, "*)(", 3), "\\2a\\29\\28");
	assert_string_equal(ldap_filter_escape(a, "\\", 1), "\\5c");
	assert_string_equal(ldap_filter_escape(a, "a\0b", 3), "a\\00b");
	assert_string_equal(ldap_filter_escape(a, "*)(uid=*", 8), "\\2a\\29\\28uid=\\2a");
	assert_string_equal(ldap_filter_escape(a, "\\2a", 3), "\\5c2a");
	/* UTF-8 and the other printable characters stay as they are. */
	assert_string_equal(ldap_filter_escape(a, "J\xc3\xbcrgen.o'neil-x@y=z", 20), "J\xc3\xbcrgen.o'neil-x@y=z");
	assert_string_equal(ldap_filter_escape(a, "", 0), "");
	arena_free(a);
}

static void test_build(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	assert_string_equal(ldap_filter_build(a, "(uid=%s)", "ann", 3), "(uid=ann)");
	assert_string_equal(ldap_filter_build(a, "(uid=%s)", "*)(uid=*", 8), "(uid=\\2a\\29\\28uid=\\2a)");
	assert_string_equal(ldap_filter_build(a, "(|(uid=%s)(mail=%s))", "a*", 2), "(|(uid=a\\2a)(mail=a\\2a))");
	assert_string_equal(ldap_filter_build(a, "(&(objectClass=user)(sAMAccountName=%s))", "x\0", 2),
			    "(&(objectClass=user)(sAMAccountName=x\\00))");
	assert_null(ldap_filter_build(a, "(uid=ann)", "x", 1));
	assert_null(ldap_filter_build(a, "uid=%s", "x", 1));
	assert_null(ldap_filter_build(a, NULL, "x", 1));
	arena_free(a);
}

static void test_loopback(void **state)
{
	(void)state;
	assert_true(ldap_url_is_loopback("ldap://127.0.0.1:389"));
	assert_true(ldap_url_is_loopback("ldap://127.1.2.3/"));
	assert_true(ldap_url_is_loopback("ldap://localhost"));
	assert_true(ldap_url_is_loopback("ldap://[::1]:389"));
	assert_false(ldap_url_is_loopback("ldap://127.0.0.1.example.com"));
	assert_false(ldap_url_is_loopback("ldap://localhost.example.com"));
	assert_false(ldap_url_is_loopback("ldap://10.0.0.1"));
	assert_false(ldap_url_is_loopback("ldap://127.0.0.1 ldap://10.0.0.1"));
	assert_false(ldap_url_is_loopback("http://127.0.0.1"));
}

static void clear(void)
{
	static const char *names[] = {"SB_LDAP_URL", "SB_LDAP_BASE_DN", "SB_LDAP_USER_FILTER", "SB_LDAP_STARTTLS",
				      "SB_LDAP_ALLOW_PLAIN", "SB_LDAP_GROUP_SCOPES", "SB_LDAP_BIND_DN",
				      "SB_LDAP_BIND_PASSWORD_FILE", "SB_LDAP_GROUP_FILTER"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unsetenv(names[i]);
}

static int load(struct arena *a, struct ldap_settings *s)
{
	const char *why;
	return ldap_settings_load(a, s, &why);
}

static void test_settings(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct ldap_settings s;
	clear();
	assert_int_equal(load(a, &s), 0);
	/* The minimal configuration. */
	setenv("SB_LDAP_URL", "ldaps://dir.example.com", 1);
	assert_int_equal(load(a, &s), -1); /* no base DN */
	setenv("SB_LDAP_BASE_DN", "dc=example,dc=com", 1);
	assert_int_equal(load(a, &s), 1);
	assert_string_equal(s.user_filter, "(uid=%s)");
	assert_string_equal(s.group_base_dn, "dc=example,dc=com");
	assert_null(s.group_scopes);
	assert_null(s.bind_dn);
	/* Plain LDAP only with StartTLS, or explicitly on loopback. */
	setenv("SB_LDAP_URL", "ldap://dir.example.com", 1);
	assert_int_equal(load(a, &s), -1);
	setenv("SB_LDAP_STARTTLS", "1", 1);
	assert_int_equal(load(a, &s), 1);
	unsetenv("SB_LDAP_STARTTLS");
	setenv("SB_LDAP_ALLOW_PLAIN", "1", 1);
	assert_int_equal(load(a, &s), -1);
	setenv("SB_LDAP_URL", "ldap://127.0.0.1:3890", 1);
	assert_int_equal(load(a, &s), 1);
	setenv("SB_LDAP_URL", "ldaps://127.0.0.1:6360", 1);
	assert_int_equal(load(a, &s), -1);
	unsetenv("SB_LDAP_ALLOW_PLAIN");
	setenv("SB_LDAP_USER_FILTER", "(uid=ann)", 1);
	assert_int_equal(load(a, &s), -1);
	unsetenv("SB_LDAP_USER_FILTER");
	setenv("SB_LDAP_BIND_DN", "cn=svc,dc=example,dc=com", 1);
	assert_int_equal(load(a, &s), -1); /* no password file */
	unsetenv("SB_LDAP_BIND_DN");
	clear();
	arena_free(a);
}

static void test_group_scopes(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct ldap_settings s;
	clear();
	setenv("SB_LDAP_URL", "ldaps://dir.example.com", 1);
	setenv("SB_LDAP_BASE_DN", "dc=example,dc=com", 1);
	setenv("SB_LDAP_GROUP_SCOPES", "{\"cn=Ops,dc=example,dc=com\": \"write\", \"cn=ro,dc=example,dc=com\": \"read\"}",
	       1);
	assert_int_equal(load(a, &s), 1);
	const char *groups[] = {"CN=ops,DC=example,DC=com", "cn=other,dc=example,dc=com", "cn=ro,dc=example,dc=com"};
	assert_string_equal(ldap_settings_scopes(a, &s, groups, 3), "write read");
	assert_string_equal(ldap_settings_scopes(a, &s, groups + 1, 1), "");
	assert_string_equal(ldap_settings_scopes(a, &s, groups, 0), "");
	setenv("SB_LDAP_GROUP_SCOPES", "{\"cn=ops,dc=example,dc=com\": \"sudo\"}", 1);
	assert_int_equal(load(a, &s), -1);
	setenv("SB_LDAP_GROUP_SCOPES", "[\"read\"]", 1);
	assert_int_equal(load(a, &s), -1);
	setenv("SB_LDAP_GROUP_SCOPES", "{}", 1);
	assert_int_equal(load(a, &s), -1);
	unsetenv("SB_LDAP_GROUP_SCOPES");
	assert_int_equal(load(a, &s), 1);
	assert_null(ldap_settings_scopes(a, &s, groups, 3));
	clear();
	arena_free(a);
}

static void test_bind_password_file(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct ldap_settings s;
	char path[] = "/tmp/sb-ldap-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("s3cret pw\n", f);
	fclose(f);
	clear();
	setenv("SB_LDAP_URL", "ldaps://dir.example.com", 1);
	setenv("SB_LDAP_BASE_DN", "dc=example,dc=com", 1);
	setenv("SB_LDAP_BIND_DN", "cn=svc,dc=example,dc=com", 1);
	setenv("SB_LDAP_BIND_PASSWORD_FILE", path, 1);
	assert_int_equal(load(a, &s), 1);
	assert_string_equal(s.bind_password, "s3cret pw");
	unlink(path);
	assert_int_equal(load(a, &s), -1);
	clear();
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_specials), cmocka_unit_test(test_build),
		cmocka_unit_test(test_loopback),	cmocka_unit_test(test_settings),
		cmocka_unit_test(test_group_scopes),	cmocka_unit_test(test_bind_password_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
