/* SHA-256 and HMAC-SHA256 on a digest fetched from libcrypto once per process.
 *
 * OpenSSL 3's one-shot SHA256() and HMAC() look the algorithm up by name on every
 * call (EVP_Q_digest, EVP_Q_mac), which costs more than hashing a JWT. A key that is
 * used on every request (the JWT secret) is prepared once: its inner and outer pad
 * states are hashed ahead, so a MAC costs the message's blocks plus one. */
#ifndef SB_SHA256_H
#define SB_SHA256_H

#include <stddef.h>

struct evp_md_ctx_st;

struct hmac_sha256_key {
	struct evp_md_ctx_st *inner, *outer; /* states after key^ipad, key^opad */
};

/* Prepares k for key. Returns 0, or -1 (out of memory, libcrypto failure). */
int hmac_sha256_key_init(struct hmac_sha256_key *k, const void *key, size_t klen);
/* Releases what init took; k may be zeroed or already freed. */
void hmac_sha256_key_free(struct hmac_sha256_key *k);
/* out = HMAC-SHA256(key of k, msg). Returns 0 or -1. */
int hmac_sha256_keyed(const struct hmac_sha256_key *k, const void *msg, size_t mlen, unsigned char out[32]);

#endif
