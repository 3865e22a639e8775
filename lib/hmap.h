/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An intrusive chained hash table for every lookup by key: the agent's
 * sources, builders, tailed files and inotify watches, the store's consumer
 * groups, committed offsets and idempotent producers.  The caller embeds a struct hmap_node in its
 * object, computes the hash and compares keys itself while walking a
 * bucket, so the table never allocates per entry and never copies keys.
 *
 *   for (n = hmap_first(&h, hash); n; n = hmap_next(n, hash))
 *           if (key_equal(container_of(n), key)) ...
 *
 * The bucket array doubles when the load passes 1.  hmap_insert() returns
 * -ENOMEM only when the first bucket array cannot be allocated (the node is
 * then not inserted); a later growth that fails keeps the smaller table and
 * inserts the node there.  Not thread-safe.
 */
#ifndef SLUICE_HMAP_H
#define SLUICE_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_node {
	struct hmap_node *next;
	uint64_t hash;
};

struct hmap {
	struct hmap_node **buckets;
	size_t nbuckets; /* power of two, 0 before the first insert */
	size_t count;
};

void hmap_init(struct hmap *h);
/* Frees the bucket array; the nodes belong to the caller. */
void hmap_release(struct hmap *h);
int hmap_insert(struct hmap *h, struct hmap_node *n, uint64_t hash);
void hmap_remove(struct hmap *h, struct hmap_node *n);
/* First node of hash's bucket with that exact hash, then the next one. */
struct hmap_node *hmap_first(const struct hmap *h, uint64_t hash);
struct hmap_node *hmap_next(const struct hmap_node *n, uint64_t hash);

/* Iterate every node:
 *   hmap_iter_init(&h, &it); while ((n = hmap_iter_next(&h, &it))) ...
 * Removing the node just returned is allowed; inserting is not. */
struct hmap_iter {
	size_t bucket;
	struct hmap_node *next;
};
void hmap_iter_init(const struct hmap *h, struct hmap_iter *it);
struct hmap_node *hmap_iter_next(const struct hmap *h, struct hmap_iter *it);

/* 64-bit FNV-1a, continued from seed (use HMAP_SEED to start). */
#define HMAP_SEED 0xcbf29ce484222325ull
uint64_t hmap_hash(uint64_t seed, const void *p, size_t n);
uint64_t hmap_hash_u64(uint64_t seed, uint64_t v);

#define hmap_entry(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif
