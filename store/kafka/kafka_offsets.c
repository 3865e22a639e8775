/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OffsetCommit (v2-v9) and OffsetFetch (v1-v9) on the schema framework
 * (generated structs of OffsetCommit{Request,Response}.json and
 * OffsetFetch{Request,Response}.json; Kafka 4 removed OffsetCommit v0-v1
 * and OffsetFetch v0).
 *
 * Kafka semantics kept: a commit with generation -1 is accepted for a group
 * without members (consumers that assign partitions themselves); null
 * metadata is stored as given and returned as ""; a partition without a
 * committed offset is returned as offset -1 with error NONE; a null topic
 * list (v2+) returns every committed offset of the group.  OffsetFetch v8+
 * carries several groups, each with its own error; v7+ require_stable
 * answers UNSTABLE_OFFSET_COMMIT for partitions a transaction has pending
 * offsets of (groups_txn_pending, filled by the transaction coordinator).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "store/groups/groups.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_offsets.h"
#include "store/kafka/kafka_req.h"
#include "store/kafka/kmsg_gen.h"
#include "store/kafka/kschema.h"

#define NEW_N(r, T, n) kmsg_new(&(r)->arena, T, (n) > 0 ? (n) : 1)

static void respond_oom(struct kafka_req *r)
{
	r->cancel = NULL;
	r->enc.err = -ENOMEM;
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- OffsetCommit */

struct commit_wait {
	struct groups_commit c;
	struct kafka_req *r;
};

/* Every partition's error, in request order (errors is flat). */
static void commit_respond(struct kafka_req *r, const int16_t *errors)
{
	struct kmsg_offset_commit_req *q = r->body;
	struct kmsg_offset_commit_resp *resp = kmsg_new(&r->arena, kmsg_offset_commit_resp, 1);
	int32_t nt = q->n_topics > 0 ? q->n_topics : 0, k = 0;

	if (resp)
		resp->topics = NEW_N(r, kmsg_offset_commit_resp_topic, nt);
	if (!resp || !resp->topics) {
		respond_oom(r);
		return;
	}
	resp->n_topics = nt;
	for (int32_t i = 0; i < nt; i++) {
		const struct kmsg_offset_commit_req_topic *t = &q->topics[i];
		struct kmsg_offset_commit_resp_topic *o = &resp->topics[i];
		int32_t np = t->n_partitions > 0 ? t->n_partitions : 0;

		o->name = t->name;
		o->partitions = NEW_N(r, kmsg_offset_commit_resp_partition, np);
		if (!o->partitions) {
			respond_oom(r);
			return;
		}
		o->n_partitions = np;
		for (int32_t j = 0; j < np; j++, k++) {
			kafka_req_note(r, errors[k]);
			o->partitions[j].partition_index = t->partitions[j].partition_index;
			o->partitions[j].error_code = errors[k];
		}
	}
	r->cancel = NULL;
	kafka_req_respond(r, resp);
}

static void commit_done(struct groups_commit *c)
{
	struct commit_wait *cw = c->arg;

	commit_respond(cw->r, c->errors);
}

static void commit_cancel(struct kafka_req *r)
{
	struct commit_wait *cw = r->hstate;

	groups_commit_cancel(r->ctx->groups, &cw->c);
}

/* The request's partitions as one flat list of records; -1 on ENOMEM. */
static int32_t commit_records(struct kafka_req *r, struct offsets_record **out)
{
	struct kmsg_offset_commit_req *q = r->body;
	int64_t total = 0;
	int32_t k = 0;

	for (int32_t i = 0; i < q->n_topics; i++)
		total += q->topics[i].n_partitions > 0 ? q->topics[i].n_partitions : 0;
	if (total > INT32_MAX)
		return -1;
	*out = arena_calloc(&r->arena, total ? (size_t)total : 1, sizeof(**out));
	if (!*out)
		return -1;
	for (int32_t i = 0; i < q->n_topics; i++) {
		const struct kmsg_offset_commit_req_topic *t = &q->topics[i];

		for (int32_t j = 0; j < t->n_partitions; j++, k++) {
			const struct kmsg_offset_commit_req_partition *p = &t->partitions[j];

			(*out)[k].topic = t->name;
			(*out)[k].partition = p->partition_index;
			(*out)[k].offset = p->committed_offset;
			(*out)[k].leader_epoch = p->committed_leader_epoch;
			(*out)[k].metadata = p->committed_metadata;
		}
	}
	return k;
}

void kafka_offsets_commit_handle(struct kafka_req *r)
{
	struct kmsg_offset_commit_req *q = r->body;
	struct commit_wait *cw = arena_calloc(&r->arena, 1, sizeof(*cw));
	struct offsets_record *recs = NULL;
	int32_t n = commit_records(r, &recs);
	int16_t *errors = arena_calloc(&r->arena, n > 0 ? (size_t)n : 1, sizeof(*errors));

	if (!cw || n < 0 || !errors) {
		respond_oom(r);
		return;
	}
	if (!r->ctx->groups || !kafka_authz_group(r, q->group_id, ACL_CONSUME)) {
		for (int32_t i = 0; i < n; i++)
			errors[i] = r->ctx->groups ? KERR_GROUP_AUTHORIZATION_FAILED
						   : KERR_COORDINATOR_NOT_AVAILABLE;
		commit_respond(r, errors);
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		/* committing an offset of a topic takes consume on it too; one
		 * refused topic refuses the whole commit (all or nothing) */
		if (!kafka_authz_topic(r, recs[i].topic, ACL_CONSUME)) {
			for (int32_t k = 0; k < n; k++)
				errors[k] = KERR_TOPIC_AUTHORIZATION_FAILED;
			commit_respond(r, errors);
			return;
		}
	}
	cw->r = r;
	cw->c.group_id = q->group_id;
	/* v9's member epoch is the generation for a classic group */
	cw->c.generation = q->generation_id_or_member_epoch;
	cw->c.member_id = q->member_id ? q->member_id : "";
	cw->c.instance_id = q->group_instance_id;
	cw->c.n = (size_t)n;
	cw->c.records = recs;
	cw->c.errors = errors;
	cw->c.done = commit_done;
	cw->c.arg = cw;
	r->hstate = cw;
	r->cancel = commit_cancel;
	groups_commit(r->ctx->groups, &cw->c);
}

/* ---------------------------------------------------------------- OffsetFetch */

/* One partition's committed offset, in the v8+ element (the v0-v7 one has
 * the same fields and is filled from it). */
static void fetch_partition(struct kafka_req *r, const char *group, const char *topic,
			    int32_t partition, bool stable, int16_t top_err,
			    struct kmsg_offset_fetch_resp_partitions *o)
{
	struct offsets_value v = {-1, -1, NULL, -1};

	o->partition_index = partition;
	o->error_code = top_err;
	if (!top_err && stable && groups_txn_pending(r->ctx->groups, group, topic, partition))
		o->error_code = KERR_UNSTABLE_OFFSET_COMMIT;
	if (o->error_code || !groups_committed(r->ctx->groups, group, topic, partition, &v))
		v = (struct offsets_value){-1, -1, NULL, -1};
	o->committed_offset = v.offset;
	o->committed_leader_epoch = v.leader_epoch;
	o->metadata = (char *)(v.metadata ? v.metadata : "");
}

/* A group's topic list as asked for, or (null) every committed offset. */
struct fetch_list {
	struct kafka_req *r;
	const char **topic;
	int32_t *part;
	size_t n;
	size_t cap;
	bool oom;
};

static void collect(void *arg, const char *group, const char *topic, int32_t partition,
		    const struct offsets_value *v)
{
	struct fetch_list *l = arg;

	(void)group, (void)v;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		const char **nt = arena_calloc(&l->r->arena, cap, sizeof(*nt));
		int32_t *np = arena_calloc(&l->r->arena, cap, sizeof(*np));

		if (!nt || !np) {
			l->oom = true;
			return;
		}
		if (l->n) {
			memcpy(nt, l->topic, l->n * sizeof(*nt));
			memcpy(np, l->part, l->n * sizeof(*np));
		}
		l->topic = nt;
		l->part = np;
		l->cap = cap;
	}
	l->topic[l->n] = arena_strndup(&l->r->arena, topic, strlen(topic));
	l->part[l->n] = partition;
	if (!l->topic[l->n])
		l->oom = true;
	else
		l->n++;
}

