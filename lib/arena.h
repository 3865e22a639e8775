/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bump allocator for objects that live and die together: the decoded form
 * of one Kafka request (its arrays and NUL-terminated strings) is allocated
 * here and dropped in one arena_release() when the response has been sent.
 *
 * Memory comes in chunks from lib/mem; the total is bounded by a hard max
 * given at init, so a request whose arrays claim millions of elements ends in
 * NULL (the decoder turns it into a malformed-request error), never in an
 * unbounded allocation.  Allocations are 8-byte aligned and zeroed.
 *
 * Not thread-safe; an arena belongs to one request on one thread.
 */
#ifndef SLUICE_ARENA_H
#define SLUICE_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head; /* current chunk, linked to older ones */
	size_t used;              /* bytes handed out plus chunk slack */
	size_t max;
};

/* max bounds the bytes allocated through this arena (0 = 64 MiB). */
void arena_init(struct arena *a, size_t max);
/* Free every chunk; the arena can be used again afterwards. */
void arena_release(struct arena *a);
/* n zeroed bytes, or NULL when past max or out of memory. */
void *arena_alloc(struct arena *a, size_t n);
/* nmemb * size zeroed bytes with an overflow check. */
void *arena_calloc(struct arena *a, size_t nmemb, size_t size);
/* Copy p[0..n) and add a NUL. */
char *arena_strndup(struct arena *a, const void *p, size_t n);

#endif
