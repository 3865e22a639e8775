/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation wrappers that count the bytes in use, so a daemon can report and
 * cap its own memory, and a test hook that makes the Nth allocation from now
 * fail, so error paths get exercised.
 *
 * Every function is thread-safe.  A failed allocation returns NULL; callers
 * turn that into -ENOMEM.  mem_free(NULL) is a no-op.
 */
#ifndef SLUICE_MEM_H
#define SLUICE_MEM_H

#include <stddef.h>

void *mem_alloc(size_t n);
void *mem_calloc(size_t nmemb, size_t size);
void *mem_realloc(void *p, size_t n);
void mem_free(void *p);
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t n);

/* Bytes currently allocated through these wrappers (usable sizes). */
size_t mem_used(void);

/* Test hook: the nth allocation from now (1 = the next one) fails, once.
 * n <= 0 disables injection. */
void mem_fail_after(long n);

#endif
