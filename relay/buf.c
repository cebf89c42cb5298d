/* Byte buffers; see relay.h. */
#include <stdlib.h>
#include <string.h>

#include "relay.h"

int buf_add(struct buf *b, const void *p, size_t n, size_t max)
{
	if (b->len + n > max)
		return -1;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *d = realloc(b->d, cap);
		if (!d)
			return -1;
		b->d = d;
		b->cap = cap;
	}
	if (n)
		memcpy(b->d + b->len, p, n);
	b->len += n;
	return 0;
}

void buf_drop(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		/* An idle session keeps no large buffer. */
		if (b->cap > 16384) {
			free(b->d);
			b->d = NULL;
			b->cap = 0;
		}
		return;
	}
	memmove(b->d, b->d + n, b->len - n);
	b->len -= n;
}

void buf_free(struct buf *b)
{
	free(b->d);
	b->d = NULL;
	b->len = b->cap = 0;
}
