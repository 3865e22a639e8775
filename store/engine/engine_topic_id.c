/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Topic ids: the by-id index over the topic table and the two lookups
 * (engine.h).  The ids themselves live in the registry (registry.c), which
 * gives and persists them; the index mirrors the table under topics_lock,
 * so a lookup is one hash probe however many topics there are.
 */
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "store/engine/engine_int.h"

static uint64_t id_hash(const uint8_t id[ENGINE_TOPIC_ID_LEN])
{
	return hmap_hash(HMAP_SEED, id, ENGINE_TOPIC_ID_LEN);
}

int engine_topic_index_id(struct engine *log, struct topic *t)
{
	return hmap_insert(&log->topics_by_id, &t->id_node, id_hash(t->id));
}

void engine_topic_unindex_id(struct engine *log, struct topic *t)
{
	hmap_remove(&log->topics_by_id, &t->id_node);
}

static struct topic *find_id(const struct engine *log, const uint8_t id[ENGINE_TOPIC_ID_LEN])
{
	uint64_t h = id_hash(id);

	for (struct hmap_node *n = hmap_first(&log->topics_by_id, h); n; n = hmap_next(n, h)) {
		struct topic *t = hmap_entry(n, struct topic, id_node);

		if (memcmp(t->id, id, ENGINE_TOPIC_ID_LEN) == 0)
			return t;
	}
	return NULL;
}

int engine_topic_id(struct engine *log, const char *name, uint8_t id[ENGINE_TOPIC_ID_LEN])
{
	struct topic *t;
	int rc = 0;

	pthread_rwlock_rdlock(&log->topics_lock);
	t = engine_topic_find(log, name);
	if (t)
		memcpy(id, t->id, ENGINE_TOPIC_ID_LEN);
	else
		rc = -ERR_NOT_FOUND;
	pthread_rwlock_unlock(&log->topics_lock);
	return rc;
}

int engine_topic_by_id(struct engine *log, const uint8_t id[ENGINE_TOPIC_ID_LEN], char *name,
		       size_t cap)
{
	static const uint8_t zero[ENGINE_TOPIC_ID_LEN];
	struct topic *t;
	int rc = -ERR_NOT_FOUND;

	if (memcmp(id, zero, sizeof(zero)) == 0)
		return rc;
	pthread_rwlock_rdlock(&log->topics_lock);
	t = find_id(log, id);
	if (t)
		rc = (size_t)snprintf(name, cap, "%s", t->name) < cap ? 0 : -ERR_TOO_LARGE;
	pthread_rwlock_unlock(&log->topics_lock);
	return rc;
}
