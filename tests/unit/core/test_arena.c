/* Unit tests of lib/core/arena.c: alignment, zeroing, blocks larger than the default,
 * strdup/printf, LIFO cleanups that run once per reset, reuse after reset, arena_used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/arena.h"

#define BLOCK 16384 /* ARENA_BLOCK in arena.c */

static int setup(void **state)
{
	*state = arena_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	arena_free(*state);
	return 0;
}

static void test_alignment(void **state)
{
	struct arena *a = *state;
	static const size_t sizes[] = {1, 3, 7, 15, 16, 17, 31, 100, 1000, BLOCK + 5, 2, 9};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		void *p = arena_alloc(a, sizes[i]);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
	}
}

static void test_zeroed_even_when_reused(void **state)
{
	struct arena *a = *state;
	unsigned char *p = arena_alloc(a, 256);
	for (size_t i = 0; i < 256; i++)
		assert_int_equal(p[i], 0);
	memset(p, 0xAB, 256);
	arena_reset(a);
	unsigned char *q = arena_alloc(a, 256);
	assert_ptr_equal(p, q); /* the first block is kept and reused */
	for (size_t i = 0; i < 256; i++)
		assert_int_equal(q[i], 0);
}

static void test_large_allocation(void **state)
{
	struct arena *a = *state;
	char *small = arena_strdup(a, "before");
	size_t big_n = 3 * BLOCK + 123;
	unsigned char *big = arena_alloc(a, big_n);
	for (size_t i = 0; i < big_n; i++)
		assert_int_equal(big[i], 0);
	memset(big, 0x5A, big_n);
	char *after = arena_strdup(a, "after");
	/* Earlier and later allocations are untouched by the big one. */
	assert_string_equal(small, "before");
	assert_string_equal(after, "after");
	assert_int_equal(big[0], 0x5A);
	assert_int_equal(big[big_n - 1], 0x5A);
	assert_true(after < (char *)big || after >= (char *)big + big_n);
	/* Many blocks' worth of small allocations stay distinct and intact. */
	char *strs[2000];
	for (int i = 0; i < 2000; i++)
		strs[i] = arena_printf(a, "item-%d", i);
	for (int i = 0; i < 2000; i++) {
		char want[16];
		snprintf(want, sizeof(want), "item-%d", i);
		assert_string_equal(strs[i], want);
	}
}

static void test_strdup_and_printf(void **state)
{
	struct arena *a = *state;
	const char *src = "hello";
	char *d = arena_strdup(a, src);
	assert_ptr_not_equal(d, src);
	assert_string_equal(d, "hello");
	assert_null(arena_strdup(a, NULL));

	char *n = arena_strndup(a, "abcdef", 3);
	assert_string_equal(n, "abc");
	char *e = arena_strndup(a, "abc", 0);
	assert_string_equal(e, "");
	/* n past the end of the string: stops at its NUL, never reads beyond it (the
	 * ASan run of this test catches an over-read of the heap copy). */
	char *heap = strdup("hi");
	assert_non_null(heap);
	char *bounded = arena_strndup(a, heap, 4096);
	assert_string_equal(bounded, "hi");
	free(heap);

	assert_string_equal(arena_printf(a, "%s-%d-%05.1f", "x", 42, 3.14159), "x-42-003.1");
	assert_string_equal(arena_printf(a, "%s", ""), "");

	/* Output longer than a block. */
	char long_in[BLOCK + 100];
	memset(long_in, 'q', sizeof(long_in) - 1);
	long_in[sizeof(long_in) - 1] = '\0';
	char *lp = arena_printf(a, "<%s>", long_in);
	assert_int_equal(strlen(lp), sizeof(long_in) - 1 + 2);
	assert_int_equal(lp[0], '<');
	assert_int_equal(lp[1], 'q');
	assert_int_equal(lp[strlen(lp) - 1], '>');
}

static int order[8];
static int norder;

static void record(void *p)
{
	if (norder < 8)
		order[norder] = *(int *)p;
	norder++;
}

static void test_cleanups_lifo_once(void **state)
{
	struct arena *a = *state;
	static int one = 1, two = 2, three = 3;
	norder = 0;
	assert_ptr_equal(arena_defer(a, record, &one), &one);
	assert_ptr_equal(arena_defer(a, record, &two), &two);
	assert_null(arena_defer(a, record, NULL)); /* ignored, never called */
	assert_ptr_equal(arena_defer(a, record, &three), &three);
	assert_int_equal(norder, 0);

	arena_reset(a);
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 3);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 1);

	arena_reset(a);
	assert_int_equal(norder, 3); /* nothing runs twice */

	/* arena_free runs what is pending too. */
	struct arena *b = arena_new();
	assert_non_null(b);
	arena_defer(b, record, &two);
	arena_free(b);
	assert_int_equal(norder, 4);
	assert_int_equal(order[3], 2);
	arena_free(NULL);
}

static void test_reset_reuse(void **state)
{
	struct arena *a = *state;
	char *p = arena_alloc(a, 64);
	arena_alloc(a, 5 * BLOCK); /* a second block, freed by reset */
	arena_alloc(a, 100);
	arena_reset(a);
	assert_int_equal(arena_used(a), 0);
	char *q = arena_alloc(a, 64);
	assert_ptr_equal(p, q);
	assert_string_equal(arena_strdup(a, "again"), "again");
}

static void test_used(void **state)
{
	struct arena *a = *state;
	assert_int_equal(arena_used(a), 0);
	arena_alloc(a, 1);
	assert_int_equal(arena_used(a), 16);
	arena_alloc(a, 17);
	assert_int_equal(arena_used(a), 48);
	arena_alloc(a, 0);
	assert_int_equal(arena_used(a), 48);
	arena_alloc(a, 20000);
	assert_int_equal(arena_used(a), 20048);
	arena_strdup(a, "abc"); /* 4 bytes -> 16 */
	assert_int_equal(arena_used(a), 20064);
	arena_reset(a);
	assert_int_equal(arena_used(a), 0);
}

/* A size whose block header would wrap size_t must abort, never hand out a tiny block. */
static struct arena *volatile child_arena; /* reachable when the child dies: no leak report */

static void test_huge_allocation_aborts(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka's crash handlers would turn a SIGSEGV into a malloc abort. */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		child_arena = arena_new();
		char *p = arena_alloc(child_arena, SIZE_MAX - 15);
		p[0] = 1;
		_exit(0);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alignment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zeroed_even_when_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_allocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strdup_and_printf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cleanups_lifo_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_used, setup, teardown),
		cmocka_unit_test(test_huge_allocation_aborts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
