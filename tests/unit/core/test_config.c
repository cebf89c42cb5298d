/* Unit tests of lib/core/config.c: loading a .env file named by SB_ENV_FILE (comments, export,
 * quotes, the environment winning, malformed lines) and config_str/int/bool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

static char path[64];

/* Writes text to a fresh temporary file and points SB_ENV_FILE at it. */
static void env_file(const char *text)
{
	strcpy(path, "/tmp/sb-test-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	setenv("SB_ENV_FILE", path, 1);
}

static int teardown(void **state)
{
	(void)state;
	if (path[0])
		unlink(path);
	path[0] = '\0';
	unsetenv("SB_ENV_FILE");
	return 0;
}

static void expect_env(const char *name, const char *want)
{
	const char *v = getenv(name);
	if (!v)
		fail_msg("%s is not set", name);
	if (strcmp(v, want))
		fail_msg("%s=\"%s\", want \"%s\"", name, v, want);
}

static void test_no_file_is_fine(void **state)
{
	(void)state;
	unsetenv("SB_ENV_FILE");
	assert_int_equal(config_load(), 0);
	setenv("SB_ENV_FILE", "", 1);
	assert_int_equal(config_load(), 0);
}

static void test_load_file(void **state)
{
	(void)state;
	setenv("SBT_ENV", "from-env", 1);
	unsetenv("SBT_PLAIN");
	env_file("# a comment\n"
		 "   # an indented comment\n"
		 "\n"
		 "   \t\n"
		 "SBT_PLAIN=value\n"
		 "export SBT_EXPORTED=exp\n"
		 "  export   SBT_EXPORTED2 = exp2\n"
		 "SBT_DQ=\" double quoted \"\n"
		 "SBT_SQ='single # not a comment'\n"
		 "SBT_SPACES =  spaced value  \n"
		 "SBT_EMPTY=\n"
		 "SBT_EQ=a=b=c\n"
		 "SBT_MISMATCH=\"abc'\n"
		 "SBT_ONEQUOTE=\"\n"
		 "SBT_CRLF=windows\r\n"
		 "SBT_ENV=from-file\n"
		 "SBT_LAST=no-newline");
	assert_int_equal(config_load(), 0);
	expect_env("SBT_PLAIN", "value");
	expect_env("SBT_EXPORTED", "exp");
	expect_env("SBT_EXPORTED2", "exp2");
	expect_env("SBT_DQ", " double quoted ");
	expect_env("SBT_SQ", "single # not a comment");
	expect_env("SBT_SPACES", "spaced value");
	expect_env("SBT_EMPTY", "");
	expect_env("SBT_EQ", "a=b=c");
	expect_env("SBT_MISMATCH", "\"abc'");
	expect_env("SBT_ONEQUOTE", "\"");
	expect_env("SBT_CRLF", "windows");
	expect_env("SBT_ENV", "from-env"); /* the environment wins over the file */
	expect_env("SBT_LAST", "no-newline");
	assert_null(getenv("export SBT_EXPORTED"));
	assert_null(getenv("SBT_SPACES "));
}

static void test_malformed_line(void **state)
{
	(void)state;
	unsetenv("SBT_BEFORE");
	unsetenv("SBT_AFTER");
	env_file("SBT_BEFORE=1\nTHIS LINE HAS NO EQUALS\nSBT_AFTER=2\n");
	assert_int_equal(config_load(), -1);
	/* The good lines are still read; the caller refuses to start anyway. */
	expect_env("SBT_BEFORE", "1");
	expect_env("SBT_AFTER", "2");
	teardown(NULL);

	env_file("=no-key\n");
	assert_int_equal(config_load(), -1);
	teardown(NULL);

	env_file("export\n");
	assert_int_equal(config_load(), -1);
}

static void test_unreadable_file(void **state)
{
	(void)state;
	setenv("SB_ENV_FILE", "/nonexistent/dir/switchboard.env", 1);
	assert_int_equal(config_load(), -1);
}

static void test_config_str(void **state)
{
	(void)state;
	unsetenv("SBT_STR");
	assert_string_equal(config_str("SBT_STR", "def"), "def");
	assert_null(config_str("SBT_STR", NULL));
	setenv("SBT_STR", "", 1);
	assert_string_equal(config_str("SBT_STR", "def"), "def");
	setenv("SBT_STR", "x y", 1);
	assert_string_equal(config_str("SBT_STR", "def"), "x y");
}

static void test_config_int(void **state)
{
	(void)state;
	static const struct {
		const char *value; /* NULL: unset */
		long want;
	} cases[] = {
		{NULL, 7},
		{"", 7},
		{"42", 42},
		{"0", 0},
		{"1000", 1000},
		{"1001", 1000},
		{"-1", 0},
		{"-99", 0},
		{"abc", 7},
		{"12abc", 7},
		{"1.5", 7},
		{"0x10", 7},
		{"99999999999999999999", 7},
		{"-99999999999999999999", 7},
		{"500 ", 7},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].value)
			setenv("SBT_INT", cases[i].value, 1);
		else
			unsetenv("SBT_INT");
		long got = config_int("SBT_INT", 7, 0, 1000);
		if (got != cases[i].want)
			fail_msg("SBT_INT=\"%s\": got %ld, want %ld", cases[i].value ? cases[i].value : "(unset)", got,
				 cases[i].want);
	}
	/* The default itself is not clamped: callers pass one inside the range. */
	unsetenv("SBT_INT");
	assert_int_equal(config_int("SBT_INT", 4, 1, 64), 4);
}

static void test_config_bool(void **state)
{
	(void)state;
	unsetenv("SBT_BOOL");
	assert_true(config_bool("SBT_BOOL", true));
	assert_false(config_bool("SBT_BOOL", false));
	setenv("SBT_BOOL", "", 1);
	assert_true(config_bool("SBT_BOOL", true));
	assert_false(config_bool("SBT_BOOL", false));

	static const char *const yes[] = {"1", "true", "TRUE", "True", "yes", "YES", "on", "On"};
	static const char *const no[] = {"0", "false", "FALSE", "no", "off", "2", "yes!", "t"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		setenv("SBT_BOOL", yes[i], 1);
		if (!config_bool("SBT_BOOL", false))
			fail_msg("\"%s\" is not true", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		setenv("SBT_BOOL", no[i], 1);
		if (config_bool("SBT_BOOL", false))
			fail_msg("\"%s\" is true", no[i]);
	}
	setenv("SBT_BOOL", "false", 1);
	assert_false(config_bool("SBT_BOOL", true));
	setenv("SBT_BOOL", "off", 1);
	assert_false(config_bool("SBT_BOOL", true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_no_file_is_fine, teardown),
		cmocka_unit_test_teardown(test_load_file, teardown),
		cmocka_unit_test_teardown(test_malformed_line, teardown),
		cmocka_unit_test_teardown(test_unreadable_file, teardown),
		cmocka_unit_test(test_config_str),
		cmocka_unit_test(test_config_int),
		cmocka_unit_test(test_config_bool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
