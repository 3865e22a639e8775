/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Group APIs: decoders, response encoders and handlers.  The coordinator
 * (store/groups/groups.c) decides; this file only translates.  Field order follows
 * the message schemas of each API, with version conditions beside the
 * fields.
 */
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "store/groups/groups.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_groups.h"
#include "store/kafka/kafka_req.h"

#define AUTHORIZED_OPS_OMITTED INT32_MIN

/* Groups unavailable (could not open the offsets journal). */
static bool no_coordinator(struct kafka_req *r)
{
	return r->ctx->groups == NULL;
}

/* COORDINATOR_NOT_AVAILABLE, GROUP_AUTHORIZATION_FAILED (no consume grant
 * on the group, store/kafka/kafka_authz.h) or 0. */
static int16_t group_check(struct kafka_req *r, const char *group)
{
	if (no_coordinator(r))
		return KERR_COORDINATOR_NOT_AVAILABLE;
	return kafka_authz_group(r, group, ACL_CONSUME) ? KERR_NONE
							: KERR_GROUP_AUTHORIZATION_FAILED;
}

static void put_throttle(struct kwire_enc *e, int16_t v, int16_t since)
{
	if (v >= since)
		kwire_put_i32(e, 0);
}

/* ---------------------------------------------------------------- FindCoordinator */

void *kafka_groups_findcoordinator_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_findcoordinator_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	q->key = kwire_get_str(d);
	q->key_type = v >= 1 ? kwire_get_i8(d) : 0;
	return kwire_dec_ok(d) ? q : NULL;
}

void kafka_groups_findcoordinator_handle(struct kafka_req *r)
{
	struct kafka_findcoordinator_req *q = r->body;
	int16_t v = r->hdr.api_version;
	struct kwire_enc *e = kafka_req_begin(r);
	int16_t err = KERR_NONE;
	const char *msg = NULL;

	if (q->key_type == 1) {
		/* TRANSACTION: this broker coordinates every transactional.id */
		if (!r->ctx->txn) {
			err = KERR_COORDINATOR_NOT_AVAILABLE;
			msg = "the transaction coordinator is not running (see the store log)";
		} else if (!kafka_authz_txn(r, q->key)) {
			err = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
		}
	} else if (q->key_type != 0) {
		err = KERR_INVALID_REQUEST;
		msg = "unknown coordinator key type";
	} else if (no_coordinator(r)) {
		err = KERR_COORDINATOR_NOT_AVAILABLE;
		msg = "the group coordinator is not running (see the store log)";
	} else if (group_check(r, q->key)) {
		err = KERR_GROUP_AUTHORIZATION_FAILED;
		msg = "the principal has no grant on this group";
	}
	kafka_req_note(r, err);
	put_throttle(e, v, 1);
	kwire_put_i16(e, err);
	if (v >= 1)
		kwire_put_str(e, msg);
	kwire_put_i32(e, err ? -1 : 0);
	kwire_put_str(e, err ? "" : r->ctx->adv_host);
	kwire_put_i32(e, err ? -1 : r->ctx->adv_port);
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- JoinGroup */

void *kafka_groups_join_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_joingroup_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	q->group_id = kwire_get_str(d);
	q->session_timeout_ms = kwire_get_i32(d);
	q->rebalance_timeout_ms = v >= 1 ? kwire_get_i32(d) : q->session_timeout_ms;
	q->member_id = kwire_get_str(d);
	if (v >= 5)
		q->group_instance_id = kwire_get_nstr(d);
	q->protocol_type = kwire_get_str(d);
	q->nprotocols = kwire_get_array(d, 6);
	if (q->nprotocols < 0)
		kwire_dec_fail(d);
	q->protocols = kwire_alloc(d, q->nprotocols, sizeof(*q->protocols));
	for (int32_t i = 0; i < q->nprotocols && kwire_dec_ok(d); i++) {
		q->protocols[i].name = kwire_get_str(d);
		q->protocols[i].len = kwire_get_bytes(d, &q->protocols[i].metadata);
		if (q->protocols[i].len < 0)
			kwire_dec_fail(d);
	}
	return kwire_dec_ok(d) ? q : NULL;
}

struct join_wait {
	struct groups_waiter w;
	struct kafka_req *r;
};

