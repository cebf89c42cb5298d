/* Shared bits of the libFuzzer targets (tests/fuzz/fuzz_*.c): the input as a NUL-
 * terminated string, and one arena reused (and reset) across runs. */
#ifndef SB_FUZZ_H
#define SB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A NUL-terminated copy of the input in the arena (inner NULs stay: C sees a prefix). */
static inline char *fuzz_text(struct arena *a, const uint8_t *data, size_t size)
{
	return arena_memdup(a, data, size);
}

static inline struct arena *fuzz_arena(void)
{
	static struct arena *a;
	if (!a)
		a = arena_new();
	else
		arena_reset(a);
	return a;
}

#endif
