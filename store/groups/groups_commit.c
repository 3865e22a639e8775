/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group coordinator's committed offsets: OffsetCommit (membership
 * checked by the state machine, partitions against the engine's topics, then
 * journalled by store/groups/offsets.c, answered once durable), the reads of
 * committed offsets, dropping those of a deleted topic, and DeleteGroups /
 * OffsetDelete (tombstones through the same journal, answered once durable).
 */
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
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

/* ---------------------------------------------------------------- DeleteGroups, OffsetDelete */

bool groups_subscription_has(const uint8_t *meta, int32_t len, const char *topic)
{
	struct cursor c;
	size_t tlen = strlen(topic);
	int32_t n;

	if (!meta || len < 6)
		return true;
	cursor_init(&c, meta, (size_t)len);
	(void)cursor_be16(&c); /* version: every version starts with the topics */
	n = (int32_t)cursor_be32(&c);
	for (int32_t i = 0; i < n && cursor_ok(&c); i++) {
		uint16_t sl = cursor_be16(&c);
		const uint8_t *s = cursor_take(&c, sl);

		if (s && sl == tlen && memcmp(s, topic, tlen) == 0)
			return true;
	}
	return !cursor_ok(&c) || n < 0;
}

/* Whether an active member of grp subscribes to topic: the metadata of the
 * selected protocol, or of every protocol before one is selected. */
static bool group_subscribes(const struct group *grp, const char *topic)
{
	for (const struct gmember *m = grp->members; m; m = m->next) {
		const struct gproto *p = groups_member_proto(m, grp->protocol);

		if (p && groups_subscription_has(p->meta, p->len, topic))
			return true;
		for (int32_t i = 0; !p && i < m->nprotos; i++)
			if (groups_subscription_has(m->protos[i].meta, m->protos[i].len, topic))
				return true;
	}
	return false;
}

static int delete_add(struct groups_delete *d, const char *topic, int32_t partition)
{
	if (d->nrecs == d->caprecs) {
		size_t cap = d->caprecs ? 2 * d->caprecs : 16;
		struct offsets_record *v = mem_realloc(d->recs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->recs = v;
		d->caprecs = cap;
	}
	memset(&d->recs[d->nrecs], 0, sizeof(d->recs[0]));
	d->recs[d->nrecs].topic = topic;
	d->recs[d->nrecs].partition = partition;
	d->nrecs++;
	return 0;
}

static void collect_delete(void *arg, const char *group, const char *topic, int32_t partition,
			   const struct offsets_value *v)
{
	struct groups_delete *d = arg;

	(void)group;
	(void)v;
	if (delete_add(d, topic, partition) < 0)
		d->error = KERR_COORDINATOR_NOT_AVAILABLE;
}

static void delete_finish(struct groups_delete *d)
{
	struct group *grp = groups_find(d->g, d->group_id);

	mem_free(d->recs);
	d->recs = NULL;
	d->nrecs = d->caprecs = 0;
	if (grp)
		groups_gc(grp);
	d->done(d);
}

static void delete_synced(struct offsets_commit *oc, int rc)
{
	struct groups_delete *d = oc->arg;

	if (rc < 0 && d->whole_group)
		d->error = KERR_COORDINATOR_NOT_AVAILABLE;
	for (size_t i = 0; rc < 0 && i < d->n; i++)
		if (!d->errors[i])
			d->errors[i] = KERR_COORDINATOR_NOT_AVAILABLE;
	delete_finish(d);
}

/* The top-level error, or 0 with d->recs holding what to delete. */
static int16_t delete_plan(struct groups *g, struct groups_delete *d)
{
	struct group *grp = groups_find(g, d->group_id);
	bool empty = !grp || (!grp->members && !grp->pending && grp->state == GS_EMPTY);

	if (!d->group_id[0])
		return KERR_INVALID_GROUP_ID;
	if (empty && offsets_group_last_commit(g->offsets, d->group_id) < 0)
		return grp ? KERR_NONE : KERR_GROUP_ID_NOT_FOUND;
	if (d->whole_group) {
		if (!empty)
			return KERR_NON_EMPTY_GROUP;
		offsets_foreach(g->offsets, d->group_id, collect_delete, d);
		return d->error;
	}
	if (!empty && strcmp(grp->protocol_type ? grp->protocol_type : "", "consumer") != 0)
		return KERR_NON_EMPTY_GROUP;
	for (size_t i = 0; i < d->n; i++) {
		const struct offsets_record *p = &d->parts[i];
		struct offsets_value v;
		struct topic_config tc;

		if (g->log && engine_topic_config(g->log, p->topic, &tc) < 0)
			d->errors[i] = KERR_UNKNOWN_TOPIC_OR_PARTITION;
		else if (!empty && group_subscribes(grp, p->topic))
			d->errors[i] = KERR_GROUP_SUBSCRIBED_TO_TOPIC;
		else if (offsets_get(g->offsets, d->group_id, p->topic, p->partition, &v) &&
			 delete_add(d, p->topic, p->partition) < 0)
			return KERR_COORDINATOR_NOT_AVAILABLE;
	}
	return KERR_NONE;
}

void groups_delete(struct groups *g, struct groups_delete *d)
{
	d->g = g;
	d->error = KERR_NONE;
	d->recs = NULL;
	d->nrecs = d->caprecs = 0;
	for (size_t i = 0; i < d->n; i++)
		d->errors[i] = KERR_NONE;
	d->error = delete_plan(g, d);
	if (d->error || d->nrecs == 0)
		goto done;
	memset(&d->oc, 0, sizeof(d->oc));
	d->oc.group = d->group_id;
	d->oc.records = d->recs;
	d->oc.n = d->nrecs;
	d->oc.tombstones = true;
	d->oc.done = delete_synced;
	d->oc.arg = d;
	if (offsets_commit(g->offsets, &d->oc) == 0) {
		log_info("groups: %s: deleting %zu committed offsets%s", d->group_id, d->nrecs,
			 d->whole_group ? " (group deleted)" : "");
		return; /* delete_synced finishes it */
	}
	d->error = KERR_COORDINATOR_NOT_AVAILABLE;
done:
	delete_finish(d);
}

void groups_delete_cancel(struct groups *g, struct groups_delete *d)
{
	offsets_cancel(g->offsets, &d->oc);
	mem_free(d->recs);
	d->recs = NULL;
}

struct offsets *groups_offsets(struct groups *g)
{
	return g ? g->offsets : NULL;
}
