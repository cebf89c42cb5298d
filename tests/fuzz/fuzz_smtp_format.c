/* The SMTP client's composition of untrusted text (lib/net/smtp_client.c): any subject,
 * recipient and body. An accepted address holds no space, bracket or line break; a
 * composed message's header section holds only our own header lines (and folded
 * continuations of the subject), so no input can add a header or start the body early. */
#include <string.h>

#include "fuzz.h"
#include "net/smtp_client.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_headers(const char *t)
{
	static const char *const names[] = {"Date: ", "From: ", "To: ", "Subject: ", "Message-ID: ", "MIME-Version: ",
					    "Content-Type: ", "Content-Transfer-Encoding: ", "Auto-Submitted: ", " "};
	const char *end = strstr(t, "\r\n\r\n");
	if (!end)
		abort();
	for (const char *line = t; line < end;) {
		bool known = false;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !known; i++)
			known = !strncmp(line, names[i], strlen(names[i]));
		if (!known)
			abort();
		const char *nl = strstr(line, "\r\n");
		for (const char *c = line; c < nl; c++)
			if (*c == '\r' || *c == '\n')
				abort();
		line = nl + 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	char *in = fuzz_text(a, data, size);
	if (smtp_address_ok(in) && strpbrk(in, " \r\n<>\t"))
		abort();
	struct smtp_message m = {.from = "sb@example.org", .to = "u@example.com", .subject = in, .text = in};
	char *t = smtp_format(a, &m, 0);
	if (t)
		check_headers(t);
	m.subject = "s";
	m.to = in;
	t = smtp_format(a, &m, 0);
	if (t)
		check_headers(t);
	return 0;
}
