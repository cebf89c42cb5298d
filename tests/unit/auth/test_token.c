/* Unit tests of lib/auth/token.c: issuing and verifying our HS256 access tokens and the host
 * platform's, against hand-built JWTs (alg confusion, claims, time, shape, signatures). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "auth/token.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "core/urlenc.h"

#define SECRET	     "ours-0123456789abcdef0123456789abcdef"
#define HOST_SECRET  "host-0123456789abcdef0123456789abcdef"
#define OTHER_SECRET "other-0123456789abcdef0123456789abcdef"
#define ISS	     "switchboard"
#define AUD	     "switchboard-api"
#define HOST_ISS     "https://host.example"
#define HOST_AUD     "host-api"
#define UUID	     "0b7e5c1e-2f5d-4b7e-9c1a-3d2e4f5a6b7c"
#define NOW	     1700000000L

#define HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
/* Every claim our token needs but exp. */
#define STD "\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"" UUID "\",\"typ\":\"access\""

static struct arena *a;

static int setup(void **state)
{
	(void)state;
	a = arena_new();
	return token_configure(SECRET, ISS, AUD, HOST_SECRET, HOST_ISS, HOST_AUD) || !a ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	arena_free(a);
	return 0;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = arena_vprintf(a, f, ap);
	va_end(ap);
	return s;
}

static const char *b64j(const char *json)
{
	return base64url_encode(a, json, strlen(json));
}

/* base64url(header).base64url(payload).base64url(HMAC-SHA256); empty signature when
 * secret is NULL. */
static char *hs256(const char *header, const char *payload, const char *secret)
{
	char *input = fmt("%s.%s", b64j(header), b64j(payload));
	if (!secret)
		return fmt("%s.", input);
	unsigned char mac[32];
	crypto_hmac_sha256(secret, strlen(secret), input, strlen(input), mac);
	return fmt("%s.%s", input, base64url_encode(a, mac, 32));
}

static char *ours(const char *payload)
{
	return hs256(HDR, payload, SECRET);
}

static enum token_error verify_at(const char *token, time_t now)
{
	struct token_claims c;
	return token_verify(a, token, now, &c);
}

static enum token_error verify(const char *token)
{
	return verify_at(token, NOW);
}

static void test_configure_rules(void **state)
{
	(void)state;
	char short_secret[32];
	memset(short_secret, 's', 31);
	short_secret[31] = '\0';
	assert_int_equal(token_configure(short_secret, ISS, AUD, NULL, NULL, NULL), -1);
	assert_int_equal(token_configure(NULL, ISS, AUD, NULL, NULL, NULL), -1);
	assert_int_equal(token_configure(SECRET, NULL, AUD, NULL, NULL, NULL), -1);
	assert_int_equal(token_configure(SECRET, ISS, NULL, NULL, NULL, NULL), -1);
	assert_int_equal(token_configure(SECRET, ISS, AUD, short_secret, HOST_ISS, NULL), -1);
	assert_int_equal(token_configure(SECRET, ISS, AUD, HOST_SECRET, NULL, NULL), -1);
	/* A host key without an audience would accept any token the host signs. */
	assert_int_equal(token_configure(SECRET, ISS, AUD, HOST_SECRET, HOST_ISS, NULL), -1);
	assert_int_equal(token_configure(SECRET, ISS, AUD, HOST_SECRET, HOST_ISS, ""), -1);
	assert_int_equal(token_configure(SECRET, ISS, AUD, HOST_SECRET, ISS, NULL), -1); /* same issuer */
	assert_int_equal(token_configure(SECRET, ISS, AUD, NULL, NULL, NULL), 0);
	assert_int_equal(token_configure(SECRET, ISS, AUD, HOST_SECRET, HOST_ISS, HOST_AUD), 0);
}