static void join_done(struct groups_waiter *w, const struct groups_join_result *res)
{
	struct kafka_req *r = ((struct join_wait *)w)->r;
	int16_t v = r->hdr.api_version;
	struct kwire_enc *e = kafka_req_begin(r);

	kafka_req_note(r, res->error);
	put_throttle(e, v, 2);
	kwire_put_i16(e, res->error);
	kwire_put_i32(e, res->generation);
	kwire_put_str(e, res->protocol);
	kwire_put_str(e, res->leader);
	kwire_put_str(e, res->member_id);
	kwire_put_array(e, res->nmembers);
	for (int32_t i = 0; i < res->nmembers; i++) {
		kwire_put_str(e, res->members[i].member_id);
		if (v >= 5)
			kwire_put_str(e, res->members[i].instance_id);
		kwire_put_bytes(e, res->members[i].metadata, res->members[i].len);
	}
	r->cancel = NULL;
	kafka_req_finish(r);
}

static void join_cancel(struct kafka_req *r)
{
	struct join_wait *jw = r->hstate;

	groups_cancel(r->ctx->groups, &jw->w);
}

/* Kafka's client host: "/" and the peer's address without the port. */
static const char *client_host(struct kafka_req *r)
{
	const char *peer = r->peer ? r->peer : "";
	const char *colon = strrchr(peer, ':');
	size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
	char *s = arena_alloc(&r->arena, n + 2);

	if (!s)
		return "";
	s[0] = '/';
	memcpy(s + 1, peer, n);
	s[n + 1] = '\0';
	return s;
}

void kafka_groups_join_handle(struct kafka_req *r)
{
	struct kafka_joingroup_req *q = r->body;
	struct join_wait *jw = arena_alloc(&r->arena, sizeof(*jw));
	struct groups_join_req jr;
	int16_t gerr = group_check(r, q->group_id);

	if (!jw) {
		r->enc.err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	jw->r = r;
	jw->w.join_done = join_done;
	r->hstate = jw;
	if (gerr) {
		struct groups_join_result res = {gerr, -1, "", "", "", 0, NULL};

		join_done(&jw->w, &res);
		return;
	}
	memset(&jr, 0, sizeof(jr));
	jr.group_id = q->group_id;
	jr.session_timeout_ms = q->session_timeout_ms;
	jr.rebalance_timeout_ms = q->rebalance_timeout_ms;
	jr.member_id = q->member_id;
	jr.instance_id = q->group_instance_id;
	jr.protocol_type = q->protocol_type;
	jr.nprotocols = q->nprotocols;
	jr.protocols = q->protocols;
	jr.client_id = r->hdr.client_id ? r->hdr.client_id : "";
	jr.client_host = client_host(r);
	jr.require_known_member = r->hdr.api_version >= 4;
	r->cancel = join_cancel;
	groups_join(r->ctx->groups, &jr, &jw->w);
}

/* ---------------------------------------------------------------- SyncGroup */

void *kafka_groups_sync_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_syncgroup_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	q->group_id = kwire_get_str(d);
	q->generation = kwire_get_i32(d);
	q->member_id = kwire_get_str(d);
	if (v >= 3)
		q->group_instance_id = kwire_get_nstr(d);
	q->nassignments = kwire_get_array(d, 6);
	if (q->nassignments < 0)
		kwire_dec_fail(d);
	q->assignments = kwire_alloc(d, q->nassignments, sizeof(*q->assignments));
	for (int32_t i = 0; i < q->nassignments && kwire_dec_ok(d); i++) {
		q->assignments[i].member_id = kwire_get_str(d);
		q->assignments[i].len = kwire_get_bytes(d, &q->assignments[i].data);
	}
	return kwire_dec_ok(d) ? q : NULL;
}

static void sync_done(struct groups_waiter *w, int16_t err, const uint8_t *a, int32_t len)
{
	struct kafka_req *r = ((struct join_wait *)w)->r;
	struct kwire_enc *e = kafka_req_begin(r);

	kafka_req_note(r, err);
	put_throttle(e, r->hdr.api_version, 1);
	kwire_put_i16(e, err);
	kwire_put_bytes(e, a, a ? len : 0);
	r->cancel = NULL;
	kafka_req_finish(r);
}

