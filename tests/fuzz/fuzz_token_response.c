/* The OAuth token-endpoint answer parser (JSON, or a form from GitHub-style endpoints);
 * the first byte picks the HTTP status it came with. */
#include "fuzz.h"
#include "oauth/oauth_client.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {200, 201, 400, 401, 500};
	struct arena *a = fuzz_arena();
	long status = size ? statuses[data[0] % 5] : 200;
	struct oauth_tokens t;
	const char *reason = NULL;
	memset(&t, 0, sizeof(t));
	enum oauth_result r =
		oauth_parse_token_response(a, status, size ? fuzz_text(a, data + 1, size - 1) : "", &t, &reason);
	if (r == OAUTH_OK && !t.access_token)
		abort(); /* success means a token */
	return 0;
}