static void test_issue_then_verify(void **state)
{
	(void)state;
	char *t = NULL;
	assert_int_equal(token_issue(a, UUID, 900, NOW, &t), 0);
	assert_non_null(t);

	struct token_claims c;
	assert_int_equal(token_verify(a, t, NOW, &c), TOKEN_OK);
	assert_int_equal(c.issuer, TOKEN_OURS);
	assert_string_equal(c.sub, UUID);
	assert_int_equal(c.exp, NOW + 900);
	assert_int_equal(c.iat, NOW);
	assert_null(c.email);
	assert_null(c.name);

	/* The header says HS256; the payload carries what the verifier requires. */
	const char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
	unsigned char *raw;
	size_t n;
	assert_int_equal(base64url_decode(a, arena_strndup(a, t, (size_t)(d1 - t)), &raw, &n), 0);
	struct json_object *h = json_tokener_parse((char *)raw), *v;
	assert_true(json_object_object_get_ex(h, "alg", &v));
	assert_string_equal(json_object_get_string(v), "HS256");
	json_object_put(h);
	assert_int_equal(base64url_decode(a, arena_strndup(a, d1 + 1, (size_t)(d2 - d1 - 1)), &raw, &n), 0);
	struct json_object *p = json_tokener_parse((char *)raw);
	static const char *const want[][2] = {{"iss", ISS}, {"aud", AUD}, {"sub", UUID}, {"typ", "access"}};
	for (size_t i = 0; i < 4; i++) {
		assert_true(json_object_object_get_ex(p, want[i][0], &v));
		assert_string_equal(json_object_get_string(v), want[i][1]);
	}
	assert_true(json_object_object_get_ex(p, "jti", &v));
	assert_true(strlen(json_object_get_string(v)) >= 16);
	json_object_put(p);

	/* Two tokens for the same user and second differ (jti). */
	char *t2;
	assert_int_equal(token_issue(a, UUID, 900, NOW, &t2), 0);
	assert_string_not_equal(t, t2);
}

static void test_time_window(void **state)
{
	(void)state;
	char *t;
	assert_int_equal(token_issue(a, UUID, 900, NOW, &t), 0);
	/* 30 s of clock skew either way. */
	assert_int_equal(verify_at(t, NOW + 900 + 29), TOKEN_OK);
	assert_int_equal(verify_at(t, NOW + 900 + 30), TOKEN_EXPIRED);
	assert_int_equal(verify_at(t, NOW + 100000), TOKEN_EXPIRED);
	assert_int_equal(verify_at(t, NOW - 30), TOKEN_OK);
	assert_int_equal(verify_at(t, NOW - 31), TOKEN_NOT_YET_VALID);

	assert_int_equal(verify(ours(fmt("{" STD ",\"exp\":%ld}", NOW - 31))), TOKEN_EXPIRED);
	assert_int_equal(verify(ours(fmt("{" STD ",\"exp\":%ld}", NOW - 29))), TOKEN_OK);
	assert_int_equal(verify(ours(fmt("{" STD ",\"exp\":%ld,\"nbf\":%ld}", NOW + 900, NOW + 31))),
			 TOKEN_NOT_YET_VALID);
	assert_int_equal(verify(ours(fmt("{" STD ",\"exp\":%ld,\"nbf\":%ld}", NOW + 900, NOW + 30))), TOKEN_OK);
	assert_int_equal(verify(ours(fmt("{" STD ",\"exp\":%ld,\"iat\":%ld}", NOW + 900, NOW + 3600))),
			 TOKEN_NOT_YET_VALID);
	/* Numeric dates may be fractional. */
	assert_int_equal(verify(ours(fmt("{" STD ",\"exp\":%ld.5}", NOW + 60))), TOKEN_OK);
}

/* A far-future exp (a host that issues "never expires" tokens) must not overflow. */
static void test_far_future_exp(void **state)
{
	(void)state;
	assert_int_equal(verify(ours("{" STD ",\"exp\":9223372036854775807}")), TOKEN_OK);
	assert_int_equal(verify(ours("{" STD ",\"exp\":1e300}")), TOKEN_OK);
	assert_int_equal(verify(ours("{" STD ",\"exp\":-9223372036854775808}")), TOKEN_EXPIRED);
}

