/* The check of a ws:// broker's answer to the relay's WebSocket upgrade
 * (lib/mqtt/ws_client.c, ws_client_check): the bytes are the broker's, cut as the relay
 * cuts them (up to and with the first blank line; the whole input when there is none),
 * in a buffer of exactly that size so that a read past it is ASan's. An accepted answer
 * must be a 101 ending in its blank line and carry the accept value of our key. */
#define _GNU_SOURCE
#include "fuzz.h"
#include "mqtt/ws_client.h"

/* RFC 6455 §1.3's example key. */
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *end = size >= 4 ? memmem(data, size, "\r\n\r\n", 4) : NULL;
	size_t len = end ? (size_t)(end - data) + 4 : size;
	char *head = malloc(len ? len : 1);
	if (!head)
		return 0;
	memcpy(head, data, len);
	const char *why = ws_client_check(head, len, KEY);
	if (!why) {
		char accept[29];
		if (ws_accept_of(KEY, accept) || len < 16 || memcmp(head, "HTTP/1.1 101", 12) ||
		    memcmp(head + len - 4, "\r\n\r\n", 4) || !memmem(head, len, accept, 28))
			abort(); /* accepted, so it must be the upgrade of our key */
	} else if (!*why)
		abort();
	free(head);
	return 0;
}
