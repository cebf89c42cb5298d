/* The form and query parsers: application/x-www-form-urlencoded bodies, HTTP Basic
 * credentials, percent-decoding and bounded integers from a query string. */
#include "core/urlenc.h"
#include "core/validate.h"
#include "fuzz.h"
#include "http/form.h"
#include "http/request.h"

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
	struct kv kv[REQUEST_MAX_FORM];
	size_t n = 0;
	form_parse(a, text, size, kv, REQUEST_MAX_FORM, &n);
	const char *user, *pass;
	basic_auth_parse(a, text, &user, &pass);
	url_decode(a, text, size, true);
	url_decode(a, text, size, false);
	form_get(a, text, "grant_type");
	long v;
	validate_query_int(text, 20, 1, 100, &v);
	return 0;
}