static void test_bad_signatures(void **state)
{
	(void)state;
	char *t;
	assert_int_equal(token_issue(a, UUID, 900, NOW, &t), 0);
	char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');

	/* Another payload under the original signature. */
	char *forged = fmt("%.*s.%s%s", (int)(d1 - t), t,
			   b64j("{" STD ",\"exp\":9999999999,\"sub\":\"11111111-2222-3333-4444-555555555555\"}"), d2);
	assert_int_equal(verify(forged), TOKEN_BAD_SIGNATURE);

	/* A well-formed HS256 signature under another key. */
	assert_int_equal(verify(hs256(HDR, fmt("{" STD ",\"exp\":%ld}", NOW + 60), OTHER_SECRET)), TOKEN_BAD_SIGNATURE);

	/* Each character of the signature changed in turn. */
	char *copy = arena_strdup(a, t), *sig = copy + (d2 - t) + 1;
	for (size_t i = 0; sig[i]; i++) {
		char orig = sig[i];
		sig[i] = orig == 'A' ? 'Q' : 'A';
		enum token_error e = verify(copy);
		if (e != TOKEN_BAD_SIGNATURE)
			fail_msg("signature character %zu changed: got %d", i, e);
		sig[i] = orig;
	}
	assert_int_equal(verify(copy), TOKEN_OK);

	/* A truncated signature. */
	assert_int_equal(verify(fmt("%.*s", (int)strlen(t) - 4, t)), TOKEN_BAD_SIGNATURE);

	/* The same 32 bytes spelt otherwise: padded, or with the unused low bits of the last
	 * character set. Only the signer's canonical spelling passes. */
	assert_int_equal(verify(fmt("%s=", t)), TOKEN_BAD_SIGNATURE);
	static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *last = copy + strlen(copy) - 1;
	*last = b64u[(strchr(b64u, *last) - b64u) | 1];
	assert_int_equal(verify(copy), TOKEN_BAD_SIGNATURE);
}

static void test_alg_none_rejected(void **state)
{
	(void)state;
	const char *payload = fmt("{" STD ",\"exp\":%ld}", NOW + 60);
	const char *none = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
	char *empty_sig = hs256(none, payload, NULL);
	assert_int_equal(empty_sig[strlen(empty_sig) - 1], '.');
	assert_int_equal(verify(empty_sig), TOKEN_BAD_SIGNATURE);
	assert_int_equal(verify(fmt("%sYm9ndXM", empty_sig)), TOKEN_BAD_ALG);
	/* Even with a signature that is right for HS256. */
	assert_int_equal(verify(hs256(none, payload, SECRET)), TOKEN_BAD_ALG);
	assert_int_equal(verify(hs256("{\"alg\":\"None\"}", payload, SECRET)), TOKEN_BAD_ALG);
	/* An HS256 header with no signature at all. */
	assert_int_equal(verify(hs256(HDR, payload, NULL)), TOKEN_BAD_SIGNATURE);
}

static void test_other_algs_rejected(void **state)
{
	(void)state;
	const char *payload = fmt("{" STD ",\"exp\":%ld}", NOW + 60);
	/* A genuinely valid HS512 signature with our secret. */
	const char *hs512_header = "{\"alg\":\"HS512\",\"typ\":\"JWT\"}";
	char *input = fmt("%s.%s", b64j(hs512_header), b64j(payload));
	unsigned char mac[64];
	unsigned int mlen = sizeof(mac);
	assert_non_null(
		HMAC(EVP_sha512(), SECRET, (int)strlen(SECRET), (unsigned char *)input, strlen(input), mac, &mlen));
	assert_int_equal(mlen, 64);
	assert_int_equal(verify(fmt("%s.%s", input, base64url_encode(a, mac, mlen))), TOKEN_BAD_ALG);

	static const char *const headers[] = {
		"{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
		"{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
		"{\"alg\":\"ES256\"}",
		"{\"alg\":\"hs256\"}",
		"{\"alg\":\"HS256 \"}",
		"{\"alg\":256}",
		"{\"alg\":null}",
		"{\"typ\":\"JWT\"}",
		"{\"alg\":[\"HS256\"]}",
	};
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		enum token_error e = verify(hs256(headers[i], payload, SECRET));
		if (e != TOKEN_BAD_ALG)
			fail_msg("header %s: got %d, want TOKEN_BAD_ALG", headers[i], e);
	}
}

