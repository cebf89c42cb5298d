/* libcrypto wrappers; see crypto.h. */
#include "core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/urlenc.h"

#define GCM_NONCE 12
#define GCM_TAG	  16

struct sealing_key {
	unsigned version;
	unsigned char key[CRYPTO_KEY_LEN];
};

static struct sealing_key keys[CRYPTO_MAX_KEYS];
static size_t nkeys;
static unsigned current_version;
static bool current_pinned;

void crypto_keys_clear(void)
{
	OPENSSL_cleanse(keys, sizeof(keys));
	nkeys = 0;
	current_version = 0;
	current_pinned = false;
}

int crypto_key_add(unsigned version, const unsigned char key[CRYPTO_KEY_LEN], bool current)
{
	if (version < 1 || version > 255 || nkeys == CRYPTO_MAX_KEYS)
		return -1;
	for (size_t i = 0; i < nkeys; i++)
		if (keys[i].version == version)
			return -1;
	keys[nkeys].version = version;
	memcpy(keys[nkeys].key, key, CRYPTO_KEY_LEN);
	nkeys++;
	/* Without a pinned choice the newest key seals. */
	if (current || (!current_pinned && version > current_version))
		current_version = version;
	current_pinned |= current;
	return 0;
}

unsigned crypto_current_key_version(void)
{
	return current_version;
}

static const struct sealing_key *key_find(unsigned version)
{
	for (size_t i = 0; i < nkeys; i++)
		if (keys[i].version == version)
			return &keys[i];
	return NULL;
}

int crypto_keys_load(void)
{
	const char *spec = config_str("SB_ENCRYPTION_KEYS", NULL);
	crypto_keys_clear();
	if (!spec) {
		fputs("crypto: SB_ENCRYPTION_KEYS is not set\n", stderr);
		return -1;
	}
	struct arena *a = arena_new();
	char *copy = arena_strdup(a, spec), *save = NULL;
	int rc = 0;
	for (char *item = strtok_r(copy, ", ", &save); item; item = strtok_r(NULL, ", ", &save)) {
		char *colon = strchr(item, ':');
		unsigned char *raw;
		size_t rawlen;
		long v = colon && strspn(item, "0123456789") == (size_t)(colon - item) ? strtol(item, NULL, 10) : 0;
		if (!colon || v < 1 || v > 255 || base64_decode(a, colon + 1, &raw, &rawlen) ||
		    rawlen != CRYPTO_KEY_LEN || crypto_key_add((unsigned)v, raw, false)) {
			fprintf(stderr,
				"crypto: SB_ENCRYPTION_KEYS: malformed entry (want VERSION:BASE64 of 32 bytes)\n");
			rc = -1;
			break;
		}
		OPENSSL_cleanse(raw, rawlen);
	}
	OPENSSL_cleanse(copy, strlen(copy));
	arena_free(a);
	if (rc == 0) {
		long want = config_int("SB_ENCRYPTION_KEY_VERSION", 0, 0, 255);
		if (want) {
			if (!key_find((unsigned)want)) {
				fprintf(stderr, "crypto: SB_ENCRYPTION_KEY_VERSION %ld has no key\n", want);
				rc = -1;
			} else {
				current_version = (unsigned)want;
			}
		}
	}
	if (rc == 0 && !nkeys) {
		fputs("crypto: SB_ENCRYPTION_KEYS holds no key\n", stderr);
		rc = -1;
	}
	if (rc)
		crypto_keys_clear();
	return rc;
}

/* Runs AES-256-GCM one way or the other over in[0..len) into out; tag is written
 * (encrypt) or checked (decrypt). Returns 0 or -1. */
static int gcm(bool encrypt, const unsigned char *key, const unsigned char *nonce, const char *aad,
	       const unsigned char *in, size_t len, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n, ok = ctx != NULL;
	ok = ok && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt) == 1;
	ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_NONCE, NULL) == 1;
	ok = ok && EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, encrypt) == 1;
	if (ok && aad && *aad)
		ok = EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1;
	if (ok && len)
		ok = EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1;
	if (ok && !encrypt)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(ctx, out + len, &n) == 1;
	if (ok && encrypt)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

