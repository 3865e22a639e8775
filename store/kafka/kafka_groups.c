/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Group APIs on the schema framework: FindCoordinator, JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, DescribeGroups and ListGroups.  Requests arrive
 * decoded into the generated structs (store/kafka/kmsg_gen.h), responses are
 * built in them and encoded by kafka_req_respond() at the request's version;
 * the only version tests here are where Kafka's semantics change with the
 * version (noted).  The coordinator (store/groups/groups.h) decides; this
 * file only translates.
 */
#include <string.h>
#include <strings.h>

#include "lib/err.h"
#include "lib/log.h"
#include "store/groups/groups.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_groups.h"
#include "store/kafka/kafka_req.h"
#include "store/kafka/kmsg_gen.h"
#include "store/kafka/kschema.h"

/* Kafka's AclOperation codes, as bits of authorized_operations */
#define KOP_READ 3
#define KOP_DELETE 6
#define KOP_DESCRIBE 8

/* n (>= 0) elements of a generated struct at their defaults. */
#define NEW_N(r, T, n) kmsg_new(&(r)->arena, T, (n) > 0 ? (n) : 1)

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

static void respond_oom(struct kafka_req *r)
{
	r->cancel = NULL;
	r->enc.err = -ENOMEM;
	kafka_req_finish(r);
}

static struct kbytes bytes_of(const uint8_t *p, int32_t n)
{
	struct kbytes b = {p ? p : (const uint8_t *)"", p && n > 0 ? n : 0, NULL};

	return b;
}

/* ---------------------------------------------------------------- FindCoordinator */

/* One key's coordinator: this broker for groups (checked like every group
 * request) and for transactional ids, since the store is its own transaction
 * coordinator. */
static void find_one(struct kafka_req *r, int8_t type, char *key,
		     struct kmsg_find_coordinator_resp_coordinator *c)
{
	const char *msg = NULL;
	int16_t err = KERR_NONE;

	if (type != 0 && type != 1) {
		err = KERR_INVALID_REQUEST;
		msg = "unknown coordinator key type";
	} else if (type == 1 && !r->ctx->txn) {
		err = KERR_COORDINATOR_NOT_AVAILABLE;
		msg = "the transaction coordinator is not running (see the store log)";
	} else if (type == 1 && !kafka_authz_txn(r, key)) {
		err = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
	} else if (type == 0 && no_coordinator(r)) {
		err = KERR_COORDINATOR_NOT_AVAILABLE;
		msg = "the group coordinator is not running (see the store log)";
	} else if (type == 0 && group_check(r, key)) {
		err = KERR_GROUP_AUTHORIZATION_FAILED;
		msg = "the principal has no grant on this group";
	}
	kafka_req_note(r, err);
	c->key = key;
	c->error_code = err;
	c->error_message = (char *)msg;
	c->node_id = err ? -1 : 0;
	c->host = err ? (char *)"" : (char *)r->ctx->adv_host;
	c->port = err ? -1 : r->ctx->adv_port;
}

void kafka_groups_findcoordinator_handle(struct kafka_req *r)
{
	struct kmsg_find_coordinator_req *q = r->body;
	struct kmsg_find_coordinator_resp *resp =
		kmsg_new(&r->arena, kmsg_find_coordinator_resp, 1);
	struct kmsg_find_coordinator_resp_coordinator one;
	int32_t n = q->n_coordinator_keys > 0 ? q->n_coordinator_keys : 0;

	if (!resp) {
		respond_oom(r);
		return;
	}
	/* v0-v3 ask for one key at the top level, v4+ for a batch */
	if (r->hdr.api_version < 4) {
		find_one(r, q->key_type, q->key, &one);
		resp->error_code = one.error_code;
		resp->error_message = one.error_message;
		resp->node_id = one.node_id;
		resp->host = one.host;
		resp->port = one.port;
	} else {
		resp->coordinators = NEW_N(r, kmsg_find_coordinator_resp_coordinator, n);
		if (!resp->coordinators) {
			respond_oom(r);
			return;
		}
		resp->n_coordinators = n;
		for (int32_t i = 0; i < n; i++)
			find_one(r, q->key_type, q->coordinator_keys[i], &resp->coordinators[i]);
	}
	kafka_req_respond(r, resp);
}

/* ---------------------------------------------------------------- JoinGroup */

struct join_wait {
	struct groups_waiter w;
	struct kafka_req *r;
};