static void test_claims(void **state)
{
	(void)state;
	static const struct {
		const char *claims; /* printf format taking the exp value */
		enum token_error want;
	} cases[] = {
		{"{" STD "}", TOKEN_BAD_CLAIMS},		 /* no exp (ignores arg) */
		{"{" STD ",\"exp\":\"%ld\"}", TOKEN_BAD_CLAIMS}, /* exp as text */
		{"{" STD ",\"exp\":%ld,\"nbf\":\"0\"}", TOKEN_BAD_CLAIMS},
		{"{" STD ",\"exp\":%ld,\"iat\":null}", TOKEN_BAD_CLAIMS},
		{"{\"iss\":\"evil\",\"aud\":\"" AUD "\",\"sub\":\"" UUID "\",\"typ\":\"access\",\"exp\":%ld}",
		 TOKEN_BAD_CLAIMS},
		{"{\"aud\":\"" AUD "\",\"sub\":\"" UUID "\",\"typ\":\"access\",\"exp\":%ld}", TOKEN_BAD_CLAIMS},
		{"{\"iss\":\"" ISS "\",\"aud\":\"other\",\"sub\":\"" UUID "\",\"typ\":\"access\",\"exp\":%ld}",
		 TOKEN_BAD_CLAIMS},
		{"{\"iss\":\"" ISS "\",\"sub\":\"" UUID "\",\"typ\":\"access\",\"exp\":%ld}", TOKEN_BAD_CLAIMS},
		{"{\"iss\":\"" ISS "\",\"aud\":[\"other\",\"" AUD "\"],\"sub\":\"" UUID
		 "\",\"typ\":\"access\",\"exp\":%ld}",
		 TOKEN_OK},
		{"{\"iss\":\"" ISS "\",\"aud\":[\"other\",\"more\"],\"sub\":\"" UUID
		 "\",\"typ\":\"access\",\"exp\":%ld}",
		 TOKEN_BAD_CLAIMS},
		{"{\"iss\":\"" ISS "\",\"aud\":[],\"sub\":\"" UUID "\",\"typ\":\"access\",\"exp\":%ld}",
		 TOKEN_BAD_CLAIMS},
		{"{\"iss\":\"" ISS "\",\"aud\":[1],\"sub\":\"" UUID "\",\"typ\":\"access\",\"exp\":%ld}",
		 TOKEN_BAD_CLAIMS},
		{"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"" UUID "\",\"exp\":%ld}", TOKEN_BAD_CLAIMS},
		{"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"" UUID "\",\"typ\":\"refresh\",\"exp\":%ld}",
		 TOKEN_BAD_CLAIMS},
		{"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"typ\":\"access\",\"exp\":%ld}", TOKEN_BAD_CLAIMS},
		{"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"\",\"typ\":\"access\",\"exp\":%ld}",
		 TOKEN_BAD_CLAIMS},
		{"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":42,\"typ\":\"access\",\"exp\":%ld}",
		 TOKEN_BAD_CLAIMS},
		{"{" STD ",\"exp\":%ld}", TOKEN_OK},
	};
	/* The claims templates are data (each holds one %ld for the expiry). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum token_error e = verify(ours(arena_printf(a, cases[i].claims, NOW + 60)));
		if (e != cases[i].want)
			fail_msg("claims %s: got %d, want %d", cases[i].claims, e, cases[i].want);
	}
#pragma GCC diagnostic pop

	char long_sub[300];
	memset(long_sub, 'x', 256);
	long_sub[256] = '\0';
	assert_int_equal(verify(ours(fmt("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"%s\",\"typ\":\"access\","
					 "\"exp\":%ld}",
					 long_sub, NOW + 60))),
			 TOKEN_BAD_CLAIMS);
	long_sub[255] = '\0';
	assert_int_equal(verify(ours(fmt("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"%s\",\"typ\":\"access\","
					 "\"exp\":%ld}",
					 long_sub, NOW + 60))),
			 TOKEN_OK);
}

static void test_malformed(void **state)
{
	(void)state;
	char *good = ours(fmt("{" STD ",\"exp\":%ld}", NOW + 60));
	assert_int_equal(verify(good), TOKEN_OK);
	char *d1 = strchr(good, '.'), *d2 = strchr(d1 + 1, '.');
	int hlen = (int)(d1 - good);

	const char *const bad[] = {
		"",
		"abc",
		fmt("%.*s", (int)(d2 - good), good), /* two parts */
		fmt("%s.AAAA", good),		     /* four parts */
		fmt("%s.", good),
		fmt(".%s", d1 + 1),		/* empty header */
		fmt("%.*s.%s", hlen, good, d2), /* empty payload: "h..s" */
		fmt("!!!.%s", d1 + 1),		/* garbage base64 */
		fmt("%.*s.$$$%s", hlen, good, d2),
		fmt("%s.%s%s", b64j("not json"), b64j("{}"), d2),
		fmt("%.*s.%s%s", hlen, good, b64j("[1,2]"), d2), /* payload not an object */
		fmt("%.*s.%s%s", hlen, good, b64j("\"text\""), d2),
		fmt("%s.%s%s", b64j("[\"HS256\"]"), d1 + 1, ""), /* header not an object */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum token_error e = verify(bad[i]);
		if (e != TOKEN_MALFORMED)
			fail_msg("\"%s\": got %d, want TOKEN_MALFORMED", bad[i], e);
	}
}

