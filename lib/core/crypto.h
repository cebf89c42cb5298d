/* Cryptography for secrets at rest and tokens: AES-256-GCM sealing with a versioned
 * key and associated data, HMAC-SHA256, SHA-256, random tokens, base64, and
 * constant-time comparison. All on OpenSSL's libcrypto. */
#ifndef SB_CRYPTO_H
#define SB_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

#define CRYPTO_KEY_LEN	32
#define CRYPTO_MAX_KEYS 16

/* Reads SB_ENCRYPTION_KEYS ("1:<base64 32 bytes>,2:<base64>") and
 * SB_ENCRYPTION_KEY_VERSION (the key that seals; default: the highest). Returns 0, or
 * -1 with a message on stderr when a key is malformed or none is configured. */
int crypto_keys_load(void);
/* Installs one key directly (tests, tools). version 1..255. */
int crypto_key_add(unsigned version, const unsigned char key[CRYPTO_KEY_LEN], bool current);
void crypto_keys_clear(void);
/* Version of the key that seals new secrets, 0 when none. */
unsigned crypto_current_key_version(void);

/* Seals plain[0..len) bound to aad (e.g. "user_integrations.config.password:<user id>").
 * *out is base64url text "sb1.<key version>.<nonce|ciphertext|tag>" in the arena.
 * Returns 0, or -1 when no key is loaded or OpenSSL fails. */
int crypto_seal(struct arena *a, const void *plain, size_t len, const char *aad, char **out);
/* Opens what crypto_seal produced with the same aad. *plain is NUL-terminated in the
 * arena. Returns 0, or -1 when the text is malformed, the key version is unknown, or
 * authentication fails (tampered, or sealed for another place). */
int crypto_open(struct arena *a, const char *sealed, const char *aad, char **plain, size_t *len);
/* Key version a sealed text names, or 0 when malformed. */
unsigned crypto_sealed_version(const char *sealed);

void crypto_sha256(const void *data, size_t len, unsigned char out[32]);
/* Lower-case hex SHA-256 of s, in the arena. */
char *crypto_sha256_hex(struct arena *a, const void *data, size_t len);
void crypto_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32]);

/* Fills buf with n bytes from the CSPRNG; returns 0 or -1. */
int crypto_random(void *buf, size_t n);
/* base64url (no padding) of nbytes random bytes, in the arena; NULL on RNG failure. */
char *crypto_token(struct arena *a, size_t nbytes);

/* A random (version 4) UUID in canonical text, in the arena; NULL on RNG failure. */
char *crypto_uuid(struct arena *a);

/* Constant-time equality of two n-byte buffers. */
bool crypto_equal(const void *a, const void *b, size_t n);
/* Constant-time in the content for strings of equal length; false when lengths differ. */
bool crypto_str_equal(const char *a, const char *b);

/* Encoders return NUL-terminated text in the arena. Decoders return 0 and fill
 * *out and *outlen (NUL-terminated too), or -1 on an invalid character or length. */
char *base64_encode(struct arena *a, const void *data, size_t len);    /* standard, padded */
char *base64url_encode(struct arena *a, const void *data, size_t len); /* url-safe, unpadded */
int base64_decode(struct arena *a, const char *s, unsigned char **out, size_t *outlen);
int base64url_decode(struct arena *a, const char *s, unsigned char **out, size_t *outlen);
char *hex_encode(struct arena *a, const void *data, size_t len);

#endif
