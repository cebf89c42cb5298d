/* Unit tests of the PKCE checks of lib/auth/oauth_code_store.c (RFC 7636): the verifier
 * and challenge alphabet and lengths, and S256 against the RFC's Appendix B example. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "auth/oauth_code_store.h"
#include "core/arena.h"

/* RFC 7636 Appendix B. */
static const char *const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
static const char *const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

static void test_well_formed(void **state)
{
	(void)state;
	assert_true(oauth_pkce_well_formed(verifier));
	assert_true(oauth_pkce_well_formed(challenge));
	char s[130];
	memset(s, 'a', sizeof(s));
	s[43] = '\0';
	assert_true(oauth_pkce_well_formed(s));
	s[42] = '\0';
	assert_false(oauth_pkce_well_formed(s)); /* 42: too short */
	memset(s, '~', 128);
	s[128] = '\0';
	assert_true(oauth_pkce_well_formed(s));
	s[128] = 'x';
	s[129] = '\0';
	assert_false(oauth_pkce_well_formed(s)); /* 129: too long */
	assert_false(oauth_pkce_well_formed(NULL));
	assert_false(oauth_pkce_well_formed(""));
	assert_false(oauth_pkce_well_formed("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX=")); /* padding */
	assert_false(oauth_pkce_well_formed("dBjftJeZ4CVP+mB92K27uhbUJU1p1r/wW1gFWFOEjXk")); /* base64, not url */
	assert_false(oauth_pkce_well_formed("dBjftJeZ4CVP mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
}

static void test_s256(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	assert_non_null(a);
	assert_true(oauth_pkce_s256_matches(a, verifier, challenge));
	/* One character off on either side. */
	assert_false(oauth_pkce_s256_matches(a, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl", challenge));
	assert_false(oauth_pkce_s256_matches(a, verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
	/* plain is not S256: the verifier as its own challenge does not match. */
	assert_false(oauth_pkce_s256_matches(a, verifier, verifier));
	assert_false(oauth_pkce_s256_matches(a, verifier, challenge + 1)); /* a shorter string is not equal */
	assert_false(oauth_pkce_s256_matches(a, "short", challenge));
	assert_false(oauth_pkce_s256_matches(a, NULL, challenge));
	assert_false(oauth_pkce_s256_matches(a, verifier, NULL));
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed),
		cmocka_unit_test(test_s256),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