static void test_length_cap(void **state)
{
	(void)state;
	/* Grow a valid token across 8192 characters: the last one under is fine, over is not. */
	char pad[7000];
	char *prev = NULL, *t = NULL;
	for (size_t n = 5900; n < sizeof(pad); n++) {
		memset(pad, 'p', n);
		pad[n] = '\0';
		prev = t;
		t = ours(fmt("{" STD ",\"exp\":%ld,\"pad\":\"%s\"}", NOW + 60, pad));
		if (strlen(t) > 8192)
			break;
	}
	assert_non_null(prev);
	assert_true(strlen(prev) <= 8192 && strlen(prev) > 8180);
	assert_true(strlen(t) > 8192);
	assert_int_equal(verify(prev), TOKEN_OK);
	assert_int_equal(verify(t), TOKEN_MALFORMED);
}

static void test_host_tokens(void **state)
{
	(void)state;
	char *t;
	const char *claims = fmt("{\"iss\":\"" HOST_ISS "\",\"aud\":\"" HOST_AUD "\",\"sub\":\"host-user-17\","
				 "\"email\":\"ann@example.com\",\"name\":\"Ann\",\"iat\":%ld,\"exp\":%ld}",
				 NOW, NOW + 300);
	assert_int_equal(token_sign_raw(a, HOST_SECRET, claims, &t), 0);
	struct token_claims c;
	assert_int_equal(token_verify(a, t, NOW, &c), TOKEN_OK);
	assert_int_equal(c.issuer, TOKEN_HOST);
	assert_string_equal(c.sub, "host-user-17");
	assert_string_equal(c.email, "ann@example.com");
	assert_string_equal(c.name, "Ann");
	assert_int_equal(c.exp, NOW + 300);
	assert_int_equal(c.iat, NOW);

	/* Claiming the host issuer but signed with our secret (or another). */
	assert_int_equal(token_sign_raw(a, SECRET, claims, &t), 0);
	assert_int_equal(verify(t), TOKEN_BAD_SIGNATURE);
	assert_int_equal(token_sign_raw(a, OTHER_SECRET, claims, &t), 0);
	assert_int_equal(verify(t), TOKEN_BAD_SIGNATURE);
	/* And the reverse: our issuer signed with the host secret. */
	assert_int_equal(verify(hs256(HDR, fmt("{" STD ",\"exp\":%ld}", NOW + 60), HOST_SECRET)), TOKEN_BAD_SIGNATURE);

	/* Host rules: their audience, their expiry. */
	assert_int_equal(token_sign_raw(a, HOST_SECRET,
					fmt("{\"iss\":\"" HOST_ISS "\",\"aud\":\"" AUD "\",\"sub\":\"h\",\"exp\":%ld}",
					    NOW + 60),
					&t),
			 0);
	assert_int_equal(verify(t), TOKEN_BAD_CLAIMS);
	assert_int_equal(
		token_sign_raw(
			a, HOST_SECRET,
			fmt("{\"iss\":\"" HOST_ISS "\",\"aud\":\"" HOST_AUD "\",\"sub\":\"h\",\"exp\":%ld}", NOW - 60),
			&t),
		0);
	assert_int_equal(verify(t), TOKEN_EXPIRED);

	/* Host tokens off: the host issuer is unknown. */
	assert_int_equal(token_sign_raw(a, HOST_SECRET, claims, &t), 0);
	assert_int_equal(token_configure(SECRET, ISS, AUD, NULL, NULL, NULL), 0);
	assert_int_equal(verify(t), TOKEN_BAD_CLAIMS);

	/* A host key without an audience is refused at configuration: it would accept any
	 * token the host signs with that secret. */
	assert_int_equal(token_configure(SECRET, ISS, AUD, HOST_SECRET, HOST_ISS, ""), -1);
}

