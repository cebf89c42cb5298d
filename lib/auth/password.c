/* argon2id hashing; see password.h. Cost: t=2, m=19 MiB, p=1 (OWASP's minimum
 * recommendation), overridable for tests with SB_ARGON2_MEMORY_KIB. */
#include "auth/password.h"

#include <argon2.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"

#define SALT_LEN    16
#define HASH_LEN    32
#define T_COST	    2
#define PARALLELISM 1

static uint32_t memory_kib(void)
{
	return (uint32_t)config_int("SB_ARGON2_MEMORY_KIB", 19456, 1024, 1048576);
}

char *password_hash(struct arena *a, const char *password, size_t len)
{
	unsigned char salt[SALT_LEN];
	if (crypto_random(salt, sizeof(salt)))
		return NULL;
	uint32_t m = memory_kib();
	size_t enclen = argon2_encodedlen(T_COST, m, PARALLELISM, SALT_LEN, HASH_LEN, Argon2_id);
	char *out = arena_alloc(a, enclen + 1);
	if (argon2id_hash_encoded(T_COST, m, PARALLELISM, password, len, salt, SALT_LEN, HASH_LEN, out, enclen) !=
	    ARGON2_OK)
		return NULL;
	return out;
}

bool password_verify(const char *encoded, const char *password, size_t len)
{
	static char dummy[160];
	if (!encoded) {
		/* Built once per process with the live cost, so both paths do the same work. */
		if (!dummy[0]) {
			struct arena *a = arena_new();
			char *h = a ? password_hash(a, "switchboard-dummy-password", 26) : NULL;
			if (h && strlen(h) < sizeof(dummy))
				strcpy(dummy, h);
			arena_free(a);
		}
		if (dummy[0])
			argon2id_verify(dummy, password, len);
		return false;
	}
	return argon2id_verify(encoded, password, len) == ARGON2_OK;
}