static void sort_list(struct fetch_list *l)
{
	/* insertion sort by (topic, partition): a group has few offsets */
	for (size_t i = 1; i < l->n; i++) {
		const char *t = l->topic[i];
		int32_t p = l->part[i];
		size_t j = i;

		while (j > 0) {
			int c = strcmp(l->topic[j - 1], t);

			if (c < 0 || (c == 0 && l->part[j - 1] <= p))
				break;
			l->topic[j] = l->topic[j - 1];
			l->part[j] = l->part[j - 1];
			j--;
		}
		l->topic[j] = t;
		l->part[j] = p;
	}
}

/* Fill one group's answer (v8+ shape).  topics NULL (n -1): everything. */
static int fetch_group(struct kafka_req *r, const char *group, int32_t nt,
		       const struct kmsg_offset_fetch_req_topics *topics, bool stable,
		       struct kmsg_offset_fetch_resp_group *out)
{
	int16_t err = KERR_NONE;
	struct fetch_list l = {.r = r};

	if (!r->ctx->groups)
		err = KERR_COORDINATOR_NOT_AVAILABLE;
	else if (!group[0])
		err = KERR_INVALID_GROUP_ID;
	else if (!kafka_authz_group(r, group, ACL_CONSUME))
		err = KERR_GROUP_AUTHORIZATION_FAILED;
	kafka_req_note(r, err);
	out->group_id = (char *)group;
	out->error_code = err;
	if (nt < 0 && !err) {
		groups_committed_foreach(r->ctx->groups, group, collect, &l);
		if (l.oom)
			return -ENOMEM;
		sort_list(&l);
		nt = 0;
		for (size_t i = 0; i < l.n; i++)
			nt += i == 0 || strcmp(l.topic[i], l.topic[i - 1]) != 0;
	}
	if (nt < 0)
		nt = 0;
	out->topics = NEW_N(r, kmsg_offset_fetch_resp_topics, nt);
	if (!out->topics)
		return -ENOMEM;
	out->n_topics = nt;
	for (int32_t i = 0, at = 0; i < nt; i++) {
		struct kmsg_offset_fetch_resp_topics *o = &out->topics[i];
		int32_t np;

		if (topics) {
			o->name = topics[i].name;
			np = topics[i].n_partition_indexes > 0 ? topics[i].n_partition_indexes : 0;
		} else {
			o->name = (char *)l.topic[at];
			for (np = 0;
			     (size_t)(at + np) < l.n && strcmp(l.topic[at + np], l.topic[at]) == 0;
			     np++)
				;
		}
		o->partitions = NEW_N(r, kmsg_offset_fetch_resp_partitions, np);
		if (!o->partitions)
			return -ENOMEM;
		o->n_partitions = np;
		for (int32_t j = 0; j < np; j++)
			fetch_partition(r, group, o->name,
					topics ? topics[i].partition_indexes[j] : l.part[at + j],
					stable, err, &o->partitions[j]);
		at += topics ? 0 : np;
	}
	return 0;
}

