/* The FastCGI parameter parser: each input line is one NAME=VALUE parameter, as
 * FCGX_Accept_r hands them over (method, URI with path and query, headers, length). */
#include "fuzz.h"
#include "http/request.h"

#define MAX_PARAMS 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	char *text = fuzz_text(a, data, size), *save = NULL;
	char *envp[MAX_PARAMS + 1];
	size_t n = 0;
	for (char *line = strtok_r(text, "\n", &save); line && n < MAX_PARAMS; line = strtok_r(NULL, "\n", &save))
		envp[n++] = line;
	envp[n] = NULL;
	struct request rq;
	memset(&rq, 0, sizeof(rq));
	rq.arena = a;
	if (request_parse(&rq, envp) == 0) {
		request_header(&rq, "authorization");
		request_query(&rq, "limit");
		request_cookie(&rq, "sb_oauth");
		request_is_json(&rq);
	}
	return 0;
}
