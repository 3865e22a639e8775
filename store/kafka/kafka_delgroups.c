/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DeleteGroups and OffsetDelete.  Field order follows the schemas
 * (DeleteGroups{Request,Response}.json v0-v1, OffsetDelete{Request,
 * Response}.json v0).  Both need the admin grant on the group (Kafka's
 * DELETE); OffsetDelete also consume on each topic (Kafka's READ), a
 * refused topic answering TOPIC_AUTHORIZATION_FAILED for its partitions.
 * The coordinator decides the rest (store/groups/groups.h, groups_delete).
 */
#include <string.h>

#include "lib/err.h"
#include "store/groups/groups.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_delgroups.h"
#include "store/kafka/kafka_req.h"

/* COORDINATOR_NOT_AVAILABLE, INVALID_GROUP_ID, GROUP_AUTHORIZATION_FAILED
 * or 0. */
static int16_t delete_check(struct kafka_req *r, const char *group)
{
	if (!r->ctx->groups)
		return KERR_COORDINATOR_NOT_AVAILABLE;
	if (!group[0])
		return KERR_INVALID_GROUP_ID;
	return kafka_authz_group(r, group, ACL_ADMIN) ? KERR_NONE
						       : KERR_GROUP_AUTHORIZATION_FAILED;
}

/* ---------------------------------------------------------------- DeleteGroups */

void *kafka_delgroups_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_deletegroups_req *q = kwire_alloc(d, 1, sizeof(*q));

	(void)v;
	if (!q)
		return NULL;
	q->ngroups = kwire_get_array(d, 2);
	if (q->ngroups < 0)
		kwire_dec_fail(d);
	q->groups = kwire_alloc(d, q->ngroups, sizeof(*q->groups));
	for (int32_t i = 0; i < q->ngroups && kwire_dec_ok(d); i++)
		q->groups[i] = kwire_get_str(d);
	return kwire_dec_ok(d) ? q : NULL;
}

/* Every group's deletion; the answer goes out when the last one is done. */
struct delgroups_wait {
	struct kafka_req *r;
	int32_t n;
	int32_t left;
	struct groups_delete *dels;
	bool *started; /* dels[i] was handed to the coordinator and not done */
	int16_t *errors;
};

static void delgroups_respond(struct delgroups_wait *w)
{
	struct kafka_req *r = w->r;
	struct kafka_deletegroups_req *q = r->body;
	struct kwire_enc *e = kafka_req_begin(r);

	kwire_put_i32(e, 0);
	kwire_put_array(e, q->ngroups);
	for (int32_t i = 0; i < q->ngroups; i++) {
		kafka_req_note(r, w->errors[i]);
		kwire_put_str(e, q->groups[i]);
		kwire_put_i16(e, w->errors[i]);
	}
	r->cancel = NULL;
	kafka_req_finish(r);
}

static void delgroups_done(struct groups_delete *d)
{
	struct delgroups_wait *w = d->arg;
	int32_t i = (int32_t)(d - w->dels);

	w->errors[i] = d->error;
	w->started[i] = false;
	if (--w->left == 0)
		delgroups_respond(w);
}

static void delgroups_cancel(struct kafka_req *r)
{
	struct delgroups_wait *w = r->hstate;

	for (int32_t i = 0; i < w->n; i++)
		if (w->started[i])
			groups_delete_cancel(r->ctx->groups, &w->dels[i]);
}

