/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DeleteGroups (v0-v2) and OffsetDelete (v0) on the schema framework
 * (generated structs of DeleteGroups{Request,Response}.json and
 * OffsetDelete{Request,Response}.json).  Both need the admin grant on the group (Kafka's
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
#include "store/kafka/kmsg_gen.h"
#include "store/kafka/kschema.h"

#define NEW_N(r, T, n) kmsg_new(&(r)->arena, T, (n) > 0 ? (n) : 1)

/* COORDINATOR_NOT_AVAILABLE, INVALID_GROUP_ID, GROUP_AUTHORIZATION_FAILED
 * or 0. */
static int16_t delete_check(struct kafka_req *r, const char *group)
{
	if (!r->ctx->groups)
		return KERR_COORDINATOR_NOT_AVAILABLE;
	if (!group[0])
		return KERR_INVALID_GROUP_ID;
	return kafka_authz_group(r, group, ACL_ADMIN) ? KERR_NONE : KERR_GROUP_AUTHORIZATION_FAILED;
}

/* ---------------------------------------------------------------- DeleteGroups */

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
	struct kmsg_delete_groups_req *q = r->body;
	struct kmsg_delete_groups_resp *resp = kmsg_new(&r->arena, kmsg_delete_groups_resp, 1);

	r->cancel = NULL;
	if (resp)
		resp->results = NEW_N(r, kmsg_delete_groups_resp_deletable_group_result, w->n);
	if (!resp || !resp->results) {
		r->enc.err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	resp->n_results = w->n;
	for (int32_t i = 0; i < w->n; i++) {
		kafka_req_note(r, w->errors[i]);
		resp->results[i].group_id = q->groups_names[i];
		resp->results[i].error_code = w->errors[i];
	}
	kafka_req_respond(r, resp);
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
	struct kmsg_delete_groups_req *q = r->body;
	int32_t ng = q->n_groups_names > 0 ? q->n_groups_names : 0;
	size_t n = ng ? (size_t)ng : 1;
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
	w->n = ng;
	/* one extra count held while starting, so an immediate done cannot
	 * answer before every group was started */
	w->left = ng + 1;
	r->hstate = w;
	r->cancel = delgroups_cancel;
	for (int32_t i = 0; i < ng; i++) {
		struct groups_delete *d = &w->dels[i];

		w->errors[i] = delete_check(r, q->groups_names[i]);
		if (w->errors[i]) {
			w->left--;
			continue;
		}
		d->group_id = q->groups_names[i];
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

struct offdel_wait {
	struct kafka_req *r;
	struct groups_delete d;
	struct offsets_record *parts; /* every partition asked for, flat */
	int32_t nparts;
	int16_t *errors;
	bool started;
};

static void offdel_respond(struct kafka_req *r, int16_t top, const int16_t *errors)
{
	struct kmsg_offset_delete_req *q = r->body;
	struct kmsg_offset_delete_resp *resp = kmsg_new(&r->arena, kmsg_offset_delete_resp, 1);
	int32_t nt = top || q->n_topics < 0 ? 0 : q->n_topics, k = 0;

	r->cancel = NULL;
	if (resp)
		resp->topics = NEW_N(r, kmsg_offset_delete_resp_topic, nt);
	for (int32_t i = 0; resp && resp->topics && i < nt; i++) {
		const struct kmsg_offset_delete_req_topic *t = &q->topics[i];
		struct kmsg_offset_delete_resp_topic *o = &resp->topics[i];
		int32_t np = t->n_partitions > 0 ? t->n_partitions : 0;

		o->name = t->name;
		o->partitions = NEW_N(r, kmsg_offset_delete_resp_partition, np);
		if (!o->partitions) {
			resp = NULL;
			break;
		}
		o->n_partitions = np;
		for (int32_t j = 0; j < np; j++, k++) {
			kafka_req_note(r, errors[k]);
			o->partitions[j].partition_index = t->partitions[j].partition_index;
			o->partitions[j].error_code = errors[k];
		}
	}
	if (!resp || !resp->topics) {
		r->enc.err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	kafka_req_note(r, top);
	resp->error_code = top;
	resp->n_topics = nt;
	kafka_req_respond(r, resp);
}

static void offdel_done(struct groups_delete *d)
{
	struct offdel_wait *w = d->arg;

	w->started = false;
	/* the coordinator saw only the authorized partitions */
	for (int32_t i = 0, k = 0; i < w->nparts; i++)
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

/* The request's partitions, flat, in request order; -1 on ENOMEM. */
static int32_t offdel_parts(struct kafka_req *r, struct offsets_record **out)
{
	struct kmsg_offset_delete_req *q = r->body;
	int64_t total = 0;
	int32_t k = 0;

	for (int32_t i = 0; i < q->n_topics; i++)
		total += q->topics[i].n_partitions > 0 ? q->topics[i].n_partitions : 0;
	if (total > INT32_MAX)
		return -1;
	*out = arena_calloc(&r->arena, total ? (size_t)total : 1, sizeof(**out));
	if (!*out)
		return -1;
	for (int32_t i = 0; i < q->n_topics; i++)
		for (int32_t j = 0; j < q->topics[i].n_partitions; j++, k++) {
			(*out)[k].topic = q->topics[i].name;
			(*out)[k].partition = q->topics[i].partitions[j].partition_index;
		}
	return k;
}

void kafka_delgroups_offsets_handle(struct kafka_req *r)
{
	struct kmsg_offset_delete_req *q = r->body;
	struct offdel_wait *w = arena_calloc(&r->arena, 1, sizeof(*w));
	struct offsets_record *ok = NULL, *parts = NULL;
	int32_t np = offdel_parts(r, &parts);
	size_t n = np > 0 ? (size_t)np : 1, nok = 0;
	int16_t *okerr = arena_calloc(&r->arena, n, sizeof(*okerr));
	int16_t top = delete_check(r, q->group_id);

	ok = arena_calloc(&r->arena, n, sizeof(*ok));
	if (w)
		w->errors = arena_calloc(&r->arena, n, sizeof(*w->errors));
	if (!w || np < 0 || !ok || !okerr || !w->errors) {
		r->enc.err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	if (top) {
		offdel_respond(r, top, w->errors);
		return;
	}
	for (int32_t i = 0; i < np; i++) {
		if (!kafka_authz_topic(r, parts[i].topic, ACL_CONSUME))
			w->errors[i] = KERR_TOPIC_AUTHORIZATION_FAILED;
		else
			ok[nok++] = parts[i];
	}
	w->r = r;
	w->parts = parts;
	w->nparts = np;
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
