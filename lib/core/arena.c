/* Block-chained bump allocator with a cleanup stack; see arena.h. */
#include "core/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 16384
#define ARENA_ALIGN 16

struct block {
	struct block *next;
	size_t size, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	arena_cleanup_fn fn;
	void *ptr;
};

struct arena {
	struct block *head; /* current block; the first block is kept across resets */
	struct block *first;
	struct cleanup *cleanups;
	size_t total;
};

static struct block *block_new(size_t size)
{
	struct block *b = malloc(sizeof(*b) + size);
	if (!b)
		return NULL;
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct arena *arena_new(void)
{
	struct arena *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->first = a->head = block_new(ARENA_BLOCK);
	if (!a->first) {
		free(a);
		return NULL;
	}
	return a;
}

void arena_reset(struct arena *a)
{
	while (a->cleanups) {
		struct cleanup *c = a->cleanups;
		a->cleanups = c->next; /* pop first: a cleanup never runs twice */
		c->fn(c->ptr);
	}
	struct block *b = a->head;
	while (b && b != a->first) {
		struct block *next = b->next;
		free(b);
		b = next;
	}
	a->head = a->first;
	a->first->used = 0;
	a->first->next = NULL;
	a->total = 0;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	arena_reset(a);
	free(a->first);
	free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need < n || need > SIZE_MAX - sizeof(struct block))
		abort();
	struct block *b = a->head;
	if (b->size - b->used < need) {
		size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;
		struct block *nb = block_new(size);
		if (!nb) {
			fputs("arena: out of memory\n", stderr);
			abort();
		}
		nb->next = a->head; /* newest first; the first block stays last */
		a->head = b = nb;
	}
	void *p = b->data + b->used;
	b->used += need;
	a->total += need;
	memset(p, 0, n);
	return p;
}

char *arena_memdup(struct arena *a, const void *src, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, src, n);
	p[n] = '\0';
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	n = strnlen(s, n); /* strndup's contract: stop at a NUL, never read past it */
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return arena_strdup(a, "");
	char *p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void *arena_defer(struct arena *a, arena_cleanup_fn fn, void *ptr)
{
	if (!ptr)
		return NULL;
	struct cleanup *c = arena_alloc(a, sizeof(*c));
	c->fn = fn;
	c->ptr = ptr;
	c->next = a->cleanups;
	a->cleanups = c;
	return ptr;
}

size_t arena_used(const struct arena *a)
{
	return a->total;
}
