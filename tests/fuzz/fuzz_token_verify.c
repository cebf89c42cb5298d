/* token_verify on arbitrary text: our HS256 JWTs and the host platform's. */
#include <time.h>

#include "auth/token.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return token_configure("fuzz-secret-0123456789abcdef0123456789", "switchboard", "switchboard-api",
			       "fuzz-host-secret-0123456789abcdef012345", "host-platform", "switchboard-api");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	struct token_claims c;
	memset(&c, 0, sizeof(c));
	if (token_verify(a, fuzz_text(a, data, size), 1767225600, &c) == TOKEN_OK && !c.sub)
		abort(); /* a valid token names its subject */
	return 0;
}