void kafka_delgroups_handle(struct kafka_req *r)
{
	struct kafka_deletegroups_req *q = r->body;
	size_t n = q->ngroups ? (size_t)q->ngroups : 1;
	struct delgroups_wait *w = arena_calloc(&r->arena, 1, sizeof(*w));

	if (w) {
		w->dels = arena_calloc(&r->arena, n, sizeof(*w->dels));
		w->started = arena_calloc(&r->arena, n, sizeof(*w->started));
		w->errors = arena_calloc(&r->arena, n, sizeof(*w->errors));
	}
	if (!w || !w->dels || !w->started || !w->errors) {
		r->enc.err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	w->r = r;
	w->n = q->ngroups;
	/* one extra count held while starting, so an immediate done cannot
	 * answer before every group was started */
	w->left = q->ngroups + 1;
	r->hstate = w;
	r->cancel = delgroups_cancel;
	for (int32_t i = 0; i < q->ngroups; i++) {
		struct groups_delete *d = &w->dels[i];

		w->errors[i] = delete_check(r, q->groups[i]);
		if (w->errors[i]) {
			w->left--;
			continue;
		}
		d->group_id = q->groups[i];
		d->whole_group = true;
		d->done = delgroups_done;
		d->arg = w;
		w->started[i] = true;
		groups_delete(r->ctx->groups, d);
	}
	if (--w->left == 0)
		delgroups_respond(w);
}

/* ---------------------------------------------------------------- OffsetDelete */

void *kafka_delgroups_offsets_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_offsetdelete_req *q = kwire_alloc(d, 1, sizeof(*q));
	struct offsets_record **per;
	int32_t total = 0;

	(void)v;
	if (!q)
		return NULL;
	q->group_id = kwire_get_str(d);
	q->ntopics = kwire_get_array(d, 6);
	if (q->ntopics < 0)
		kwire_dec_fail(d);
	q->topics = kwire_alloc(d, q->ntopics, sizeof(*q->topics));
	per = kwire_alloc(d, q->ntopics, sizeof(*per));
	for (int32_t i = 0; i < q->ntopics && kwire_dec_ok(d); i++) {
		struct kafka_offsetdelete_topic *t = &q->topics[i];

		t->name = kwire_get_str(d);
		t->npartitions = kwire_get_array(d, 4);
		if (t->npartitions < 0 || t->npartitions > INT32_MAX - total)
			kwire_dec_fail(d);
		t->first = total;
		per[i] = kwire_alloc(d, t->npartitions, sizeof(**per));
		for (int32_t j = 0; j < t->npartitions && kwire_dec_ok(d); j++) {
			per[i][j].topic = t->name;
			per[i][j].partition = kwire_get_i32(d);
		}
		total += kwire_dec_ok(d) ? t->npartitions : 0;
	}
	if (!kwire_dec_ok(d))
		return NULL;
	q->nparts = total;
	q->parts = kwire_alloc(d, total, sizeof(*q->parts));
	for (int32_t i = 0; i < q->ntopics && kwire_dec_ok(d); i++)
		memcpy(&q->parts[q->topics[i].first], per[i],
		       (size_t)q->topics[i].npartitions * sizeof(*q->parts));
	return kwire_dec_ok(d) ? q : NULL;
}

struct offdel_wait {
	struct kafka_req *r;
	struct groups_delete d;
	int16_t *errors;
	bool started;
};

static void offdel_respond(struct kafka_req *r, int16_t top, const int16_t *errors)
{
	struct kafka_offsetdelete_req *q = r->body;
	struct kwire_enc *e = kafka_req_begin(r);

	kafka_req_note(r, top);
	kwire_put_i16(e, top);
	kwire_put_i32(e, 0);
	kwire_put_array(e, top ? 0 : q->ntopics);
	for (int32_t i = 0; !top && i < q->ntopics; i++) {
		const struct kafka_offsetdelete_topic *t = &q->topics[i];

		kwire_put_str(e, t->name);
		kwire_put_array(e, t->npartitions);
		for (int32_t j = 0; j < t->npartitions; j++) {
			kafka_req_note(r, errors[t->first + j]);
			kwire_put_i32(e, q->parts[t->first + j].partition);
			kwire_put_i16(e, errors[t->first + j]);
		}
	}
	r->cancel = NULL;
	kafka_req_finish(r);
}

static void offdel_done(struct groups_delete *d)
{
	struct offdel_wait *w = d->arg;
	struct kafka_offsetdelete_req *q = w->r->body;

	w->started = false;
	/* the coordinator saw only the authorized partitions */
	for (int32_t i = 0, k = 0; i < q->nparts; i++)
		if (!w->errors[i])
			w->errors[i] = d->errors[k++];
	offdel_respond(w->r, d->error, w->errors);
}

static void offdel_cancel(struct kafka_req *r)
{
	struct offdel_wait *w = r->hstate;

	if (w->started)
		groups_delete_cancel(r->ctx->groups, &w->d);
}

void kafka_delgroups_offsets_handle(struct kafka_req *r)
{
	struct kafka_offsetdelete_req *q = r->body;
	size_t n = q->nparts ? (size_t)q->nparts : 1;
	struct offdel_wait *w = arena_calloc(&r->arena, 1, sizeof(*w));
	struct offsets_record *ok = arena_calloc(&r->arena, n, sizeof(*ok));
	int16_t *okerr = arena_calloc(&r->arena, n, sizeof(*okerr));
	int16_t top = delete_check(r, q->group_id);
	size_t nok = 0;

	if (w)
		w->errors = arena_calloc(&r->arena, n, sizeof(*w->errors));
	if (!w || !ok || !okerr || !w->errors) {
		r->enc.err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	if (top) {
		offdel_respond(r, top, w->errors);
		return;
	}
	for (int32_t i = 0; i < q->nparts; i++) {
		if (!kafka_authz_topic(r, q->parts[i].topic, ACL_CONSUME))
			w->errors[i] = KERR_TOPIC_AUTHORIZATION_FAILED;
		else
			ok[nok++] = q->parts[i];
	}
	w->r = r;
	w->d.group_id = q->group_id;
	w->d.parts = ok;
	w->d.n = nok;
	w->d.errors = okerr;
	w->d.done = offdel_done;
	w->d.arg = w;
	w->started = true;
	r->hstate = w;
	r->cancel = offdel_cancel;
	groups_delete(r->ctx->groups, &w->d);
}