static void test_sign_raw(void **state)
{
	(void)state;
	char *t = NULL;
	assert_int_equal(token_sign_raw(a, SECRET, "{\"sub\":\"x\",\"n\":1}", &t), 0);
	char *d1 = strchr(t, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	assert_non_null(d2);
	assert_null(strchr(d2 + 1, '.'));

	unsigned char mac[32], *raw;
	size_t n;
	crypto_hmac_sha256(SECRET, strlen(SECRET), t, (size_t)(d2 - t), mac);
	assert_string_equal(d2 + 1, base64url_encode(a, mac, 32));

	assert_int_equal(base64url_decode(a, arena_strndup(a, d1 + 1, (size_t)(d2 - d1 - 1)), &raw, &n), 0);
	struct json_object *p = json_tokener_parse((char *)raw), *v;
	assert_non_null(p);
	assert_true(json_object_object_get_ex(p, "sub", &v));
	assert_string_equal(json_object_get_string(v), "x");
	assert_true(json_object_object_get_ex(p, "n", &v));
	assert_int_equal(json_object_get_int(v), 1);
	json_object_put(p);

	assert_int_equal(base64url_decode(a, arena_strndup(a, t, (size_t)(d1 - t)), &raw, &n), 0);
	struct json_object *h = json_tokener_parse((char *)raw);
	assert_true(json_object_object_get_ex(h, "alg", &v));
	assert_string_equal(json_object_get_string(v), "HS256");
	json_object_put(h);

	assert_int_equal(token_sign_raw(a, SECRET, "{not json", &t), -1);
}

static void test_error_messages(void **state)
{
	(void)state;
	assert_string_equal(token_error_message(TOKEN_EXPIRED), "The access token has expired");
	assert_string_equal(token_error_message(TOKEN_BAD_SIGNATURE), "The access token signature is invalid");
	assert_string_equal(token_error_message(TOKEN_ERROR__MAX), "invalid token");
	for (int e = TOKEN_OK; e < TOKEN_ERROR__MAX; e++)
		assert_non_null(token_error_message((enum token_error)e));
}

/* A narrowed sign-in (directory groups mapped to scopes) carries its scopes as "scope";
 * an ordinary one carries none (every scope). A host token's "scope" is not ours to trust. */
static void test_scope_claim(void **state)
{
	(void)state;
	char *t = NULL;
	struct token_claims c;
	assert_int_equal(token_issue_scoped(a, UUID, "read integrations:write", 900, NOW, &t), 0);
	assert_int_equal(token_verify(a, t, NOW, &c), TOKEN_OK);
	assert_string_equal(c.scope, "read integrations:write");
	assert_int_equal(token_issue(a, UUID, 900, NOW, &t), 0);
	assert_int_equal(token_verify(a, t, NOW, &c), TOKEN_OK);
	assert_null(c.scope);
	char claims[512];
	snprintf(claims, sizeof(claims),
		 "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"host-user\",\"exp\":%ld,\"scope\":\"read\"}", HOST_ISS,
		 HOST_AUD, (long)NOW + 60);
	assert_int_equal(token_sign_raw(a, HOST_SECRET, claims, &t), 0);
	assert_int_equal(token_verify(a, t, NOW, &c), TOKEN_OK);
	assert_int_equal(c.issuer, TOKEN_HOST);
	assert_null(c.scope);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_configure_rules), T(test_issue_then_verify), T(test_time_window),	 T(test_far_future_exp),
		T(test_bad_signatures),	 T(test_alg_none_rejected), T(test_other_algs_rejected), T(test_claims),
		T(test_malformed),	 T(test_length_cap),	    T(test_host_tokens),	 T(test_sign_raw),
		T(test_error_messages),	 T(test_scope_claim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
