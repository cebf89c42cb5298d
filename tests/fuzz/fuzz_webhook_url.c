/* The webhook receiver URL rules. Private targets are allowed here so that no input
 * makes the fuzzer wait on DNS: the rules themselves (scheme, host, credentials,
 * length) are what is fuzzed. */
#include <stdlib.h>

#include "fuzz.h"
#include "webhooks/webhook.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "1", 1);
	setenv("SB_WEBHOOK_ALLOW_HTTP", "1", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	webhook_url_check(a, fuzz_text(a, data, size));
	return 0;
}
