// SPDX-License-Identifier: GPL-2.0
/*
 * alloc.c - allocation failures on demand: the unit binary is linked with
 * --wrap=malloc,calloc,realloc, so the agent's own allocations come here
 * (libc's internal ones do not), and a test can make the Nth one fail.
 */
#include <stddef.h>
#include "tap.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);

static long fail_in = -1;	/* allocations left before one fails; -1 never */
long alloc_count;

void alloc_fail_after(long n)
{
	fail_in = n;
	alloc_count = 0;
}

static bool fail_now(void)
{
	alloc_count++;
	if (fail_in < 0)
		return false;
	return fail_in-- == 0;
}

void *__wrap_malloc(size_t size)
{
	return fail_now() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return fail_now() ? NULL : __real_realloc(p, size);
}