static void join_done(struct groups_waiter *w, const struct groups_join_result *res)
{
	struct kafka_req *r = ((struct join_wait *)w)->r;
	struct kmsg_join_group_req *q = r->body;
	struct kmsg_join_group_resp *resp = kmsg_new(&r->arena, kmsg_join_group_resp, 1);
	int32_t n = res->nmembers;

	r->cancel = NULL;
	/* before v9 a leader told to skip the assignment gets no members */
	if (res->skip_assignment && r->hdr.api_version < 9)
		n = 0;
	if (resp)
		resp->members = NEW_N(r, kmsg_join_group_resp_member, n);
	if (!resp || !resp->members) {
		respond_oom(r);
		return;
	}
	kafka_req_note(r, res->error);
	resp->error_code = res->error;
	resp->generation_id = res->generation;
	/* v7+: null protocol type and name unless a protocol was selected */
	resp->protocol_name = res->protocol[0] ? (char *)res->protocol : NULL;
	resp->protocol_type = res->protocol[0] ? q->protocol_type : NULL;
	if (r->hdr.api_version < 7 && !resp->protocol_name)
		resp->protocol_name = (char *)"";
	resp->leader = (char *)res->leader;
	resp->member_id = (char *)res->member_id;
	resp->skip_assignment = res->skip_assignment;
	resp->n_members = n;
	for (int32_t i = 0; i < n; i++) {
		struct kmsg_join_group_resp_member *m = &resp->members[i];

		m->member_id = (char *)res->members[i].member_id;
		m->group_instance_id = (char *)res->members[i].instance_id;
		m->metadata = bytes_of(res->members[i].metadata, res->members[i].len);
	}
	/* encoded now: res borrows the coordinator's memory */
	kafka_req_respond(r, resp);
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

static struct join_wait *join_wait_new(struct kafka_req *r)
{
	struct join_wait *jw = arena_calloc(&r->arena, 1, sizeof(*jw));

	if (!jw)
		return NULL;
	jw->r = r;
	r->hstate = jw;
	return jw;
}

void kafka_groups_join_handle(struct kafka_req *r)
{
	struct kmsg_join_group_req *q = r->body;
	struct join_wait *jw = join_wait_new(r);
	int32_t np = q->n_protocols > 0 ? q->n_protocols : 0;
	struct groups_protocol *protos =
		arena_calloc(&r->arena, np ? (size_t)np : 1, sizeof(*protos));
	struct groups_join_req jr;
	int16_t gerr = group_check(r, q->group_id);

	if (!jw || !protos) {
		respond_oom(r);
		return;
	}
	jw->w.join_done = join_done;
	if (gerr) {
		struct groups_join_result res = {gerr, -1, "", "", "", 0, NULL, false};

		join_done(&jw->w, &res);
		return;
	}
	for (int32_t i = 0; i < np; i++) {
		protos[i].name = q->protocols[i].name;
		protos[i].metadata = q->protocols[i].metadata.p;
		protos[i].len = q->protocols[i].metadata.n;
	}
	if (q->reason)
		log_debug("groups: %s: join of %s: %s", q->group_id, q->member_id, q->reason);
	memset(&jr, 0, sizeof(jr));
	jr.group_id = q->group_id;
	jr.session_timeout_ms = q->session_timeout_ms;
	/* v0 has no rebalance timeout: the session timeout stands in */
	jr.rebalance_timeout_ms =
		r->hdr.api_version >= 1 ? q->rebalance_timeout_ms : q->session_timeout_ms;
	jr.member_id = q->member_id;
	jr.instance_id = q->group_instance_id;
	jr.protocol_type = q->protocol_type;
	jr.nprotocols = np;
	jr.protocols = protos;
	jr.client_id = r->hdr.client_id ? r->hdr.client_id : "";
	jr.client_host = client_host(r);
	jr.require_known_member = r->hdr.api_version >= 4;
	r->cancel = join_cancel;
	groups_join(r->ctx->groups, &jr, &jw->w);
}

/* ---------------------------------------------------------------- SyncGroup */

static void sync_done(struct groups_waiter *w, int16_t err, const uint8_t *a, int32_t len)
{
	struct kafka_req *r = ((struct join_wait *)w)->r;
	struct kmsg_sync_group_req *q = r->body;
	struct kmsg_sync_group_resp *resp = kmsg_new(&r->arena, kmsg_sync_group_resp, 1);
	const char *type = NULL, *name = NULL;

	r->cancel = NULL;
	if (!resp) {
		respond_oom(r);
		return;
	}
	if (!err && r->ctx->groups)
		groups_protocol(r->ctx->groups, q->group_id, &type, &name);
	kafka_req_note(r, err);
	resp->error_code = err;
	resp->protocol_type = (char *)type;
	resp->protocol_name = (char *)name;
	resp->assignment = bytes_of(a, len);
	kafka_req_respond(r, resp);
}

/* v5+: a protocol type or name that is not the group's. */
static bool sync_inconsistent(struct kafka_req *r, const struct kmsg_sync_group_req *q)
{
	const char *type, *name;

	groups_protocol(r->ctx->groups, q->group_id, &type, &name);
	return (q->protocol_type && type && strcmp(q->protocol_type, type) != 0) ||
	       (q->protocol_name && name && strcmp(q->protocol_name, name) != 0);
}

void kafka_groups_sync_handle(struct kafka_req *r)
{
	struct kmsg_sync_group_req *q = r->body;
	struct join_wait *jw = join_wait_new(r);
	int32_t na = q->n_assignments > 0 ? q->n_assignments : 0;
	struct groups_assignment *as = arena_calloc(&r->arena, na ? (size_t)na : 1, sizeof(*as));
	struct groups_sync_req sr;
	int16_t gerr = group_check(r, q->group_id);

	if (!jw || !as) {
		respond_oom(r);
		return;
	}
	jw->w.sync_done = sync_done;
	if (!gerr && sync_inconsistent(r, q))
		gerr = KERR_INCONSISTENT_GROUP_PROTOCOL;
	if (gerr) {
		sync_done(&jw->w, gerr, NULL, 0);
		return;
	}
	for (int32_t i = 0; i < na; i++) {
		as[i].member_id = q->assignments[i].member_id;
		as[i].data = q->assignments[i].assignment.p;
		as[i].len = q->assignments[i].assignment.n;
	}
	memset(&sr, 0, sizeof(sr));
	sr.group_id = q->group_id;
	sr.generation = q->generation_id;
	sr.member_id = q->member_id;
	sr.instance_id = q->group_instance_id;
	sr.nassignments = na;
	sr.assignments = as;
	r->cancel = join_cancel;
	groups_sync(r->ctx->groups, &sr, &jw->w);
}

/* ---------------------------------------------------------------- Heartbeat */

void kafka_groups_heartbeat_handle(struct kafka_req *r)
{
	struct kmsg_heartbeat_req *q = r->body;
	struct kmsg_heartbeat_resp *resp = kmsg_new(&r->arena, kmsg_heartbeat_resp, 1);
	int16_t err = group_check(r, q->group_id);

	if (!resp) {
		respond_oom(r);
		return;
	}
	if (!err)
		err = groups_heartbeat(r->ctx->groups, q->group_id, q->generation_id, q->member_id,
				       q->group_instance_id);
	kafka_req_note(r, err);
	resp->error_code = err;
	kafka_req_respond(r, resp);
}

/* ---------------------------------------------------------------- LeaveGroup */

void kafka_groups_leave_handle(struct kafka_req *r)
{
	struct kmsg_leave_group_req *q = r->body;
	struct kmsg_leave_group_resp *resp = kmsg_new(&r->arena, kmsg_leave_group_resp, 1);
	bool batch = r->hdr.api_version >= 3; /* v0-v2: one member, at the top */
	int32_t n = batch ? (q->n_members > 0 ? q->n_members : 0) : 1;
	struct kmsg_leave_group_resp_member_response *out;
	int16_t top = KERR_NONE;

	if (resp)
		resp->members = NEW_N(r, kmsg_leave_group_resp_member_response, n);
	if (!resp || !resp->members) {
		respond_oom(r);
		return;
	}
	if (no_coordinator(r))
		top = KERR_COORDINATOR_NOT_AVAILABLE;
	else if (!q->group_id[0])
		top = KERR_INVALID_GROUP_ID;
	else
		top = group_check(r, q->group_id);
	out = resp->members;
	for (int32_t i = 0; !top && i < n; i++) {
		const struct kmsg_leave_group_req_member_identity *m =
			batch ? &q->members[i] : NULL;

		out[i].member_id = m ? m->member_id : q->member_id;
		out[i].group_instance_id = m ? m->group_instance_id : NULL;
		if (m && m->reason)
			log_debug("groups: %s: %s leaves: %s", q->group_id, m->member_id,
				  m->reason);
		out[i].error_code = groups_leave(r->ctx->groups, q->group_id, out[i].member_id,
						 out[i].group_instance_id);
		kafka_req_note(r, out[i].error_code);
	}
	if (!batch && !top)
		top = out[0].error_code;
	kafka_req_note(r, top);
	resp->error_code = top;
	resp->n_members = batch && !top ? n : 0;
	kafka_req_respond(r, resp);
}

/* ---------------------------------------------------------------- DescribeGroups */

/* authorized_operations of a group for the principal (KIP-430). */
static int32_t group_ops(struct kafka_req *r, const char *group)
{
	int32_t ops = 0;

	if (kafka_authz_may(r, ACL_GROUP, group, ACL_CONSUME))
		ops |= (1 << KOP_READ) | (1 << KOP_DESCRIBE);
	if (kafka_authz_may(r, ACL_GROUP, group, ACL_ADMIN))
		ops |= (1 << KOP_DELETE) | (1 << KOP_DESCRIBE);
	return ops;
}

static int describe_one(struct kafka_req *r, char *id, bool ops,
			struct kmsg_describe_groups_resp_described_group *out)
{
	struct groups_desc gd;
	int16_t err = KERR_NONE;

	memset(&gd, 0, sizeof(gd));
	gd.state = "Dead";
	gd.protocol_type = "";
	gd.protocol = "";
	if (no_coordinator(r))
		err = KERR_COORDINATOR_NOT_AVAILABLE;
	else if (!id[0])
		err = KERR_INVALID_GROUP_ID;
	else if (group_check(r, id))
		err = KERR_GROUP_AUTHORIZATION_FAILED;
	else if (groups_describe(r->ctx->groups, id, &r->arena, &gd) < 0)
		err = KERR_COORDINATOR_NOT_AVAILABLE;
	if (err)
		gd.nmembers = 0;
	kafka_req_note(r, err);
	out->error_code = err;
	out->group_id = id;
	out->group_state = (char *)gd.state;
	out->protocol_type = (char *)gd.protocol_type;
	out->protocol_data = (char *)gd.protocol;
	if (ops && !err)
		out->authorized_operations = group_ops(r, id);
	out->members = NEW_N(r, kmsg_describe_groups_resp_described_group_member, gd.nmembers);
	if (!out->members)
		return -ENOMEM;
	out->n_members = gd.nmembers;
	for (int32_t k = 0; k < gd.nmembers; k++) {
		const struct groups_member_desc *m = &gd.members[k];
		struct kmsg_describe_groups_resp_described_group_member *o = &out->members[k];

		o->member_id = (char *)m->member_id;
		o->group_instance_id = (char *)m->instance_id;
		o->client_id = (char *)m->client_id;
		o->client_host = (char *)m->client_host;
		o->member_metadata = bytes_of(m->metadata, m->metadata_len);
		o->member_assignment = bytes_of(m->assignment, m->assignment_len);
	}
	return 0;
}

void kafka_groups_describe_handle(struct kafka_req *r)
{
	struct kmsg_describe_groups_req *q = r->body;
	struct kmsg_describe_groups_resp *resp = kmsg_new(&r->arena, kmsg_describe_groups_resp, 1);
	int32_t n = q->n_groups > 0 ? q->n_groups : 0;

	if (resp)
		resp->groups = NEW_N(r, kmsg_describe_groups_resp_described_group, n);
	if (!resp || !resp->groups) {
		respond_oom(r);
		return;
	}
	resp->n_groups = n;
	for (int32_t i = 0; i < n; i++) {
		if (describe_one(r, q->groups[i], q->include_authorized_operations,
				 &resp->groups[i]) < 0) {
			respond_oom(r);
			return;
		}
	}
	kafka_req_respond(r, resp);
}

/* ---------------------------------------------------------------- ListGroups */

static bool in_filter(char **v, int32_t n, const char *s)
{
	if (n <= 0)
		return true; /* no filter */
	for (int32_t i = 0; i < n; i++)
		if (strcasecmp(v[i], s) == 0)
			return true;
	return false;
}

void kafka_groups_list_handle(struct kafka_req *r)
{
	struct kmsg_list_groups_req *q = r->body;
	struct kmsg_list_groups_resp *resp = kmsg_new(&r->arena, kmsg_list_groups_resp, 1);
	struct groups_listing *gl = NULL;
	int16_t err = KERR_NONE;
	size_t n = 0;
	int32_t k = 0;

	if (!resp) {
		respond_oom(r);
		return;
	}
	if (no_coordinator(r))
		err = KERR_COORDINATOR_NOT_AVAILABLE;
	else if (groups_list(r->ctx->groups, &r->arena, &gl, &n) < 0)
		err = KERR_COORDINATOR_NOT_AVAILABLE;
	if (err || n > INT32_MAX || !in_filter(q->types_filter, q->n_types_filter, "classic"))
		n = 0; /* every group here is a classic group (KIP-848 types: v5) */
	resp->groups = NEW_N(r, kmsg_list_groups_resp_listed_group, (int32_t)n);
	if (!resp->groups) {
		respond_oom(r);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct kmsg_list_groups_resp_listed_group *o = &resp->groups[k];

		/* only the groups the principal may see; v4's state filter */
		if (!kafka_authz_may(r, ACL_GROUP, gl[i].id, ACL_CONSUME) ||
		    !in_filter(q->states_filter, q->n_states_filter, gl[i].state))
			continue;
		o->group_id = (char *)gl[i].id;
		o->protocol_type = (char *)gl[i].protocol_type;
		o->group_state = (char *)gl[i].state;
		o->group_type = (char *)"classic";
		k++;
	}
	kafka_req_note(r, err);
	resp->error_code = err;
	resp->n_groups = k;
	kafka_req_respond(r, resp);
}
