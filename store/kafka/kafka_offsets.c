/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OffsetCommit and OffsetFetch.  Field order follows the schemas
 * (OffsetCommit{Request,Response}.json, OffsetFetch{Request,Response}.json).
 *
 * Kafka semantics kept: a commit with generation -1 is accepted for a group
 * without members (consumers that assign partitions themselves); null
 * metadata is stored as given and returned as ""; a partition without a
 * committed offset is returned as offset -1 with error NONE; v2+ with a
 * null topic list returns every committed offset of the group.
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

/* ---------------------------------------------------------------- OffsetCommit */

void *kafka_offsets_commit_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_offsetcommit_req *q = kwire_alloc(d, 1, sizeof(*q));
	struct offsets_record **per;
	int32_t total = 0;

	if (!q)
		return NULL;
	q->group_id = kwire_get_str(d);
	q->generation = v >= 1 ? kwire_get_i32(d) : -1;
	q->member_id = v >= 1 ? kwire_get_str(d) : NULL;
	if (v >= 7)
		q->group_instance_id = kwire_get_nstr(d);
	q->retention_ms = v >= 2 && v <= 4 ? kwire_get_i64(d) : -1;
	q->ntopics = kwire_get_array(d, 6);
	if (q->ntopics < 0)
		kwire_dec_fail(d);
	q->topics = kwire_alloc(d, q->ntopics, sizeof(*q->topics));
	per = kwire_alloc(d, q->ntopics, sizeof(*per));
	for (int32_t i = 0; i < q->ntopics && kwire_dec_ok(d); i++) {
		struct kafka_offsetcommit_topic *t = &q->topics[i];

		t->name = kwire_get_str(d);
		t->npartitions = kwire_get_array(d, 14);
		if (t->npartitions < 0)
			kwire_dec_fail(d);
		t->first = total;
		per[i] = kwire_alloc(d, t->npartitions, sizeof(**per));
		for (int32_t j = 0; j < t->npartitions && kwire_dec_ok(d); j++) {
			struct offsets_record *rec = &per[i][j];

			rec->topic = t->name;
			rec->partition = kwire_get_i32(d);
			rec->offset = kwire_get_i64(d);
			rec->leader_epoch = v >= 6 ? kwire_get_i32(d) : -1;
			if (v == 1)
				(void)kwire_get_i64(d); /* commit_timestamp */
			rec->metadata = kwire_get_nstr(d);
		}
		if (kwire_dec_ok(d) && t->npartitions > INT32_MAX - total)
			kwire_dec_fail(d);
		total += kwire_dec_ok(d) ? t->npartitions : 0;
	}
	if (!kwire_dec_ok(d))
		return NULL;
	q->nrecords = total;
	q->records = kwire_alloc(d, total, sizeof(*q->records));
	for (int32_t i = 0; i < q->ntopics && kwire_dec_ok(d); i++)
		memcpy(&q->records[q->topics[i].first], per[i],
		       (size_t)q->topics[i].npartitions * sizeof(*q->records));
	return kwire_dec_ok(d) ? q : NULL;
}

struct commit_wait {
	struct groups_commit c;
	struct kafka_req *r;
	bool parked;
};

