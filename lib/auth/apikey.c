/* Generation and shape of the platform's secrets; see apikey.h. */
#include "auth/apikey.h"

#include <openssl/crypto.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"

static const char digits62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

int base62_encode(const unsigned char *data, size_t len, char *out, size_t width)
{
	unsigned char num[64];
	if (len > sizeof(num))
		return -1;
	memcpy(num, data, len);
	for (size_t i = 0; i < width; i++)
		out[i] = '0';
	out[width] = '\0';
	/* Repeated division of the big-endian number by 62; digits come out least
	 * significant first and are written from the right. */
	size_t pos = width, start = 0;
	while (start < len) {
		unsigned rem = 0;
		for (size_t i = start; i < len; i++) {
			unsigned cur = rem * 256 + num[i];
			num[i] = (unsigned char)(cur / 62);
			rem = cur % 62;
		}
		while (start < len && num[start] == 0)
			start++;
		if (pos == 0) {
			OPENSSL_cleanse(num, sizeof(num));
			return -1;
		}
		out[--pos] = digits62[rem];
	}
	OPENSSL_cleanse(num, sizeof(num));
	return 0;
}

char *apikey_generate(struct arena *a, const char *prefix)
{
	unsigned char buf[APIKEY_RANDOM_BYTES];
	char body[APIKEY_BODY_LEN + 1];
	if (crypto_random(buf, sizeof(buf)) || base62_encode(buf, sizeof(buf), body, APIKEY_BODY_LEN))
		return NULL;
	OPENSSL_cleanse(buf, sizeof(buf));
	char *key = arena_printf(a, "%s%s", prefix, body);
	OPENSSL_cleanse(body, sizeof(body));
	return key;
}

bool apikey_well_formed(const char *s, const char *prefix)
{
	size_t pn = strlen(prefix);
	if (!s || strncmp(s, prefix, pn))
		return false;
	s += pn;
	size_t n = 0;
	for (; s[n]; n++)
		if (!strchr(digits62, s[n]) || n >= APIKEY_BODY_LEN)
			return false;
	return n == APIKEY_BODY_LEN;
}

char *apikey_display_prefix(struct arena *a, const char *key, const char *prefix)
{
	size_t n = strlen(prefix) + APIKEY_DISPLAY_LEN;
	return arena_strndup(a, key, strlen(key) < n ? strlen(key) : n);
}
