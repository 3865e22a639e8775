/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intrusive chained hash table.  Buckets are singly linked lists; growth
 * rehashes every node into a doubled array using the stored hash, so keys
 * are never looked at again.
 */
#include <errno.h>

#include "lib/hmap.h"
#include "lib/mem.h"

void hmap_init(struct hmap *h)
{
	h->buckets = NULL;
	h->nbuckets = 0;
	h->count = 0;
}

void hmap_release(struct hmap *h)
{
	mem_free(h->buckets);
	hmap_init(h);
}

static int grow(struct hmap *h)
{
	size_t n = h->nbuckets ? h->nbuckets * 2 : 16;
	struct hmap_node **b = mem_calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < h->nbuckets; i++) {
		struct hmap_node *node = h->buckets[i];

		while (node) {
			struct hmap_node *next = node->next;
			size_t j = (size_t)node->hash & (n - 1);

			node->next = b[j];
			b[j] = node;
			node = next;
		}
	}
	mem_free(h->buckets);
	h->buckets = b;
	h->nbuckets = n;
	return 0;
}

int hmap_insert(struct hmap *h, struct hmap_node *n, uint64_t hash)
{
	int rc = 0;
	size_t j;

	if (h->count >= h->nbuckets)
		rc = grow(h);
	if (!h->nbuckets)
		return rc; /* first allocation failed: nothing inserted */
	n->hash = hash;
	j = (size_t)hash & (h->nbuckets - 1);
	n->next = h->buckets[j];
	h->buckets[j] = n;
	h->count++;
	return 0;
}

void hmap_remove(struct hmap *h, struct hmap_node *n)
{
	struct hmap_node **pp;

	if (!h->nbuckets)
		return;
	pp = &h->buckets[(size_t)n->hash & (h->nbuckets - 1)];
	while (*pp && *pp != n)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = n->next;
		h->count--;
	}
	n->next = NULL;
}

struct hmap_node *hmap_first(const struct hmap *h, uint64_t hash)
{
	struct hmap_node *n;

	if (!h->nbuckets)
		return NULL;
	n = h->buckets[(size_t)hash & (h->nbuckets - 1)];
	while (n && n->hash != hash)
		n = n->next;
	return n;
}

struct hmap_node *hmap_next(const struct hmap_node *n, uint64_t hash)
{
	struct hmap_node *m = n->next;

	while (m && m->hash != hash)
		m = m->next;
	return m;
}

void hmap_iter_init(const struct hmap *h, struct hmap_iter *it)
{
	it->bucket = 0;
	it->next = NULL;
	while (it->bucket < h->nbuckets && !h->buckets[it->bucket])
		it->bucket++;
	if (it->bucket < h->nbuckets)
		it->next = h->buckets[it->bucket];
}

struct hmap_node *hmap_iter_next(const struct hmap *h, struct hmap_iter *it)
{
	struct hmap_node *n = it->next;

	if (!n)
		return NULL;
	/* Step past n now, so the caller may remove it. */
	if (n->next) {
		it->next = n->next;
		return n;
	}
	it->next = NULL;
	for (it->bucket++; it->bucket < h->nbuckets; it->bucket++) {
		if (h->buckets[it->bucket]) {
			it->next = h->buckets[it->bucket];
			break;
		}
	}
	return n;
}

uint64_t hmap_hash(uint64_t seed, const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = seed;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t hmap_hash_u64(uint64_t seed, uint64_t v)
{
	/* splitmix64 finaliser mixed with the seed: integer keys such as inode
	 * numbers are sequential, which FNV would spread poorly. */
	v ^= seed;
	v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ull;
	v = (v ^ (v >> 27)) * 0x94d049bb133111ebull;
	return v ^ (v >> 31);
}