void kafka_groups_sync_handle(struct kafka_req *r)
{
	struct kafka_syncgroup_req *q = r->body;
	struct join_wait *jw = arena_alloc(&r->arena, sizeof(*jw));
	struct groups_sync_req sr;
	int16_t gerr = group_check(r, q->group_id);

	if (!jw) {
		r->enc.err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	jw->r = r;
	jw->w.sync_done = sync_done;
	r->hstate = jw;
	if (gerr) {
		sync_done(&jw->w, gerr, NULL, 0);
		return;
	}
	memset(&sr, 0, sizeof(sr));
	sr.group_id = q->group_id;
	sr.generation = q->generation;
	sr.member_id = q->member_id;
	sr.instance_id = q->group_instance_id;
	sr.nassignments = q->nassignments;
	sr.assignments = q->assignments;
	r->cancel = join_cancel;
	groups_sync(r->ctx->groups, &sr, &jw->w);
}

/* ---------------------------------------------------------------- Heartbeat */

void *kafka_groups_heartbeat_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_heartbeat_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	q->group_id = kwire_get_str(d);
	q->generation = kwire_get_i32(d);
	q->member_id = kwire_get_str(d);
	if (v >= 3)
		q->group_instance_id = kwire_get_nstr(d);
	return kwire_dec_ok(d) ? q : NULL;
}

void kafka_groups_heartbeat_handle(struct kafka_req *r)
{
	struct kafka_heartbeat_req *q = r->body;
	int16_t err = group_check(r, q->group_id);
	struct kwire_enc *e;

	if (!err)
		err = groups_heartbeat(r->ctx->groups, q->group_id, q->generation, q->member_id);
	e = kafka_req_begin(r);

	kafka_req_note(r, err);
	put_throttle(e, r->hdr.api_version, 1);
	kwire_put_i16(e, err);
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- LeaveGroup */

void *kafka_groups_leave_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_leavegroup_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	q->group_id = kwire_get_str(d);
	if (v <= 2) {
		q->nmembers = 1;
		q->member_ids = kwire_alloc(d, 1, sizeof(*q->member_ids));
		q->instance_ids = kwire_alloc(d, 1, sizeof(*q->instance_ids));
		if (q->member_ids)
			q->member_ids[0] = kwire_get_str(d);
		return kwire_dec_ok(d) ? q : NULL;
	}
	q->nmembers = kwire_get_array(d, 4);
	if (q->nmembers < 0)
		kwire_dec_fail(d);
	q->member_ids = kwire_alloc(d, q->nmembers, sizeof(*q->member_ids));
	q->instance_ids = kwire_alloc(d, q->nmembers, sizeof(*q->instance_ids));
	for (int32_t i = 0; i < q->nmembers && kwire_dec_ok(d); i++) {
		q->member_ids[i] = kwire_get_str(d);
		q->instance_ids[i] = kwire_get_nstr(d);
	}
	return kwire_dec_ok(d) ? q : NULL;
}

void kafka_groups_leave_handle(struct kafka_req *r)
{
	struct kafka_leavegroup_req *q = r->body;
	int16_t v = r->hdr.api_version;
	struct kwire_enc *e;
	int16_t top = KERR_NONE;
	int16_t *errs =
		arena_calloc(&r->arena, q->nmembers ? (size_t)q->nmembers : 1, sizeof(*errs));

	if (!errs) {
		r->enc.err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	if (no_coordinator(r))
		top = KERR_COORDINATOR_NOT_AVAILABLE;
	else if (!q->group_id[0])
		top = KERR_INVALID_GROUP_ID;
	else
		top = group_check(r, q->group_id);
	for (int32_t i = 0; !top && i < q->nmembers; i++) {
		errs[i] = groups_leave(r->ctx->groups, q->group_id, q->member_ids[i]);
		kafka_req_note(r, errs[i]);
	}
	/* v0-v2 carry the one member's error at the top */
	if (v <= 2 && !top)
		top = errs[0];
	kafka_req_note(r, top);
	e = kafka_req_begin(r);
	put_throttle(e, v, 1);
	kwire_put_i16(e, top);
	if (v >= 3) {
		kwire_put_array(e, top ? 0 : q->nmembers);
		for (int32_t i = 0; !top && i < q->nmembers; i++) {
			kwire_put_str(e, q->member_ids[i]);
			kwire_put_str(e, q->instance_ids[i]);
			kwire_put_i16(e, errs[i]);
		}
	}
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- DescribeGroups */

void *kafka_groups_describe_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_describegroups_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	q->ngroups = kwire_get_array(d, 2);
	if (q->ngroups < 0)
		kwire_dec_fail(d);
	q->groups = kwire_alloc(d, q->ngroups, sizeof(*q->groups));
	for (int32_t i = 0; i < q->ngroups && kwire_dec_ok(d); i++)
		q->groups[i] = kwire_get_str(d);
	if (v >= 3)
		q->include_authorized_operations = kwire_get_bool(d);
	return kwire_dec_ok(d) ? q : NULL;
}

void kafka_groups_describe_handle(struct kafka_req *r)
{
	struct kafka_describegroups_req *q = r->body;
	int16_t v = r->hdr.api_version;
	struct kwire_enc *e = kafka_req_begin(r);

	put_throttle(e, v, 1);
	kwire_put_array(e, q->ngroups);
	for (int32_t i = 0; i < q->ngroups; i++) {
		struct groups_desc gd;
		int16_t err = KERR_NONE;

		memset(&gd, 0, sizeof(gd));
		gd.state = "Dead";
		gd.protocol_type = "";
		gd.protocol = "";
		if (no_coordinator(r))
			err = KERR_COORDINATOR_NOT_AVAILABLE;
		else if (!q->groups[i][0])
			err = KERR_INVALID_GROUP_ID;
		else if (group_check(r, q->groups[i]))
			err = KERR_GROUP_AUTHORIZATION_FAILED;
		else if (groups_describe(r->ctx->groups, q->groups[i], &r->arena, &gd) < 0)
			err = KERR_COORDINATOR_NOT_AVAILABLE;
		if (err)
			gd.nmembers = 0;
		kafka_req_note(r, err);
		kwire_put_i16(e, err);
		kwire_put_str(e, q->groups[i]);
		kwire_put_str(e, gd.state);
		kwire_put_str(e, gd.protocol_type);
		kwire_put_str(e, gd.protocol);
		kwire_put_array(e, gd.nmembers);
		for (int32_t k = 0; k < gd.nmembers; k++) {
			const struct groups_member_desc *m = &gd.members[k];

			kwire_put_str(e, m->member_id);
			if (v >= 4)
				kwire_put_str(e, m->instance_id);
			kwire_put_str(e, m->client_id);
			kwire_put_str(e, m->client_host);
			kwire_put_bytes(e, m->metadata, m->metadata ? m->metadata_len : 0);
			kwire_put_bytes(e, m->assignment, m->assignment ? m->assignment_len : 0);
		}
		if (v >= 3)
			kwire_put_i32(e, AUTHORIZED_OPS_OMITTED);
	}
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- ListGroups */

void *kafka_groups_list_decode(struct kwire_dec *d, int16_t v)
{
	(void)v;
	/* an empty body; any non-NULL pointer marks success */
	return kwire_alloc(d, 1, 1);
}

void kafka_groups_list_handle(struct kafka_req *r)
{
	const char **ids = NULL, **types = NULL;
	struct kwire_enc *e;
	int16_t err = KERR_NONE;
	size_t n = 0;

	if (no_coordinator(r))
		err = KERR_COORDINATOR_NOT_AVAILABLE;
	else if (groups_list(r->ctx->groups, &r->arena, &ids, &types, &n) < 0)
		err = KERR_COORDINATOR_NOT_AVAILABLE;
	if (err)
		n = 0;
	kafka_req_note(r, err);
	e = kafka_req_begin(r);
	put_throttle(e, r->hdr.api_version, 1);
	kwire_put_i16(e, err);
	for (size_t i = 0, k = 0; i < n; i++) {
		/* only the groups the principal may see, compacted in place */
		if (kafka_authz_may(r, ACL_GROUP, ids[i], ACL_CONSUME)) {
			ids[k] = ids[i];
			types[k++] = types[i];
		}
		if (i + 1 == n)
			n = k;
	}
	kwire_put_array(e, (int32_t)n);
	for (size_t i = 0; i < n; i++) {
		kwire_put_str(e, ids[i]);
		kwire_put_str(e, types[i]);
	}
	kafka_req_finish(r);
}
