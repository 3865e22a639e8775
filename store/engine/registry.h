/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The persisted topic registry, data_dir/meta/topics.yaml: every topic's
 * name, Kafka topic id (a random v4 UUID given at creation, never all-zero)
 * and config (partitions, retention, segment size and age, max batch).
 * It is the source of truth: a partition directory whose topic is not in it
 * is the leftover of an interrupted create or delete.
 *
 * struct registry is the table as it is on disk, sorted by name; the engine
 * changes a copy's entry, saves, and only then applies the change in memory.
 * Not thread-safe (the engine serializes admin operations).
 */
#ifndef SLUICE_STORE_REGISTRY_H
#define SLUICE_STORE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/engine/engine_types.h"

#define REGISTRY_ID_LEN 16

struct registry_entry {
	char *name;
	struct topic_config cfg;
	uint8_t id[REGISTRY_ID_LEN]; /* all-zero: none yet (registry_assign_ids) */
	/* configs recorded but not acted on by the engine: "key=value\n" lines
	 * sorted by key (owned), or NULL for none */
	char *extra;
};

struct registry {
	struct registry_entry *v;
	size_t n, cap;
};

void registry_init(struct registry *r);
void registry_release(struct registry *r);
/* Index of name, or -1. */
long registry_find(const struct registry *r, const char *name);
/* Insert or replace the config (copies name; a replaced entry keeps its
 * id and extra, a new one has none).  0 or -ENOMEM. */
int registry_set(struct registry *r, const char *name, const struct topic_config *cfg);
/* Replace the extra configs of an existing entry (copied; NULL or "" for
 * none).  0, -ERR_NOT_FOUND, -ENOMEM, or -ERR_INVALID when extra is not
 * registry_extra_valid(). */
int registry_set_extra(struct registry *r, const char *name, const char *extra);
/* "key=value\n" lines, keys [a-z0-9._-] sorted and unique, values printable
 * ASCII without ' $ \ (they are written into YAML). */
bool registry_extra_valid(const char *extra);
/* Set the id of name's entry: 0 or -ERR_NOT_FOUND. */
int registry_set_id(struct registry *r, const char *name, const uint8_t id[REGISTRY_ID_LEN]);
/* A fresh topic id: random v4 UUID, never all-zero, never Kafka's reserved
 * metadata id (0...01), never one whose base64 form starts with '-' (Kafka's
 * Uuid.randomUuid rule).  0, or -EIO when the kernel gives no randomness. */
int registry_new_id(uint8_t id[REGISTRY_ID_LEN]);
/* Give every entry without an id a fresh one (a data dir from before topic
 * ids); the count assigned or a negative error.  The caller saves. */
int registry_assign_ids(struct registry *r);
void registry_remove(struct registry *r, const char *name);

/* Load meta_dir/topics.yaml; fields absent from an entry take defaults (an
 * absent id stays all-zero; two topics with one id are corrupt).
 * 0, -ENOENT, or -ERR_CORRUPT with why (file:line:col and reason) filled. */
int registry_load(struct registry *r, const char *meta_dir, const struct topic_config *defaults,
		  char *why, size_t whylen);
/* Atomic replace of meta_dir/topics.yaml. */
int registry_save(const struct registry *r, const char *meta_dir);

/* Range checks shared with topic create/alter: 0 or -ERR_INVALID. */
int registry_check_config(const struct topic_config *cfg);

#define REGISTRY_MAX_PARTITIONS 10000

#endif
