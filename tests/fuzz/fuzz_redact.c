/* The request-log redaction: any body, as JSON and as a form, redacted and capped
 * (small caps too), and the RFC 3339 check of the log and audit filters. */
#include "core/redact.h"
#include "core/validate.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	const char *text = fuzz_text(a, data, size);
	bool cut;
	char *j = redact_body(a, text, size, true, REDACT_BODY_MAX, &cut);
	char *f = redact_body(a, text, size, false, 7, &cut);
	if ((j && strlen(j) > REDACT_BODY_MAX) || (f && cut && strlen(f) > 7))
		abort();
	validate_rfc3339(text);
	redact_is_secret_name(text);
	return 0;
}
