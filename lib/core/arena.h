/* Per-request memory arena: allocations live until arena_reset(), so handlers never
 * free piece by piece. Foreign resources (PGresult, json_object) are registered as
 * cleanups and released, newest first, by the same reset. */
#ifndef SB_ARENA_H
#define SB_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

typedef void (*arena_cleanup_fn)(void *ptr);

/* Returns a new arena, or NULL when out of memory. */
struct arena *arena_new(void);
/* Runs the cleanups and frees every block but the first, ready for the next request. */
void arena_reset(struct arena *a);
/* arena_reset() and then frees the arena itself. NULL is ignored. */
void arena_free(struct arena *a);

/* Zeroed, 16-byte aligned memory owned by the arena. Aborts when out of memory:
 * a responder cannot answer sensibly without memory and its supervisor restarts it. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* Exactly n bytes of p (NULs included), with a NUL after them. */
char *arena_memdup(struct arena *a, const void *p, size_t n);
/* At most n bytes of s, stopping at a NUL (as strndup), NUL-terminated. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Registers fn(ptr) to run at reset; ptr NULL is ignored. Returns ptr for chaining. */
void *arena_defer(struct arena *a, arena_cleanup_fn fn, void *ptr);

/* Bytes handed out since the last reset (for logging and tests). */
size_t arena_used(const struct arena *a);

#endif