static void commit_respond(struct kafka_req *r, const int16_t *errors)
{
	struct kafka_offsetcommit_req *q = r->body;
	struct kwire_enc *e = kafka_req_begin(r);

	if (r->hdr.api_version >= 3)
		kwire_put_i32(e, 0);
	kwire_put_array(e, q->ntopics);
	for (int32_t i = 0; i < q->ntopics; i++) {
		const struct kafka_offsetcommit_topic *t = &q->topics[i];

		kwire_put_str(e, t->name);
		kwire_put_array(e, t->npartitions);
		for (int32_t j = 0; j < t->npartitions; j++) {
			int16_t err = errors[t->first + j];

			kafka_req_note(r, err);
			kwire_put_i32(e, q->records[t->first + j].partition);
			kwire_put_i16(e, err);
		}
	}
	r->cancel = NULL;
	kafka_req_finish(r);
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

void kafka_offsets_commit_handle(struct kafka_req *r)
{
	struct kafka_offsetcommit_req *q = r->body;
	struct commit_wait *cw = arena_alloc(&r->arena, sizeof(*cw));
	int16_t *errors =
		arena_calloc(&r->arena, q->nrecords ? (size_t)q->nrecords : 1, sizeof(*errors));

	if (!cw || !errors) {
		r->enc.err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	if (!r->ctx->groups || !kafka_authz_group(r, q->group_id, ACL_CONSUME)) {
		for (int32_t i = 0; i < q->nrecords; i++)
			errors[i] = r->ctx->groups ? KERR_GROUP_AUTHORIZATION_FAILED
						   : KERR_COORDINATOR_NOT_AVAILABLE;
		commit_respond(r, errors);
		return;
	}
	for (int32_t i = 0; i < q->nrecords; i++) {
		/* committing an offset of a topic takes consume on it too; one
		 * refused topic refuses the whole commit (all or nothing) */
		if (!kafka_authz_topic(r, q->records[i].topic, ACL_CONSUME)) {
			for (int32_t k = 0; k < q->nrecords; k++)
				errors[k] = KERR_TOPIC_AUTHORIZATION_FAILED;
			commit_respond(r, errors);
			return;
		}
	}
	cw->r = r;
	cw->c.group_id = q->group_id;
	cw->c.generation = q->generation;
	cw->c.member_id = q->member_id ? q->member_id : "";
	cw->c.instance_id = q->group_instance_id;
	cw->c.n = (size_t)q->nrecords;
	cw->c.records = q->records;
	cw->c.errors = errors;
	cw->c.done = commit_done;
	cw->c.arg = cw;
	r->hstate = cw;
	r->cancel = commit_cancel;
	groups_commit(r->ctx->groups, &cw->c);
}

/* ---------------------------------------------------------------- OffsetFetch */

void *kafka_offsets_fetch_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_offsetfetch_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	q->group_id = kwire_get_str(d);
	q->ntopics = kwire_get_array(d, 6);
	if (q->ntopics < 0 && v < 2)
		kwire_dec_fail(d);
	q->topics = kwire_alloc(d, q->ntopics, sizeof(*q->topics));
	for (int32_t i = 0; i < q->ntopics && kwire_dec_ok(d); i++) {
		struct kafka_offsetfetch_topic *t = &q->topics[i];

		t->name = kwire_get_str(d);
		t->npartitions = kwire_get_array(d, 4);
		if (t->npartitions < 0)
			kwire_dec_fail(d);
		t->partitions = kwire_alloc(d, t->npartitions, sizeof(int32_t));
		for (int32_t j = 0; j < t->npartitions && kwire_dec_ok(d); j++)
			t->partitions[j] = kwire_get_i32(d);
	}
	return kwire_dec_ok(d) ? q : NULL;
}

static void put_partition(struct kafka_req *r, const char *group, const char *topic,
			  int32_t partition, int16_t top_err)
{
	struct kwire_enc *e = &r->enc;
	struct offsets_value v = {-1, -1, NULL, -1};

	if (!top_err && !groups_committed(r->ctx->groups, group, topic, partition, &v)) {
		v.offset = -1;
		v.leader_epoch = -1;
		v.metadata = NULL;
	}
	kwire_put_i32(e, partition);
	kwire_put_i64(e, v.offset);
	if (r->hdr.api_version >= 5)
		kwire_put_i32(e, v.leader_epoch);
	kwire_put_str(e, v.metadata ? v.metadata : "");
	kwire_put_i16(e, top_err);
}

struct all_entry {
	const char *topic;
	int32_t partition;
};

struct all_list {
	struct kafka_req *r;
	struct all_entry *v;
	size_t n;
	size_t cap;
	bool oom;
};

static void collect(void *arg, const char *group, const char *topic, int32_t partition,
		    const struct offsets_value *v)
{
	struct all_list *l = arg;

	(void)group, (void)v;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct all_entry *nv = arena_calloc(&l->r->arena, cap, sizeof(*nv));

		if (!nv) {
			l->oom = true;
			return;
		}
		if (l->n)
			memcpy(nv, l->v, l->n * sizeof(*nv));
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n].topic = arena_strndup(&l->r->arena, topic, strlen(topic));
	l->v[l->n].partition = partition;
	if (!l->v[l->n].topic)
		l->oom = true;
	else
		l->n++;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct all_entry *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

/* v2+ with topics null: every committed offset of the group, by topic. */
static void put_all(struct kafka_req *r, const char *group)
{
	struct kwire_enc *e = &r->enc;
	struct all_list l = {.r = r};
	int32_t ntopics = 0;

	groups_committed_foreach(r->ctx->groups, group, collect, &l);
	if (l.oom) {
		e->err = -ENOMEM;
		return;
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_entry);
	for (size_t i = 0; i < l.n; i++)
		ntopics += i == 0 || strcmp(l.v[i].topic, l.v[i - 1].topic) != 0;
	kwire_put_array(e, ntopics);
	for (size_t i = 0; i < l.n;) {
		size_t j = i;

		while (j < l.n && strcmp(l.v[j].topic, l.v[i].topic) == 0)
			j++;
		kwire_put_str(e, l.v[i].topic);
		kwire_put_array(e, (int32_t)(j - i));
		for (size_t k = i; k < j; k++)
			put_partition(r, group, l.v[k].topic, l.v[k].partition, KERR_NONE);
		i = j;
	}
}

void kafka_offsets_fetch_handle(struct kafka_req *r)
{
	struct kafka_offsetfetch_req *q = r->body;
	int16_t v = r->hdr.api_version;
	struct kwire_enc *e = kafka_req_begin(r);
	int16_t err = KERR_NONE;

	if (!r->ctx->groups)
		err = KERR_COORDINATOR_NOT_AVAILABLE;
	else if (!q->group_id[0])
		err = KERR_INVALID_GROUP_ID;
	else if (!kafka_authz_group(r, q->group_id, ACL_CONSUME))
		err = KERR_GROUP_AUTHORIZATION_FAILED;
	kafka_req_note(r, err);
	if (v >= 3)
		kwire_put_i32(e, 0);
	if (q->ntopics < 0 && !err) {
		put_all(r, q->group_id);
	} else if (q->ntopics < 0) {
		kwire_put_array(e, 0);
	} else {
		kwire_put_array(e, q->ntopics);
		for (int32_t i = 0; i < q->ntopics; i++) {
			const struct kafka_offsetfetch_topic *t = &q->topics[i];

			kwire_put_str(e, t->name);
			kwire_put_array(e, t->npartitions);
			for (int32_t j = 0; j < t->npartitions; j++)
				put_partition(r, q->group_id, t->name, t->partitions[j], err);
		}
	}
	if (v >= 2)
		kwire_put_i16(e, err);
	kafka_req_finish(r);
}
