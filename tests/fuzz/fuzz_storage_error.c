/* The object stores' error documents (lib/net/s3.c, s3_failure: <Code> and <Message> of
 * an S3 or Azure Blob error) and the key, bucket, region, endpoint and Azure name checks
 * on arbitrary bytes: the reason handed to the user must be bounded and free of control
 * characters. */
#include "fuzz.h"
#include "net/azblob.h"
#include "net/s3.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	char *text = (char *)fuzz_text(a, data, size);
	struct outbound_response r = {.error = OUTBOUND_OK, .status = 403, .body = text, .len = size};
	const char *why = s3_failure(a, &r);
	if (!why || strlen(why) > 700)
		abort();
	for (const char *c = why; *c; c++)
		if ((unsigned char)*c < 0x20)
			abort();
	s3_check_key(text);
	s3_check_bucket(text);
	s3_check_region(text);
	s3_check_endpoint(text, true);
	azblob_check_account(text);
	azblob_check_container(text);
	azblob_check_key(text);
	struct s3_target t = {.endpoint = text, .bucket = "b"};
	s3_url(a, &t, "k");
	return 0;
}
