/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bump allocator.  Chunks grow geometrically from 4 KiB so a small request
 * costs one allocation and a large one a logarithmic number; an allocation
 * larger than half a chunk gets a chunk of its own so it does not waste the
 * tail of the current one.
 */
#include <stdint.h>
#include <string.h>

#include "lib/mem.h"
#include "lib/arena.h"

#define ARENA_FIRST_CHUNK 4096
#define ARENA_DEFAULT_MAX (64u << 20)

struct arena_chunk {
	struct arena_chunk *next;
	size_t cap;
	size_t off;
	/* max_align_t keeps data aligned for any object */
	max_align_t data[];
};

void arena_init(struct arena *a, size_t max)
{
	a->head = NULL;
	a->used = 0;
	a->max = max ? max : ARENA_DEFAULT_MAX;
}

void arena_release(struct arena *a)
{
	struct arena_chunk *c = a->head;

	while (c) {
		struct arena_chunk *next = c->next;

		mem_free(c);
		c = next;
	}
	a->head = NULL;
	a->used = 0;
}

static struct arena_chunk *chunk_new(struct arena *a, size_t need)
{
	size_t cap = a->head ? a->head->cap * 2 : ARENA_FIRST_CHUNK;
	struct arena_chunk *c;

	if (cap > (1u << 20))
		cap = 1u << 20;
	if (cap < need)
		cap = need;
	if (cap > a->max - a->used)
		cap = need; /* last chance: exactly what is needed */
	if (cap > a->max - a->used)
		return NULL;
	c = mem_alloc(sizeof(*c) + cap);
	if (!c)
		return NULL;
	c->cap = cap;
	c->off = 0;
	a->used += cap;
	return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t size = (n + 7) & ~(size_t)7;
	void *p;

	if (n == 0)
		size = 8;
	if (size < n)
		return NULL;
	if (!c || c->cap - c->off < size) {
		struct arena_chunk *nc = chunk_new(a, size);

		if (!nc)
			return NULL;
		if (c && size > c->cap / 2 && c->cap - c->off >= 64) {
			/* keep filling the current chunk: put the big one behind it */
			nc->next = c->next;
			c->next = nc;
			nc->off = size;
			p = (uint8_t *)nc->data;
			memset(p, 0, size);
			return p;
		}
		nc->next = c;
		a->head = nc;
		c = nc;
	}
	p = (uint8_t *)c->data + c->off;
	c->off += size;
	memset(p, 0, size);
	return p;
}

void *arena_calloc(struct arena *a, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		return NULL;
	return arena_alloc(a, nmemb * size);
}

char *arena_strndup(struct arena *a, const void *p, size_t n)
{
	char *s;

	if (n == SIZE_MAX)
		return NULL;
	s = arena_alloc(a, n + 1);
	if (!s)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}
