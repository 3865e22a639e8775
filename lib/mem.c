/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Counting allocator.  The count uses malloc_usable_size() instead of a
 * size header, so pointers stay plain malloc pointers (valgrind and ASan see
 * ordinary blocks) and the count reflects what the allocator really handed
 * out.
 */
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"

static atomic_size_t used;
static atomic_long fail_countdown;

static int inject_failure(void)
{
	long left = atomic_load_explicit(&fail_countdown, memory_order_relaxed);

	if (left <= 0)
		return 0;
	left = atomic_fetch_sub(&fail_countdown, 1);
	return left == 1;
}

static void *account(void *p)
{
	if (p)
		atomic_fetch_add_explicit(&used, malloc_usable_size(p), memory_order_relaxed);
	return p;
}

void *mem_alloc(size_t n)
{
	if (inject_failure())
		return NULL;
	return account(malloc(n ? n : 1));
}

void *mem_calloc(size_t nmemb, size_t size)
{
	if (inject_failure())
		return NULL;
	if (nmemb == 0 || size == 0) {
		nmemb = 1;
		size = 1;
	}
	return account(calloc(nmemb, size));
}

void *mem_realloc(void *p, size_t n)
{
	size_t old = p ? malloc_usable_size(p) : 0;
	void *q;

	if (inject_failure())
		return NULL;
	q = realloc(p, n ? n : 1);
	if (!q)
		return NULL;
	atomic_fetch_sub_explicit(&used, old, memory_order_relaxed);
	return account(q);
}

void mem_free(void *p)
{
	if (!p)
		return;
	atomic_fetch_sub_explicit(&used, malloc_usable_size(p), memory_order_relaxed);
	free(p);
}

char *mem_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = mem_alloc(len + 1);

	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *mem_strdup(const char *s)
{
	return mem_strndup(s, strlen(s));
}

size_t mem_used(void)
{
	return atomic_load_explicit(&used, memory_order_relaxed);
}

void mem_fail_after(long n)
{
	atomic_store(&fail_countdown, n > 0 ? n : 0);
}
