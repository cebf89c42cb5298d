/* Unit tests of lib/core/crypto.c: SHA-256/HMAC/base64 published vectors, hex, sealing with
 * AES-256-GCM (tampering, aad, key versions and rotation, env keys), comparisons, tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/urlenc.h"

static struct arena *a;
static unsigned char key1[CRYPTO_KEY_LEN], key2[CRYPTO_KEY_LEN];

static int setup(void **state)
{
	(void)state;
	a = arena_new();
	memset(key1, 0x11, sizeof(key1));
	memset(key2, 0x22, sizeof(key2));
	crypto_keys_clear();
	unsetenv("SB_ENCRYPTION_KEYS");
	unsetenv("SB_ENCRYPTION_KEY_VERSION");
	return a ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	crypto_keys_clear();
	arena_free(a);
	return 0;
}

static void test_sha256_vectors(void **state)
{
	(void)state;
	assert_string_equal(crypto_sha256_hex(a, "abc", 3),
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_string_equal(crypto_sha256_hex(a, "", 0),
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	assert_string_equal(crypto_sha256_hex(a, m448, strlen(m448)),
			    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	unsigned char md[32];
	crypto_sha256("abc", 3, md);
	assert_int_equal(md[0], 0xba);
	assert_int_equal(md[31], 0xad);
}

static void test_hmac_rfc4231(void **state)
{
	(void)state;
	unsigned char k1[20], mac[32];
	memset(k1, 0x0b, sizeof(k1));
	crypto_hmac_sha256(k1, sizeof(k1), "Hi There", 8, mac);
	assert_string_equal(hex_encode(a, mac, 32), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

	const char *m2 = "what do ya want for nothing?";
	crypto_hmac_sha256("Jefe", 4, m2, strlen(m2), mac);
	assert_string_equal(hex_encode(a, mac, 32), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* The Standard Webhooks specification's published signature example. */