/* v1-v7: the one group's answer, copied into the old shape. */
static int fetch_single(struct kafka_req *r, struct kmsg_offset_fetch_resp *resp)
{
	struct kmsg_offset_fetch_req *q = r->body;
	struct kmsg_offset_fetch_req_topics *ts = NULL;
	struct kmsg_offset_fetch_resp_group g;
	int32_t nt = q->n_topics;

	if (nt > 0) {
		ts = NEW_N(r, kmsg_offset_fetch_req_topics, nt);
		if (!ts)
			return -ENOMEM;
		for (int32_t i = 0; i < nt; i++) {
			ts[i].name = q->topics[i].name;
			ts[i].n_partition_indexes = q->topics[i].n_partition_indexes;
			ts[i].partition_indexes = q->topics[i].partition_indexes;
		}
	}
	if (fetch_group(r, q->group_id, nt < 0 ? -1 : nt, ts, q->require_stable, &g) < 0)
		return -ENOMEM;
	resp->error_code = g.error_code;
	resp->topics = NEW_N(r, kmsg_offset_fetch_resp_topic, g.n_topics);
	if (!resp->topics)
		return -ENOMEM;
	resp->n_topics = g.n_topics;
	for (int32_t i = 0; i < g.n_topics; i++) {
		const struct kmsg_offset_fetch_resp_topics *s = &g.topics[i];
		struct kmsg_offset_fetch_resp_topic *o = &resp->topics[i];

		o->name = s->name;
		o->partitions = NEW_N(r, kmsg_offset_fetch_resp_partition, s->n_partitions);
		if (!o->partitions)
			return -ENOMEM;
		o->n_partitions = s->n_partitions;
		for (int32_t j = 0; j < s->n_partitions; j++) {
			o->partitions[j].partition_index = s->partitions[j].partition_index;
			o->partitions[j].committed_offset = s->partitions[j].committed_offset;
			o->partitions[j].committed_leader_epoch =
				s->partitions[j].committed_leader_epoch;
			o->partitions[j].metadata = s->partitions[j].metadata;
			o->partitions[j].error_code = s->partitions[j].error_code;
		}
	}
	return 0;
}

void kafka_offsets_fetch_handle(struct kafka_req *r)
{
	struct kmsg_offset_fetch_req *q = r->body;
	struct kmsg_offset_fetch_resp *resp = kmsg_new(&r->arena, kmsg_offset_fetch_resp, 1);
	int32_t ng = q->n_groups > 0 ? q->n_groups : 0;
	int rc = 0;

	if (!resp) {
		respond_oom(r);
		return;
	}
	if (r->hdr.api_version < 8) {
		rc = fetch_single(r, resp);
	} else {
		resp->groups = NEW_N(r, kmsg_offset_fetch_resp_group, ng);
		rc = resp->groups ? 0 : -ENOMEM;
		resp->n_groups = ng;
		for (int32_t i = 0; rc == 0 && i < ng; i++) {
			const struct kmsg_offset_fetch_req_group *g = &q->groups[i];

			rc = fetch_group(r, g->group_id, g->n_topics, g->topics, q->require_stable,
					 &resp->groups[i]);
		}
	}
	if (rc < 0) {
		respond_oom(r);
		return;
	}
	kafka_req_respond(r, resp);
}
