/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group coordinator's committed offsets: OffsetCommit (membership
 * checked by the state machine, partitions against the engine's topics, then
 * journalled by store/groups/offsets.c, answered once durable), the reads of
 * committed offsets, and dropping those of a deleted topic.
 */
#include <string.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "store/groups/groups.h"
#include "store/groups/groups_int.h"
#include "store/kafka/kafka_errors.h"

static void commit_free_priv(struct groups_commit *c)
{
	mem_free(c->valid);
	mem_free(c->valid_idx);
	c->valid = NULL;
	c->valid_idx = NULL;
}

/* A group created for a commit that stored nothing is not kept. */
static void commit_gc(struct groups_commit *c)
{
	struct group *grp = groups_find(c->g, c->group_id);

	if (grp)
		groups_gc(grp);
}

static void commit_synced(struct offsets_commit *oc, int rc)
{
	struct groups_commit *c = oc->arg;

	for (size_t i = 0; rc < 0 && i < oc->n; i++)
		c->errors[c->valid_idx[i]] = KERR_COORDINATOR_NOT_AVAILABLE;
	commit_free_priv(c);
	commit_gc(c);
	c->done(c);
}

void groups_commit(struct groups *g, struct groups_commit *c)
{
	int16_t err = groups_commit_check(g, c);
	size_t nv = 0;
	int rc;

	c->g = g;
	c->valid = NULL;
	c->valid_idx = NULL;
	for (size_t i = 0; i < c->n; i++)
		c->errors[i] = err;
	if (err || c->n == 0)
		goto done;
	c->valid = mem_calloc(c->n, sizeof(*c->valid));
	c->valid_idx = mem_calloc(c->n, sizeof(*c->valid_idx));
	if (!c->valid || !c->valid_idx) {
		for (size_t i = 0; i < c->n; i++)
			c->errors[i] = KERR_COORDINATOR_NOT_AVAILABLE;
		goto done;
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct offsets_record *r = &c->records[i];
		struct topic_config tc;

		if (engine_topic_config(g->log, r->topic, &tc) < 0 || r->partition < 0 ||
		    r->partition >= tc.partitions) {
			c->errors[i] = KERR_UNKNOWN_TOPIC_OR_PARTITION;
			continue;
		}
		if (r->metadata && strlen(r->metadata) > OFFSETS_METADATA_MAX) {
			c->errors[i] = KERR_OFFSET_METADATA_TOO_LARGE;
			continue;
		}
		c->valid[nv] = *r;
		c->valid_idx[nv] = i;
		nv++;
	}
	if (nv == 0)
		goto done;
	memset(&c->oc, 0, sizeof(c->oc));
	c->oc.group = c->group_id;
	c->oc.records = c->valid;
	c->oc.n = nv;
	c->oc.done = commit_synced;
	c->oc.arg = c;
	rc = offsets_commit(g->offsets, &c->oc);
	if (rc == 0)
		return; /* commit_synced finishes it */
	for (size_t i = 0; i < nv; i++)
		c->errors[c->valid_idx[i]] = KERR_COORDINATOR_NOT_AVAILABLE;
done:
	commit_free_priv(c);
	commit_gc(c);
	c->done(c);
}

void groups_commit_cancel(struct groups *g, struct groups_commit *c)
{
	offsets_cancel(g->offsets, &c->oc);
	commit_free_priv(c);
}

bool groups_committed(struct groups *g, const char *group_id, const char *topic, int32_t partition,
		      struct offsets_value *v)
{
	return offsets_get(g->offsets, group_id, topic, partition, v);
}

void groups_committed_foreach(struct groups *g, const char *group_id,
			      void (*fn)(void *arg, const char *group, const char *topic,
					 int32_t partition, const struct offsets_value *v),
			      void *arg)
{
	offsets_foreach(g->offsets, group_id, fn, arg);
}

void groups_topic_deleted(struct groups *g, const char *topic)
{
	size_t n = offsets_delete_topic(g->offsets, topic);

	if (n)
		log_info("groups: dropped %zu committed offsets of deleted topic %s", n, topic);
}

struct offsets *groups_offsets(struct groups *g)
{
	return g ? g->offsets : NULL;
}