int crypto_seal(struct arena *a, const void *plain, size_t len, const char *aad, char **out)
{
	const struct sealing_key *k = key_find(current_version);
	if (!k || len > (1u << 30))
		return -1;
	unsigned char *buf = arena_alloc(a, GCM_NONCE + len + GCM_TAG + 16);
	if (crypto_random(buf, GCM_NONCE) ||
	    gcm(true, k->key, buf, aad, plain, len, buf + GCM_NONCE, buf + GCM_NONCE + len))
		return -1;
	*out = arena_printf(a, "sb1.%u.%s", k->version, base64url_encode(a, buf, GCM_NONCE + len + GCM_TAG));
	return 0;
}

unsigned crypto_sealed_version(const char *sealed)
{
	if (!sealed || strncmp(sealed, "sb1.", 4))
		return 0;
	char *end;
	long v = strtol(sealed + 4, &end, 10);
	if (*end != '.' || v < 1 || v > 255 || sealed[4] < '1' || sealed[4] > '9')
		return 0;
	return (unsigned)v;
}

int crypto_open(struct arena *a, const char *sealed, const char *aad, char **plain, size_t *len)
{
	unsigned v = crypto_sealed_version(sealed);
	const struct sealing_key *k = v ? key_find(v) : NULL;
	if (!k)
		return -1;
	unsigned char *raw;
	size_t rawlen;
	if (base64url_decode(a, strchr(sealed + 4, '.') + 1, &raw, &rawlen) || rawlen < GCM_NONCE + GCM_TAG)
		return -1;
	size_t n = rawlen - GCM_NONCE - GCM_TAG;
	unsigned char *out = arena_alloc(a, n + 16 + 1);
	if (gcm(false, k->key, raw, aad, raw + GCM_NONCE, n, out, raw + GCM_NONCE + n)) {
		OPENSSL_cleanse(out, n);
		return -1;
	}
	out[n] = '\0';
	*plain = (char *)out;
	if (len)
		*len = n;
	return 0;
}

int crypto_random(void *buf, size_t n)
{
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

char *crypto_token(struct arena *a, size_t nbytes)
{
	unsigned char buf[128];
	if (nbytes > sizeof(buf) || crypto_random(buf, nbytes))
		return NULL;
	char *t = base64url_encode(a, buf, nbytes);
	OPENSSL_cleanse(buf, nbytes);
	return t;
}

char *crypto_uuid(struct arena *a)
{
	unsigned char b[16];
	if (crypto_random(b, sizeof(b)))
		return NULL;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	return arena_printf(a, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
			    b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

bool crypto_str_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	/* Length is not secret here (tokens have fixed shapes); content is. */
	return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64_encode(struct arena *a, const unsigned char *d, size_t len, const char *alphabet, bool pad)
{
	char *out = arena_alloc(a, (len + 2) / 3 * 4 + 1), *o = out;
	size_t i = 0;
	for (; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = alphabet[v >> 6 & 63];
		*o++ = alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < len ? (uint32_t)d[i + 1] << 8 : 0);
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		if (i + 1 < len)
			*o++ = alphabet[v >> 6 & 63];
		else if (pad)
			*o++ = '=';
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

char *base64_encode(struct arena *a, const void *data, size_t len)
{
	return b64_encode(a, data, len, b64std, true);
}

char *base64url_encode(struct arena *a, const void *data, size_t len)
{
	return b64_encode(a, data, len, b64url, false);
}

static int b64_value(int c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

static int b64_decode(struct arena *a, const char *s, bool url, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s);
	if (!url) {
		if (n % 4)
			return -1;
		size_t pad = 0;
		while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
			pad++;
		n -= pad;
	}
	if (n % 4 == 1)
		return -1;
	unsigned char *o = arena_alloc(a, n / 4 * 3 + 3 + 1);
	size_t olen = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char)s[i], url);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[olen++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be zero: one text, one value. */
	if (bits && (acc & ((1u << bits) - 1)))
		return -1;
	o[olen] = '\0';
	*out = o;
	*outlen = olen;
	return 0;
}

int base64_decode(struct arena *a, const char *s, unsigned char **out, size_t *outlen)
{
	return b64_decode(a, s, false, out, outlen);
}

int base64url_decode(struct arena *a, const char *s, unsigned char **out, size_t *outlen)
{
	return b64_decode(a, s, true, out, outlen);
}

char *hex_encode(struct arena *a, const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *d = data;
	char *out = arena_alloc(a, len * 2 + 1);
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[len * 2] = '\0';
	return out;
}
