/* Password hashing with argon2id (libargon2), and a verification that costs the same
 * whether or not an account exists. */
#ifndef SB_PASSWORD_H
#define SB_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* Encoded argon2id hash ("$argon2id$v=19$m=...") of password, in the arena; NULL on failure. */
char *password_hash(struct arena *a, const char *password, size_t len);
/* True when password matches encoded. With encoded NULL it verifies against a dummy
 * hash of the same cost and returns false, so a missing account takes as long. */
bool password_verify(const char *encoded, const char *password, size_t len);

#endif
