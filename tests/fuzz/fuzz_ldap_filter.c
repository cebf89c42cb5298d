/* The directory sign-in's untrusted-input handling: RFC 4515 escaping of a username (any
 * bytes, inner NULs included), the operator's filter template with it put in, and the
 * loopback test of an ldap:// URL. An escaped value may hold no '*', '(', ')' or NUL, and
 * every '\' must start a two-digit hex escape: otherwise input could change the filter. */
#include <ctype.h>

#include "auth/ldap_filter.h"
#include "auth/ldap_settings.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_escaped(const char *e)
{
	for (const char *p = e; *p; p++) {
		if (*p == '*' || *p == '(' || *p == ')')
			abort();
		if (*p == '\\') {
			if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
				abort();
			p += 2;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	const char *in = (const char *)data;
	char *e = ldap_filter_escape(a, in, size);
	if (!e)
		abort();
	check_escaped(e);
	char *f = ldap_filter_build(a, "(&(objectClass=person)(|(uid=%s)(mail=%s)))", in, size);
	if (!f || strncmp(f, "(&(objectClass=person)(|(uid=", 29) || strcmp(f + strlen(f) - 3, ")))"))
		abort();
	(void)ldap_url_is_loopback(fuzz_text(a, data, size));
	return 0;
}
