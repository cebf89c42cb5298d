/* Unit tests of the SMTP client's message composition and address checks
 * (lib/net/smtp_client.c): headers without injection, RFC 2047 subjects, base64 bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "net/smtp_client.h"

static void test_addresses(void **state)
{
	(void)state;
	assert_true(smtp_address_ok("a@example.org"));
	assert_true(smtp_address_ok("first.last+tag@mail.example.co.uk"));
	assert_false(smtp_address_ok(NULL));
	assert_false(smtp_address_ok(""));
	assert_false(smtp_address_ok("nobody"));
	assert_false(smtp_address_ok("@example.org"));
	assert_false(smtp_address_ok("a@"));
	assert_false(smtp_address_ok("a@localhost"));
	assert_false(smtp_address_ok("a@b@example.org"));
	assert_false(smtp_address_ok("a b@example.org"));
	assert_false(smtp_address_ok("a@example.org\r\nBcc: x@example.org"));
	assert_false(smtp_address_ok("<a@example.org>"));
	assert_false(smtp_address_ok("a@example.org."));
}

static void test_security_words(void **state)
{
	(void)state;
	assert_int_equal(smtp_security_parse("starttls"), SMTP_SECURITY_STARTTLS);
	assert_int_equal(smtp_security_parse("tls"), SMTP_SECURITY_TLS);
	assert_int_equal(smtp_security_parse("none"), SMTP_SECURITY_NONE);
	assert_int_equal(smtp_security_parse("ssl"), -1);
	assert_int_equal(smtp_security_parse(NULL), -1);
	assert_string_equal(smtp_security_name(SMTP_SECURITY_TLS), "tls");
	assert_int_equal(smtp_default_port(SMTP_SECURITY_STARTTLS), 587);
	assert_int_equal(smtp_default_port(SMTP_SECURITY_TLS), 465);
	assert_int_equal(smtp_default_port(SMTP_SECURITY_NONE), 25);
}

static void test_format_headers_and_body(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct smtp_message m = {.from = "sb@example.org", .to = "u@example.com", .subject = "Hello", .text = "line 1\n.dot"};
	char *t = smtp_format(a, &m, 0);
	assert_non_null(t);
	assert_non_null(strstr(t, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
	assert_non_null(strstr(t, "\r\nFrom: sb@example.org\r\nTo: u@example.com\r\nSubject: Hello\r\n"));
	assert_non_null(strstr(t, "@example.org>\r\n"));
	assert_non_null(strstr(t, "Content-Transfer-Encoding: base64\r\n"));
	char *body = strstr(t, "\r\n\r\n");
	assert_non_null(body);
	body += 4;
	body[strcspn(body, "\r")] = 0;
	unsigned char *dec;
	size_t n;
	assert_int_equal(base64_decode(a, body, &dec, &n), 0);
	assert_int_equal(n, strlen(m.text));
	assert_memory_equal(dec, m.text, n);
	arena_free(a);
}

static void test_format_refuses_line_breaks(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct smtp_message m = {.from = "sb@example.org", .to = "u@example.com", .subject = "Hi\r\nBcc: x@example.org"};
	assert_null(smtp_format(a, &m, 0));
	m.subject = "ok";
	m.to = "u@example.com\nBcc: x@example.org";
	assert_null(smtp_format(a, &m, 0));
	arena_free(a);
}

static void test_utf8_subject_is_encoded(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct smtp_message m = {.from = "sb@example.org", .to = "u@example.com",
				 .subject = "Gr\xc3\xbc\xc3\x9f"
					    "e \xe2\x80\x94 a long subject that needs more than one encoded word "
					    "\xc3\xa9\xc3\xa9\xc3\xa9",
				 .text = ""};
	char *t = smtp_format(a, &m, 0);
	assert_non_null(t);
	assert_non_null(strstr(t, "Subject: =?UTF-8?B?"));
	assert_non_null(strstr(t, "?=\r\n =?UTF-8?B?"));
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_security_words),
		cmocka_unit_test(test_format_headers_and_body),
		cmocka_unit_test(test_format_refuses_line_breaks),
		cmocka_unit_test(test_utf8_subject_is_encoded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
