/* SHA-256 and HMAC-SHA256 (RFC 2104) on a cached digest; see sha256.h. */
#include "core/sha256.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "core/crypto.h"

#define BLOCK 64

/* Fetched once; the handle is read-only afterwards and survives fork. */
static EVP_MD *sha256_md(void)
{
	static EVP_MD *md;
	if (!md)
		md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	return md;
}

static int digest(EVP_MD_CTX *c, const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 32;
	return EVP_DigestInit_ex(c, sha256_md(), NULL) == 1 && EVP_DigestUpdate(c, data, len) == 1 &&
			       EVP_DigestFinal_ex(c, out, &n) == 1
		       ? 0
		       : -1;
}

void crypto_sha256(const void *data, size_t len, unsigned char out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || !sha256_md() || digest(c, data, len, out))
		memset(out, 0, 32); /* callers compare digests: all-zero matches no real one */
	EVP_MD_CTX_free(c);
}

char *crypto_sha256_hex(struct arena *a, const void *data, size_t len)
{
	unsigned char md[32];
	crypto_sha256(data, len, md);
	return hex_encode(a, md, sizeof(md));
}

/* Starts ctx with (key ^ pad) absorbed: the key hashed first when longer than a block. */
static int pad_state(EVP_MD_CTX *ctx, const unsigned char *key, size_t klen, unsigned char pad)
{
	unsigned char block[BLOCK] = {0};
	memcpy(block, key, klen);
	for (size_t i = 0; i < BLOCK; i++)
		block[i] ^= pad;
	int ok = EVP_DigestInit_ex(ctx, sha256_md(), NULL) == 1 && EVP_DigestUpdate(ctx, block, BLOCK) == 1;
	OPENSSL_cleanse(block, sizeof(block));
	return ok ? 0 : -1;
}

int hmac_sha256_key_init(struct hmac_sha256_key *k, const void *key, size_t klen)
{
	unsigned char hashed[32];
	memset(k, 0, sizeof(*k));
	if (!sha256_md())
		return -1;
	if (klen > BLOCK) {
		crypto_sha256(key, klen, hashed);
		key = hashed;
		klen = sizeof(hashed);
	}
	k->inner = EVP_MD_CTX_new();
	k->outer = EVP_MD_CTX_new();
	int rc = k->inner && k->outer && !pad_state(k->inner, key, klen, 0x36) && !pad_state(k->outer, key, klen, 0x5c)
			 ? 0
			 : -1;
	OPENSSL_cleanse(hashed, sizeof(hashed));
	if (rc)
		hmac_sha256_key_free(k);
	return rc;
}

void hmac_sha256_key_free(struct hmac_sha256_key *k)
{
	EVP_MD_CTX_free(k->inner);
	EVP_MD_CTX_free(k->outer);
	k->inner = k->outer = NULL;
}

int hmac_sha256_keyed(const struct hmac_sha256_key *k, const void *msg, size_t mlen, unsigned char out[32])
{
	unsigned char ih[32];
	unsigned int n = 32;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && k->inner && EVP_MD_CTX_copy_ex(c, k->inner) == 1 && EVP_DigestUpdate(c, msg, mlen) == 1 &&
		 EVP_DigestFinal_ex(c, ih, &n) == 1 && EVP_MD_CTX_copy_ex(c, k->outer) == 1 &&
		 EVP_DigestUpdate(c, ih, sizeof(ih)) == 1 && EVP_DigestFinal_ex(c, out, &n) == 1;
	EVP_MD_CTX_free(c);
	OPENSSL_cleanse(ih, sizeof(ih));
	return ok ? 0 : -1;
}

void crypto_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32])
{
	struct hmac_sha256_key k;
	if (hmac_sha256_key_init(&k, key, klen) || hmac_sha256_keyed(&k, msg, mlen, out))
		memset(out, 0, 32);
	hmac_sha256_key_free(&k);
}
