/* The OAuth2 providers-file loader, from text (as it reads SB_PROVIDERS_FILE). */
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
	struct arena *a = fuzz_arena();
	char err[256];
	if (oauth_providers_parse(fuzz_text(a, data, size), err, sizeof(err)) == 0) {
		for (unsigned i = 0; oauth_provider_at(i); i++)
			oauth_provider_find(oauth_provider_at(i)->name);
	}
	oauth_providers_clear();
	return 0;
}