static void test_standard_webhooks_vector(void **state)
{
	(void)state;
	const char *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
	const char *msg = "msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}";
	unsigned char *key, mac[32];
	size_t klen;
	assert_int_equal(base64_decode(a, secret + strlen("whsec_"), &key, &klen), 0);
	assert_int_equal(klen, 24);
	crypto_hmac_sha256(key, klen, msg, strlen(msg), mac);
	assert_string_equal(base64_encode(a, mac, 32), "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

static void test_base64_rfc4648(void **state)
{
	(void)state;
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const std[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	static const char *const url[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
	for (size_t i = 0; i < 7; i++) {
		unsigned char *out;
		size_t n;
		assert_string_equal(base64_encode(a, in[i], strlen(in[i])), std[i]);
		assert_string_equal(base64url_encode(a, in[i], strlen(in[i])), url[i]);
		assert_int_equal(base64_decode(a, std[i], &out, &n), 0);
		assert_int_equal(n, strlen(in[i]));
		assert_memory_equal(out, in[i], n);
		assert_int_equal(out[n], '\0');
		assert_int_equal(base64url_decode(a, url[i], &out, &n), 0);
		assert_int_equal(n, strlen(in[i]));
		assert_memory_equal(out, in[i], n);
		assert_int_equal(out[n], '\0');
	}
}

static void test_base64_alphabets_and_round_trip(void **state)
{
	(void)state;
	const unsigned char hi[] = {0xfb, 0xff};
	assert_string_equal(base64_encode(a, hi, 2), "+/8=");
	assert_string_equal(base64url_encode(a, hi, 2), "-_8");

	unsigned char data[70], *out;
	size_t n;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 37 + 250);
	for (size_t len = 0; len <= sizeof(data); len++) {
		assert_int_equal(base64_decode(a, base64_encode(a, data, len), &out, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(out, data, len);
		assert_int_equal(base64url_decode(a, base64url_encode(a, data, len), &out, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(out, data, len);
	}
}

static void test_base64_rejects(void **state)
{
	(void)state;
	static const char *const bad_std[] = {
		"Zg",					 /* padding required */
		"Zg=",					 /* short padding */
		"Zg===",				 /* too much */
		"Z===",	 "====",     "Zh==",		 /* non-zero trailing bits */
		"Zm9=",	 "Zm9v!A==",			 /* invalid character */
		"Zm-v",					 /* url alphabet */
		"Zm_v",	 "Zm 9v",    "=Zm9", "Zg==Zg==", /* padding in the middle */
		"Zm9vY",
	};
	static const char *const bad_url[] = {
		"Zg==",		 /* no padding in url form */
		"Zm8=",	 "Z",	 /* one character cannot encode a byte */
		"Zm9vY", "Zh",	 /* non-zero trailing bits */
		"Zm9",	 "Zm+v", /* standard alphabet */
		"Zm/v",	 "Zm9v.", "Zm\n9v",
	};
	unsigned char *out;
	size_t n;
	for (size_t i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++)
		if (base64_decode(a, bad_std[i], &out, &n) != -1)
			fail_msg("base64_decode accepted \"%s\"", bad_std[i]);
	for (size_t i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++)
		if (base64url_decode(a, bad_url[i], &out, &n) != -1)
			fail_msg("base64url_decode accepted \"%s\"", bad_url[i]);
}

static void test_hex_encode(void **state)
{
	(void)state;
	const unsigned char b[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	assert_string_equal(hex_encode(a, b, sizeof(b)), "00017f80abff");
	assert_string_equal(hex_encode(a, b, 0), "");
}

/* Seals with the current key; fails the test when sealing fails. */
static char *seal(const void *p, size_t n, const char *aad)
{
	char *out = NULL;
	assert_int_equal(crypto_seal(a, p, n, aad, &out), 0);
	assert_non_null(out);
	return out;
}

static void test_seal_round_trip(void **state)
{
	(void)state;
	assert_int_equal(crypto_key_add(1, key1, false), 0);
	assert_int_equal(crypto_current_key_version(), 1);

	char *s = seal("hunter2", 7, "user_integrations.config.password:u1");
	assert_int_equal(strncmp(s, "sb1.1.", 6), 0);
	assert_int_equal(crypto_sealed_version(s), 1);
	char *plain = NULL;
	size_t len = 99;
	assert_int_equal(crypto_open(a, s, "user_integrations.config.password:u1", &plain, &len), 0);
	assert_int_equal(len, 7);
	assert_string_equal(plain, "hunter2");
	assert_null(strstr(s, "hunter2"));

	/* Empty plaintext. */
	s = seal("", 0, "x");
	assert_int_equal(crypto_open(a, s, "x", &plain, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(plain, "");

	/* 1 MiB of binary with NUL bytes; len may be NULL. */
	size_t big = 1u << 20;
	unsigned char *data = malloc(big);
	assert_non_null(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (unsigned char)(i * 131 + (i >> 11));
	s = seal(data, big, "big");
	assert_int_equal(crypto_open(a, s, "big", &plain, &len), 0);
	assert_int_equal(len, big);
	assert_memory_equal(plain, data, big);
	assert_int_equal(plain[big], '\0');
	plain = NULL;
	assert_int_equal(crypto_open(a, s, "big", &plain, NULL), 0);
	assert_non_null(plain);
	free(data);
}

static void test_wrong_aad_fails(void **state)
{
	(void)state;
	crypto_key_add(1, key1, true);
	char *s = seal("secret", 6, "webhooks.secret:owner-a");
	char *plain = NULL;
	assert_int_equal(crypto_open(a, s, "webhooks.secret:owner-b", &plain, NULL), -1);
	assert_int_equal(crypto_open(a, s, "webhooks.secret:owner-a ", &plain, NULL), -1);
	assert_int_equal(crypto_open(a, s, "", &plain, NULL), -1);
	assert_int_equal(crypto_open(a, s, NULL, &plain, NULL), -1);
	assert_null(plain);
	assert_int_equal(crypto_open(a, s, "webhooks.secret:owner-a", &plain, NULL), 0);
	assert_string_equal(plain, "secret");
}

static void test_every_tamper_fails(void **state)
{
	(void)state;
	crypto_key_add(1, key1, true);
	char *s = seal("a short secret", 14, "aad");
	const char *b64 = s + strlen("sb1.1.");
	unsigned char *raw;
	size_t rawlen;
	assert_int_equal(base64url_decode(a, b64, &raw, &rawlen), 0);
	assert_int_equal(rawlen, 12 + 14 + 16); /* nonce, ciphertext, tag */
	char *plain;

	/* Every bit of every byte of the decoded payload matters. */
	for (size_t i = 0; i < rawlen; i++) {
		for (int bit = 0; bit < 8; bit++) {
			raw[i] ^= (unsigned char)(1u << bit);
			char *t = arena_printf(a, "sb1.1.%s", base64url_encode(a, raw, rawlen));
			if (crypto_open(a, t, "aad", &plain, NULL) != -1)
				fail_msg("flipping bit %d of byte %zu went unnoticed", bit, i);
			raw[i] ^= (unsigned char)(1u << bit);
		}
	}
	/* Every character of the text, replaced by another of the alphabet. */
	char *t = arena_strdup(a, s);
	for (size_t i = 0; t[i]; i++) {
		char orig = t[i];
		t[i] = orig == 'A' ? 'B' : 'A';
		if (crypto_open(a, t, "aad", &plain, NULL) != -1)
			fail_msg("changing character %zu of %s went unnoticed", i, s);
		t[i] = orig;
	}
	assert_int_equal(crypto_open(a, t, "aad", &plain, NULL), 0);

	/* Truncated, extended, and malformed texts. */
	char *cut = arena_strndup(a, s, strlen(s) - 1);
	assert_int_equal(crypto_open(a, cut, "aad", &plain, NULL), -1);
	assert_int_equal(crypto_open(a, arena_printf(a, "%sAAAA", s), "aad", &plain, NULL), -1);
	char *short_payload = arena_printf(a, "sb1.1.%s", base64url_encode(a, raw, 12 + 15));
	assert_int_equal(crypto_open(a, short_payload, "aad", &plain, NULL), -1);
	static const char *const junk[] = {"", "sb1.", "sb1.1.", "sb1.1", "sb2.1.AAAA", "SB1.1.AAAA", "sb1.x.AAAA"};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_int_equal(crypto_open(a, junk[i], "aad", &plain, NULL), -1);
	assert_int_equal(crypto_open(a, NULL, "aad", &plain, NULL), -1);
}

static void test_unknown_key_version(void **state)
{
	(void)state;
	crypto_key_add(1, key1, true);
	char *s = seal("v1 secret", 9, "aad"), *plain;
	/* Same payload, another version: unknown here, then a different key. */
	char *v9 = arena_printf(a, "sb1.9.%s", s + 6);
	assert_int_equal(crypto_open(a, v9, "aad", &plain, NULL), -1);
	crypto_key_add(2, key2, false);
	char *v2 = arena_printf(a, "sb1.2.%s", s + 6);
	assert_int_equal(crypto_open(a, v2, "aad", &plain, NULL), -1);

	/* Without the key that sealed it, a text cannot be opened. */
	crypto_keys_clear();
	crypto_key_add(2, key2, true);
	assert_int_equal(crypto_open(a, s, "aad", &plain, NULL), -1);
	crypto_keys_clear();
	assert_int_equal(crypto_current_key_version(), 0);
	char *out = NULL;
	assert_int_equal(crypto_seal(a, "x", 1, "aad", &out), -1);
}

static void test_key_rotation(void **state)
{
	(void)state;
	crypto_key_add(1, key1, true);
	char *old = seal("rotate me", 9, "aad"), *plain;
	assert_int_equal(crypto_sealed_version(old), 1);

	assert_int_equal(crypto_key_add(2, key2, true), 0);
	assert_int_equal(crypto_current_key_version(), 2);
	char *fresh = seal("new secret", 10, "aad");
	assert_int_equal(strncmp(fresh, "sb1.2.", 6), 0);
	assert_int_equal(crypto_sealed_version(fresh), 2);

	assert_int_equal(crypto_open(a, old, "aad", &plain, NULL), 0);
	assert_string_equal(plain, "rotate me");
	assert_int_equal(crypto_open(a, fresh, "aad", &plain, NULL), 0);
	assert_string_equal(plain, "new secret");
}

static void test_key_add_rules(void **state)
{
	(void)state;
	assert_int_equal(crypto_key_add(0, key1, false), -1);
	assert_int_equal(crypto_key_add(256, key1, false), -1);
	assert_int_equal(crypto_current_key_version(), 0);

	/* Unpinned: the highest version seals, whatever the order of adding. */
	assert_int_equal(crypto_key_add(3, key1, false), 0);
	assert_int_equal(crypto_key_add(1, key2, false), 0);
	assert_int_equal(crypto_current_key_version(), 3);
	assert_int_equal(crypto_key_add(3, key2, false), -1); /* duplicate */

	/* Pinned: a later, higher key does not take over. */
	crypto_keys_clear();
	assert_int_equal(crypto_key_add(2, key1, true), 0);
	assert_int_equal(crypto_key_add(7, key2, false), 0);
	assert_int_equal(crypto_current_key_version(), 2);

	crypto_keys_clear();
	for (unsigned v = 1; v <= CRYPTO_MAX_KEYS; v++)
		assert_int_equal(crypto_key_add(v, key1, false), 0);
	assert_int_equal(crypto_key_add(CRYPTO_MAX_KEYS + 1, key1, false), -1);
}

static void test_sealed_version(void **state)
{
	(void)state;
	assert_int_equal(crypto_sealed_version("sb1.1.AAAA"), 1);
	assert_int_equal(crypto_sealed_version("sb1.42.x"), 42);
	assert_int_equal(crypto_sealed_version("sb1.255."), 255);
	static const char *const bad[] = {
		"sb1.256.x", "sb1.0.x",	 "sb1.01.x", "sb1.1",	 "sb1..x", "sb1.-1.x",
		"sb1.+1.x",  "sb1. 1.x", "sb2.1.x",  "sb1.1a.x", "",	   "sb1.",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (crypto_sealed_version(bad[i]) != 0)
			fail_msg("\"%s\" named a version", bad[i]);
	assert_int_equal(crypto_sealed_version(NULL), 0);
}

/* Sets SB_ENCRYPTION_KEYS (and the version when given) and loads them. */
static int load(const char *keys, const char *version)
{
	setenv("SB_ENCRYPTION_KEYS", keys, 1);
	if (version)
		setenv("SB_ENCRYPTION_KEY_VERSION", version, 1);
	else
		unsetenv("SB_ENCRYPTION_KEY_VERSION");
	return crypto_keys_load();
}

static void test_keys_load_from_env(void **state)
{
	(void)state;
	const char *b1 = base64_encode(a, key1, 32), *b2 = base64_encode(a, key2, 32);

	/* A text sealed with key1 by hand opens once the env names the same bytes. */
	crypto_key_add(1, key1, true);
	char *s1 = seal("from v1", 7, "aad"), *p;
	crypto_keys_clear();

	assert_int_equal(load(arena_printf(a, "1:%s,2:%s", b1, b2), NULL), 0);
	assert_int_equal(crypto_current_key_version(), 2);
	assert_int_equal(crypto_sealed_version(seal("x", 1, "aad")), 2);
	assert_int_equal(crypto_open(a, s1, "aad", &p, NULL), 0);
	assert_string_equal(p, "from v1");

	assert_int_equal(load(arena_printf(a, "2:%s, 1:%s", b2, b1), "1"), 0);
	assert_int_equal(crypto_current_key_version(), 1);
	assert_int_equal(crypto_sealed_version(seal("x", 1, "aad")), 1);

	assert_int_equal(load(arena_printf(a, "1:%s", b1), NULL), 0);
	assert_int_equal(crypto_current_key_version(), 1);

	/* A version naming no key is an error, and leaves no key loaded. */
	assert_int_equal(load(arena_printf(a, "1:%s,2:%s", b1, b2), "3"), -1);
	assert_int_equal(crypto_current_key_version(), 0);
	assert_int_equal(crypto_open(a, s1, "aad", &p, NULL), -1);
}

static void test_keys_load_rejects(void **state)
{
	(void)state;
	unsigned char k16[16] = {1}, k33[33] = {1};
	const char *b1 = base64_encode(a, key1, 32), *b2 = base64_encode(a, key2, 32);
	char *unpadded = arena_strndup(a, b1, strlen(b1) - 1);
	const char *const bad[] = {
		arena_printf(a, "%s", b1),     /* no version */
		arena_printf(a, "1%s", b1),    /* no colon */
		arena_printf(a, "0:%s", b1),   /* version 0 */
		arena_printf(a, "256:%s", b1), /* version too big */
		arena_printf(a, "x:%s", b1),   /* not a number */
		arena_printf(a, "-1:%s", b1),
		arena_printf(a, "1:%s", base64_encode(a, k16, sizeof(k16))), /* 16 bytes */
		arena_printf(a, "1:%s", base64_encode(a, k33, sizeof(k33))), /* 33 bytes */
		arena_printf(a, "1:%s", unpadded),			     /* bad base64 */
		"1:not*base64!",
		"1:",
		arena_printf(a, "1:%s,1:%s", b1, b2), /* duplicate version */
		arena_printf(a, "1:%s,garbage", b1),  /* one bad entry spoils all */
		",",
		arena_printf(a, "1x:%s", b1), /* trailing junk in the version */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		crypto_key_add(9, key2, true); /* must be cleared by the failed load */
		if (load(bad[i], NULL) != -1)
			fail_msg("SB_ENCRYPTION_KEYS=\"%s\" was accepted", bad[i]);
		assert_int_equal(crypto_current_key_version(), 0);
		crypto_keys_clear();
	}
	unsetenv("SB_ENCRYPTION_KEYS");
	assert_int_equal(crypto_keys_load(), -1);
	setenv("SB_ENCRYPTION_KEYS", "", 1);
	assert_int_equal(crypto_keys_load(), -1);
}

static void test_nonces_differ(void **state)
{
	(void)state;
	crypto_key_add(1, key1, true);
	char *s1 = seal("same text", 9, "aad"), *s2 = seal("same text", 9, "aad");
	assert_string_not_equal(s1, s2);
	unsigned char *r1, *r2;
	size_t n1, n2;
	assert_int_equal(base64url_decode(a, s1 + 6, &r1, &n1), 0);
	assert_int_equal(base64url_decode(a, s2 + 6, &r2, &n2), 0);
	assert_int_equal(n1, n2);
	assert_memory_not_equal(r1, r2, 12);
}

static void test_constant_time_equality(void **state)
{
	(void)state;
	assert_true(crypto_equal("abc", "abc", 3));
	assert_false(crypto_equal("abc", "abd", 3));
	assert_false(crypto_equal("xbc", "abc", 3));
	assert_true(crypto_equal("abc", "abd", 2));
	assert_true(crypto_equal("a", "b", 0));
	assert_true(crypto_equal("a\0b", "a\0b", 3));
	assert_false(crypto_equal("a\0b", "a\0c", 3));

	assert_true(crypto_str_equal("token", "token"));
	assert_true(crypto_str_equal("", ""));
	assert_false(crypto_str_equal("token", "tokeN"));
	assert_false(crypto_str_equal("token", "token2"));
	assert_false(crypto_str_equal("token2", "token"));
	assert_false(crypto_str_equal("", "x"));
}

static void test_token_shape(void **state)
{
	(void)state;
	char *t1 = crypto_token(a, 32), *t2 = crypto_token(a, 32);
	assert_non_null(t1);
	assert_int_equal(strlen(t1), 43);
	assert_int_equal(strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	assert_string_not_equal(t1, t2);
	unsigned char *raw;
	size_t n;
	assert_int_equal(base64url_decode(a, t1, &raw, &n), 0);
	assert_int_equal(n, 32);

	assert_int_equal(strlen(crypto_token(a, 16)), 22);
	assert_int_equal(strlen(crypto_token(a, 128)), 171);
	assert_string_equal(crypto_token(a, 0), "");
	assert_null(crypto_token(a, 129));

	unsigned char buf[64] = {0}, zero[64] = {0};
	assert_int_equal(crypto_random(buf, sizeof(buf)), 0);
	assert_memory_not_equal(buf, zero, sizeof(buf));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sha256_vectors),
		T(test_hmac_rfc4231),
		T(test_standard_webhooks_vector),
		T(test_base64_rfc4648),
		T(test_base64_alphabets_and_round_trip),
		T(test_base64_rejects),
		T(test_hex_encode),
		T(test_seal_round_trip),
		T(test_wrong_aad_fails),
		T(test_every_tamper_fails),
		T(test_unknown_key_version),
		T(test_key_rotation),
		T(test_key_add_rules),
		T(test_sealed_version),
		T(test_keys_load_from_env),
		T(test_keys_load_rejects),
		T(test_nonces_differ),
		T(test_constant_time_equality),
		T(test_token_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
