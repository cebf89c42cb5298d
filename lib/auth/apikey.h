/* Secrets handed to outside systems: API keys ("sb_..."), OAuth client ids and secrets,
 * opaque access and refresh tokens. Each is a prefix plus 32 random bytes in base62
 * (43 characters: no padding, no punctuation, safe in headers and forms, and easy for a
 * secret scanner to recognise by its prefix). Only SHA-256 of a secret is stored. */
#ifndef SB_APIKEY_H
#define SB_APIKEY_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

#define APIKEY_PREFIX	     "sb_"
#define ACCESS_TOKEN_PREFIX  "sbat_"
#define REFRESH_TOKEN_PREFIX "sbrt_"
#define CLIENT_ID_PREFIX     "sbc_"
#define CLIENT_SECRET_PREFIX "sbcs_"

#define APIKEY_RANDOM_BYTES 32
#define APIKEY_BODY_LEN	    43 /* base62 digits of 32 bytes: ceil(256 / log2(62)) */
#define APIKEY_DISPLAY_LEN  8  /* body characters shown after the prefix in listings */

/* Base62 (0-9A-Za-z) of the big-endian number in data[0..len), left-padded with '0'
 * to exactly width digits. Returns 0, or -1 when width is too small for the value.
 * out must hold width + 1 bytes. */
int base62_encode(const unsigned char *data, size_t len, char *out, size_t width);

/* A new secret: prefix + base62 of APIKEY_RANDOM_BYTES random bytes, in the arena.
 * NULL when the random generator fails. */
char *apikey_generate(struct arena *a, const char *prefix);

/* True when s is prefix followed by exactly APIKEY_BODY_LEN base62 characters: checked
 * before any database lookup, so malformed input costs nothing. */
bool apikey_well_formed(const char *s, const char *prefix);

/* The part of key shown in listings: prefix + the first APIKEY_DISPLAY_LEN characters. */
char *apikey_display_prefix(struct arena *a, const char *key, const char *prefix);

#endif
