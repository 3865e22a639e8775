/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group coordinator's state machine: groups, members, KIP-394 pending
 * members, rebalances with their timers, and the membership check of offset
 * commits.  Commits themselves are in store/groups/groups_commit.c,
 * describe/list/lag/metrics in store/groups/groups_view.c; the three share
 * store/groups/groups_int.h.
 *
 * Error codes follow Kafka's GroupCoordinator (2.x, with the later fixes
 * that a heartbeat during CompletingRebalance is accepted and that members
 * which never sync are removed after the rebalance timeout).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/groups/groups.h"
#include "store/groups/groups_int.h"
#include "store/kafka/kafka_errors.h"

const char *const groups_state_names[] = {"Empty", "PreparingRebalance", "CompletingRebalance",
					  "Stable", "Dead"};

/* ---------------------------------------------------------------- lookup */

static uint64_t str_hash(const char *s)
{
	return hmap_hash(HMAP_SEED, s, strlen(s));
}

struct group *groups_find(struct groups *g, const char *id)
{
	uint64_t h = str_hash(id);

	for (struct hmap_node *n = hmap_first(&g->table, h); n; n = hmap_next(n, h)) {
		struct group *grp = hmap_entry(n, struct group, node);

		if (strcmp(grp->id, id) == 0)
			return grp;
	}
	return NULL;
}

static struct group *group_create(struct groups *g, const char *id)
{
	struct group *grp = mem_calloc(1, sizeof(*grp));

	if (!grp)
		return NULL;
	grp->id = mem_strdup(id);
	if (!grp->id || hmap_insert(&g->table, &grp->node, str_hash(id)) < 0) {
		mem_free(grp->id);
		mem_free(grp);
		return NULL;
	}
	grp->g = g;
	grp->state = GS_EMPTY;
	grp->empty_since_ms = clock_wall_ms();
	groups_publish(grp);
	return grp;
}

static struct gmember *member_find(struct group *grp, const char *id)
{
	for (struct gmember *m = grp->members; m; m = m->next)
		if (strcmp(m->id, id) == 0)
			return m;
	return NULL;
}

static struct gpending *pending_find(struct group *grp, const char *id)
{
	for (struct gpending *p = grp->pending; p; p = p->next)
		if (strcmp(p->id, id) == 0)
			return p;
	return NULL;
}

/* ---------------------------------------------------------------- members */

static void session_expired(struct evloop_timer *t);

static void session_reset(struct gmember *m)
{
	evloop_timer_start(m->grp->g->loop, &m->session, (uint64_t)m->session_ms, 0,
			   session_expired, m);
}

static void member_free(struct gmember *m)
{
	evloop_timer_stop(&m->session);
	groups_protos_free(m);
	mem_free(m->id);
	mem_free(m->instance_id);
	mem_free(m->client_id);
	mem_free(m->client_host);
	mem_free(m->assignment);
	mem_free(m);
}

static void set_assignment(struct gmember *m, const uint8_t *p, int32_t len)
{
	uint8_t *a = NULL;

	if (len > 0) {
		a = mem_alloc((size_t)len);
		if (!a)
			len = 0; /* the member sees an empty assignment and rejoins */
		else
			memcpy(a, p, (size_t)len);
	}
	mem_free(m->assignment);
	m->assignment = a;
	m->assignment_len = len > 0 ? len : 0;
}

static void join_reply_error(struct groups_waiter *w, int16_t err, const char *member_id)
{
	struct groups_join_result res;

	memset(&res, 0, sizeof(res));
	res.error = err;
	res.generation = -1;
	res.protocol = "";
	res.leader = "";
	res.member_id = member_id ? member_id : "";
	w->priv = NULL;
	w->join_done(w, &res);
}

static void sync_reply(struct groups_waiter *w, int16_t err, const uint8_t *a, int32_t len)
{
	w->priv = NULL;
	w->sync_done(w, err, a, len);
}

/* Answer whatever m has parked with err (it is leaving the rebalance). */
static void member_flush_waiters(struct gmember *m, int16_t err)
{
	if (m->join_w) {
		struct groups_waiter *w = m->join_w;

		m->join_w = NULL;
		join_reply_error(w, err, m->id);
	}
	if (m->sync_w) {
		struct groups_waiter *w = m->sync_w;

		m->sync_w = NULL;
		sync_reply(w, err, NULL, 0);
	}
	m->awaiting_join = false;
	m->awaiting_sync = false;
}

/* Unlink and free m; fix up the leader.  No rebalance here. */
static void member_remove(struct group *grp, struct gmember *m)
{
	struct gmember **pp = &grp->members;

	member_flush_waiters(m, KERR_UNKNOWN_MEMBER_ID);
	while (*pp && *pp != m)
		pp = &(*pp)->next;
	if (*pp)
		*pp = m->next;
	grp->nmembers--;
	if (grp->leader == m)
		grp->leader = grp->members;
	member_free(m);
}

static void pending_remove(struct group *grp, struct gpending *p)
{
	struct gpending **pp = &grp->pending;

	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	evloop_timer_stop(&p->timer);
	mem_free(p->id);
	mem_free(p);
}

/* ---------------------------------------------------------------- rebalancing */

static void join_timer_fired(struct evloop_timer *t);
static void sync_timer_fired(struct evloop_timer *t);

static int32_t max_rebalance_ms(const struct group *grp)
{
	int32_t ms = 0;

	for (const struct gmember *m = grp->members; m; m = m->next)
		if (m->rebalance_ms > ms)
			ms = m->rebalance_ms;
	return ms > 0 ? ms : 1000;
}

static bool all_joined(const struct group *grp)
{
	if (grp->pending)
		return false;
	for (const struct gmember *m = grp->members; m; m = m->next)
		if (!m->awaiting_join)
			return false;
	return true;
}

static void complete_join(struct group *grp)
{
	struct groups *g = grp->g;
	struct groups_member_info *infos = NULL;
	const char *proto;
	int32_t n = 0;

	evloop_timer_stop(&grp->join_timer);
	grp->initial_join = false;
	/* members that did not rejoin in time are out */
	for (struct gmember *m = grp->members, *next; m; m = next) {
		next = m->next;
		if (!m->awaiting_join) {
			log_info("groups: %s: member %s did not rejoin in time; removed", grp->id,
				 m->id);
			member_remove(grp, m);
		}
	}
	while (grp->pending)
		pending_remove(grp, grp->pending);
	grp->generation++;
	mem_free(grp->protocol);
	grp->protocol = NULL;
	if (!grp->members) {
		grp->state = GS_EMPTY;
		grp->empty_since_ms = clock_wall_ms();
		grp->leader = NULL;
		log_info("groups: %s is empty (generation %" PRId32 ")", grp->id, grp->generation);
		groups_publish(grp);
		return;
	}
	proto = groups_select_protocol(grp);
	grp->protocol = mem_strdup(proto ? proto : "");
	if (!grp->leader)
		grp->leader = grp->members;
	grp->state = GS_COMPLETING;
	atomic_fetch_add_explicit(&g->rebalances, 1, memory_order_relaxed);
	infos = mem_calloc((size_t)grp->nmembers, sizeof(*infos));
	for (struct gmember *m = grp->members; infos && m; m = m->next) {
		const struct gproto *p = groups_member_proto(m, grp->protocol);

		infos[n].member_id = m->id;
		infos[n].instance_id = m->instance_id;
		infos[n].metadata = p ? p->meta : NULL;
		infos[n].len = p ? p->len : 0;
		n++;
	}
	log_info("groups: %s generation %" PRId32 ": %" PRId32 " members, protocol %s, leader %s",
		 grp->id, grp->generation, grp->nmembers, grp->protocol, grp->leader->id);
	for (struct gmember *m = grp->members; m; m = m->next) {
		struct groups_waiter *w = m->join_w;
		struct groups_join_result res;

		m->awaiting_join = false;
		m->synced = false;
		m->join_w = NULL;
		set_assignment(m, NULL, 0);
		session_reset(m);
		if (!w)
			continue; /* its connection is gone; the sync timeout decides */
		memset(&res, 0, sizeof(res));
		res.error = infos ? KERR_NONE : KERR_COORDINATOR_NOT_AVAILABLE;
		res.generation = grp->generation;
		res.protocol = grp->protocol;
		res.leader = grp->leader->id;
		res.member_id = m->id;
		if (m == grp->leader && infos) {
			res.nmembers = n;
			res.members = infos;
		}
		w->priv = NULL;
		w->join_done(w, &res);
	}
	mem_free(infos);
	evloop_timer_start(g->loop, &grp->sync_timer, (uint64_t)max_rebalance_ms(grp), 0,
			   sync_timer_fired, grp);
	groups_publish(grp);
}

static void try_complete_join(struct group *grp)
{
	if (grp->state == GS_PREPARING && !grp->initial_join && all_joined(grp))
		complete_join(grp);
}

static void prepare_rebalance(struct group *grp, const char *why)
{
	struct groups *g = grp->g;
	bool was_empty = grp->state == GS_EMPTY;
	uint64_t timeout = (uint64_t)max_rebalance_ms(grp);

	if (grp->state == GS_COMPLETING) {
		/* assignments of the aborted generation are void */
		for (struct gmember *m = grp->members; m; m = m->next) {
			if (m->sync_w) {
				struct groups_waiter *w = m->sync_w;

				m->sync_w = NULL;
				sync_reply(w, KERR_REBALANCE_IN_PROGRESS, NULL, 0);
			}
			m->awaiting_sync = false;
			set_assignment(m, NULL, 0);
		}
	}
	evloop_timer_stop(&grp->sync_timer);
	grp->state = GS_PREPARING;
	log_info("groups: %s preparing rebalance (generation %" PRId32 "): %s", grp->id,
		 grp->generation, why);
	if (was_empty && g->initial_delay_ms > 0 && (uint64_t)g->initial_delay_ms < timeout) {
		/* Kafka's initial delay: wait for more members of a group that is
		 * just forming, up to the rebalance timeout */
		grp->initial_join = true;
		grp->initial_budget_ms = timeout - (uint64_t)g->initial_delay_ms;
		grp->joined_since_arm = false;
		evloop_timer_start(g->loop, &grp->join_timer, (uint64_t)g->initial_delay_ms, 0,
				   join_timer_fired, grp);
	} else {
		grp->initial_join = false;
		evloop_timer_start(g->loop, &grp->join_timer, timeout, 0, join_timer_fired, grp);
	}
	groups_publish(grp);
	try_complete_join(grp);
}

static void join_timer_fired(struct evloop_timer *t)
{
	struct group *grp = t->data;
	struct groups *g = grp->g;

	if (grp->state != GS_PREPARING)
		return;
	if (grp->initial_join && grp->joined_since_arm && grp->initial_budget_ms > 0) {
		uint64_t d = (uint64_t)g->initial_delay_ms;

		if (d > grp->initial_budget_ms)
			d = grp->initial_budget_ms;
		grp->initial_budget_ms -= d;
		grp->joined_since_arm = false;
		evloop_timer_start(g->loop, &grp->join_timer, d, 0, join_timer_fired, grp);
		return;
	}
	complete_join(grp);
}

static void sync_timer_fired(struct evloop_timer *t)
{
	struct group *grp = t->data;
	bool removed = false;

	if (grp->state != GS_COMPLETING)
		return;
	for (struct gmember *m = grp->members, *next; m; m = next) {
		next = m->next;
		if (!m->synced) {
			log_info("groups: %s: member %s did not sync in time; removed", grp->id,
				 m->id);
			member_remove(grp, m);
			removed = true;
		}
	}
	if (removed)
		prepare_rebalance(grp, "members did not sync within the rebalance timeout");
}

/* A member is gone (left, expired): rebalance the rest. */
static void member_gone(struct group *grp, struct gmember *m, const char *why)
{
	char reason[160];

	snprintf(reason, sizeof(reason), "member %.80s %s", m->id, why);
	member_remove(grp, m);
	switch (grp->state) {
	case GS_STABLE:
	case GS_COMPLETING:
		prepare_rebalance(grp, reason);
		break;
	case GS_PREPARING:
		try_complete_join(grp);
		break;
	default:
		break;
	}
	groups_publish(grp);
	groups_gc(grp);
}

static void session_expired(struct evloop_timer *t)
{
	struct gmember *m = t->data;

	/* parked in a join or sync: the rebalance and sync timeouts decide */
	if (m->awaiting_join || m->awaiting_sync) {
		session_reset(m);
		return;
	}
	log_info("groups: %s: member %s missed its %" PRId32 " ms session timeout", m->grp->id,
		 m->id, m->session_ms);
	member_gone(m->grp, m, "session timed out");
}

static void pending_expired(struct evloop_timer *t)
{
	struct gpending *p = t->data;
	struct group *grp = p->grp;

	pending_remove(grp, p);
	try_complete_join(grp);
	groups_gc(grp);
}

/* ---------------------------------------------------------------- JoinGroup */

static bool supports_protocols(const struct group *grp, const struct groups_join_req *req)
{
	if (!req->protocol_type[0] || req->nprotocols <= 0)
		return false;
	if (!grp->members)
		return true;
	if (strcmp(grp->protocol_type ? grp->protocol_type : "", req->protocol_type) != 0)
		return false;
	/* at least one protocol every current member supports */
	for (int32_t i = 0; i < req->nprotocols; i++) {
		bool all = true;

		for (const struct gmember *m = grp->members; m && all; m = m->next)
			all = groups_member_proto(m, req->protocols[i].name) != NULL;
		if (all)
			return true;
	}
	return false;
}

static int member_update(struct gmember *m, const struct groups_join_req *req,
			 struct groups_waiter *w)
{
	int rc = groups_protos_copy(m, req);

	if (rc < 0)
		return rc;
	m->session_ms = req->session_timeout_ms;
	m->rebalance_ms = req->rebalance_timeout_ms;
	if (m->join_w && m->join_w != w) {
		/* a second join from the same member replaces the first */
		struct groups_waiter *old = m->join_w;

		m->join_w = NULL;
		join_reply_error(old, KERR_REBALANCE_IN_PROGRESS, m->id);
	}
	m->join_w = w;
	w->priv = m;
	m->awaiting_join = true;
	m->grp->joined_since_arm = true;
	return 0;
}

static void add_member_and_rebalance(struct group *grp, char *id, const struct groups_join_req *req,
				     struct groups_waiter *w)
{
	struct gmember *m = mem_calloc(1, sizeof(*m)), **pp;

	if (!m) {
		mem_free(id);
		join_reply_error(w, KERR_COORDINATOR_NOT_AVAILABLE, NULL);
		return;
	}
	m->grp = grp;
	m->id = id;
	m->instance_id = req->instance_id ? mem_strdup(req->instance_id) : NULL;
	m->client_id = mem_strdup(req->client_id ? req->client_id : "");
	m->client_host = mem_strdup(req->client_host ? req->client_host : "");
	if (!m->client_id || !m->client_host || member_update(m, req, w) < 0) {
		member_free(m);
		join_reply_error(w, KERR_COORDINATOR_NOT_AVAILABLE, NULL);
		return;
	}
	if (!grp->members) {
		mem_free(grp->protocol_type);
		grp->protocol_type = mem_strdup(req->protocol_type);
	}
	for (pp = &grp->members; *pp; pp = &(*pp)->next)
		;
	*pp = m;
	grp->nmembers++;
	if (!grp->leader)
		grp->leader = m;
	session_reset(m);
	log_info("groups: %s: member %s joined (client %s, session %" PRId32
		 " ms, rebalance %" PRId32 " ms)",
		 grp->id, m->id, m->client_id, m->session_ms, m->rebalance_ms);
	if (grp->state == GS_PREPARING)
		try_complete_join(grp);
	else
		prepare_rebalance(grp, "a member joined");
}

/* Answer a join that changes nothing with the current generation; a leader
 * retrying its join while the group waits for its SyncGroup gets the member
 * list again (it may have lost the first answer).  skip: a static leader
 * taking over in Stable gets the member list with skip_assignment (KIP-814):
 * the assignment stands. */
static void reply_current(struct group *grp, struct gmember *m, struct groups_waiter *w, bool skip)
{
	struct groups_member_info *infos = NULL;
	struct groups_join_result res;
	int32_t n = 0;

	memset(&res, 0, sizeof(res));
	res.error = KERR_NONE;
	res.generation = grp->generation;
	res.protocol = grp->protocol ? grp->protocol : "";
	res.leader = grp->leader ? grp->leader->id : "";
	res.member_id = m->id;
	res.skip_assignment = skip && m == grp->leader;
	if (m == grp->leader && (grp->state == GS_COMPLETING || res.skip_assignment)) {
		infos = mem_calloc((size_t)grp->nmembers, sizeof(*infos));
		for (struct gmember *o = grp->members; infos && o; o = o->next) {
			const struct gproto *p = groups_member_proto(o, grp->protocol);

			infos[n].member_id = o->id;
			infos[n].instance_id = o->instance_id;
			infos[n].metadata = p ? p->meta : NULL;
			infos[n].len = p ? p->len : 0;
			n++;
		}
		if (!infos)
			res.error = KERR_COORDINATOR_NOT_AVAILABLE;
		res.nmembers = n;
		res.members = infos;
	}
	w->priv = NULL;
	session_reset(m);
	w->join_done(w, &res);
	mem_free(infos);
}

/* ---------------------------------------------------------------- static membership */

static struct gmember *instance_find(struct group *grp, const char *instance_id)
{
	for (struct gmember *m = grp->members; m; m = m->next)
		if (m->instance_id && strcmp(m->instance_id, instance_id) == 0)
			return m;
	return NULL;
}

/* The member a request names.  KIP-345: a request carrying a known
 * group.instance.id with another member id comes from a fenced zombie (the
 * instance rejoined since); an unknown instance id falls back to the member
 * id, as Kafka's validateCurrentMember does. */
static int16_t member_lookup(struct group *grp, const char *member_id, const char *instance_id,
			     struct gmember **out)
{
	struct gmember *m = instance_id ? instance_find(grp, instance_id) : NULL;

	*out = NULL;
	if (m && strcmp(m->id, member_id) != 0)
		return KERR_FENCED_INSTANCE_ID;
	if (!m)
		m = member_find(grp, member_id);
	if (!m)
		return KERR_UNKNOWN_MEMBER_ID;
	*out = m;
	return KERR_NONE;
}

static void replace_str(char **dst, const char *src)
{
	char *s = mem_strdup(src ? src : "");

	if (s) { /* on ENOMEM the old value stays: it is only descriptive */
		mem_free(*dst);
		*dst = s;
	}
}

/* A restarted static member takes over its instance's member under a new
 * id: the old id is fenced, the assignment stays.  In Stable with the same
 * protocols nothing is rebalanced and the member gets the current
 * generation (a leader gets skip_assignment: the assignment is unchanged,
 * and its SyncGroup in Stable returns what it had).  Otherwise it rejoins
 * like a member with new metadata. */
static void static_replace(struct group *grp, struct gmember *m, char *id,
			   const struct groups_join_req *req, struct groups_waiter *w)
{
	bool same = groups_protos_equal(m, req);

	log_info("groups: %s: static member %s (instance %s) rejoined as %s", grp->id, m->id,
		 m->instance_id, id);
	member_flush_waiters(m, KERR_FENCED_INSTANCE_ID);
	mem_free(m->id);
	m->id = id;
	replace_str(&m->client_id, req->client_id);
	replace_str(&m->client_host, req->client_host);
	if (grp->state == GS_STABLE && same) {
		m->session_ms = req->session_timeout_ms;
		m->rebalance_ms = req->rebalance_timeout_ms;
		reply_current(grp, m, w, true);
		groups_publish(grp);
		return;
	}
	if (member_update(m, req, w) < 0) {
		join_reply_error(w, KERR_COORDINATOR_NOT_AVAILABLE, m->id);
		return;
	}
	session_reset(m);
	if (grp->state == GS_PREPARING)
		try_complete_join(grp);
	else
		prepare_rebalance(grp,
				  "a static member rejoined with new metadata or mid-rebalance");
}

/* JoinGroup with a group.instance.id: true when answered here.  A static
 * member never gets MEMBER_ID_REQUIRED: its instance id identifies it. */
static bool static_join(struct group *grp, const struct groups_join_req *req,
			struct groups_waiter *w)
{
	struct gmember *m = instance_find(grp, req->instance_id);
	char *id;

	if (req->member_id[0]) {
		if (!m || strcmp(m->id, req->member_id) == 0)
			return false;
		join_reply_error(w, KERR_FENCED_INSTANCE_ID, req->member_id);
		return true;
	}
	id = groups_new_member_id(req->instance_id);
	if (!id) {
		join_reply_error(w, KERR_COORDINATOR_NOT_AVAILABLE, NULL);
		return true;
	}
	if (m)
		static_replace(grp, m, id, req, w);
	else
		add_member_and_rebalance(grp, id, req, w);
	return true;
}

void groups_join(struct groups *g, const struct groups_join_req *req, struct groups_waiter *w)
{
	struct group *grp;
	struct gmember *m;
	struct gpending *p;
	int32_t st = req->session_timeout_ms;

	w->priv = NULL;
	if (!req->group_id[0]) {
		join_reply_error(w, KERR_INVALID_GROUP_ID, req->member_id);
		return;
	}
	if (st < g->min_session_ms || st > g->max_session_ms) {
		join_reply_error(w, KERR_INVALID_SESSION_TIMEOUT, req->member_id);
		return;
	}
	grp = groups_find(g, req->group_id);
	if (!grp) {
		if (req->member_id[0]) {
			join_reply_error(w, KERR_UNKNOWN_MEMBER_ID, req->member_id);
			return;
		}
		grp = group_create(g, req->group_id);
		if (!grp) {
			join_reply_error(w, KERR_COORDINATOR_NOT_AVAILABLE, NULL);
			return;
		}
	}
	if (!supports_protocols(grp, req)) {
		join_reply_error(w, KERR_INCONSISTENT_GROUP_PROTOCOL, req->member_id);
		groups_gc(grp);
		return;
	}
	if (req->instance_id && static_join(grp, req, w))
		return;
	if (!req->member_id[0]) {
		char *id = groups_new_member_id(req->client_id ? req->client_id : "");

		if (!id) {
			join_reply_error(w, KERR_COORDINATOR_NOT_AVAILABLE, NULL);
			return;
		}
		if (!req->require_known_member) {
			add_member_and_rebalance(grp, id, req, w);
			return;
		}
		/* KIP-394: hand out the id; the member joins for real with it */
		p = mem_calloc(1, sizeof(*p));
		if (!p) {
			mem_free(id);
			join_reply_error(w, KERR_COORDINATOR_NOT_AVAILABLE, NULL);
			return;
		}
		p->id = id;
		p->grp = grp;
		p->next = grp->pending;
		grp->pending = p;
		evloop_timer_start(g->loop, &p->timer, (uint64_t)st, 0, pending_expired, p);
		join_reply_error(w, KERR_MEMBER_ID_REQUIRED, id);
		return;
	}
	p = pending_find(grp, req->member_id);
	if (p) {
		char *id = mem_strdup(p->id);

		pending_remove(grp, p);
		if (!id) {
			join_reply_error(w, KERR_COORDINATOR_NOT_AVAILABLE, NULL);
			return;
		}
		add_member_and_rebalance(grp, id, req, w);
		return;
	}
	m = member_find(grp, req->member_id);
	if (!m || grp->state == GS_EMPTY || grp->state == GS_DEAD) {
		join_reply_error(w, KERR_UNKNOWN_MEMBER_ID, req->member_id);
		return;
	}
	switch (grp->state) {
	case GS_PREPARING:
		if (member_update(m, req, w) < 0) {
			join_reply_error(w, KERR_COORDINATOR_NOT_AVAILABLE, m->id);
			return;
		}
		session_reset(m);
		try_complete_join(grp);
		break;
	case GS_COMPLETING:
		if (groups_protos_equal(m, req)) {
			/* a retry of the join this generation already answered */
			reply_current(grp, m, w, false);
			return;
		}
		if (member_update(m, req, w) < 0) {
			join_reply_error(w, KERR_COORDINATOR_NOT_AVAILABLE, m->id);
			return;
		}
		prepare_rebalance(grp, "a member changed its metadata");
		break;
	case GS_STABLE:
		if (m != grp->leader && groups_protos_equal(m, req)) {
			reply_current(grp, m, w, false);
			return;
		}
		if (member_update(m, req, w) < 0) {
			join_reply_error(w, KERR_COORDINATOR_NOT_AVAILABLE, m->id);
			return;
		}
		prepare_rebalance(grp, m == grp->leader ? "the leader rejoined"
							: "a member changed its metadata");
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------- SyncGroup */

void groups_sync(struct groups *g, const struct groups_sync_req *req, struct groups_waiter *w)
{
	struct group *grp = groups_find(g, req->group_id);
	struct gmember *m = NULL;
	int16_t err = grp ? member_lookup(grp, req->member_id, req->instance_id, &m)
			  : KERR_UNKNOWN_MEMBER_ID;

	w->priv = NULL;
	if (err) {
		sync_reply(w, err, NULL, 0);
		return;
	}
	if (req->generation != grp->generation) {
		sync_reply(w, KERR_ILLEGAL_GENERATION, NULL, 0);
		return;
	}
	switch (grp->state) {
	case GS_PREPARING:
		sync_reply(w, KERR_REBALANCE_IN_PROGRESS, NULL, 0);
		return;
	case GS_STABLE:
		session_reset(m);
		sync_reply(w, KERR_NONE, m->assignment, m->assignment_len);
		return;
	case GS_COMPLETING:
		break;
	default:
		sync_reply(w, KERR_UNKNOWN_MEMBER_ID, NULL, 0);
		return;
	}
	if (m->sync_w && m->sync_w != w) {
		struct groups_waiter *old = m->sync_w;

		m->sync_w = NULL;
		sync_reply(old, KERR_REBALANCE_IN_PROGRESS, NULL, 0);
	}
	m->sync_w = w;
	w->priv = m;
	m->awaiting_sync = true;
	m->synced = true;
	session_reset(m);
	if (m != grp->leader)
		return;
	/* the leader's assignment: apply it and release every waiting member */
	for (struct gmember *o = grp->members; o; o = o->next) {
		set_assignment(o, NULL, 0);
		for (int32_t i = 0; i < req->nassignments; i++) {
			if (strcmp(req->assignments[i].member_id, o->id) == 0) {
				set_assignment(o, req->assignments[i].data,
					       req->assignments[i].len);
				break;
			}
		}
	}
	evloop_timer_stop(&grp->sync_timer);
	grp->state = GS_STABLE;
	log_info("groups: %s generation %" PRId32 " is stable", grp->id, grp->generation);
	for (struct gmember *o = grp->members; o; o = o->next) {
		struct groups_waiter *ow = o->sync_w;

		o->awaiting_sync = false;
		o->sync_w = NULL;
		if (ow)
			sync_reply(ow, KERR_NONE, o->assignment, o->assignment_len);
	}
	groups_publish(grp);
}

void groups_cancel(struct groups *g, struct groups_waiter *w)
{
	struct gmember *m = w->priv;

	(void)g;
	if (!m)
		return;
	/* the member stays: Kafka keeps it until its timeouts say otherwise */
	if (m->join_w == w)
		m->join_w = NULL;
	if (m->sync_w == w) {
		m->sync_w = NULL;
		m->awaiting_sync = false;
	}
	w->priv = NULL;
}

/* ---------------------------------------------------------------- Heartbeat, LeaveGroup */

int16_t groups_heartbeat(struct groups *g, const char *group_id, int32_t generation,
			 const char *member_id, const char *instance_id)
{
	struct group *grp = groups_find(g, group_id);
	struct gmember *m = NULL;
	int16_t err;

	if (!group_id[0])
		return KERR_INVALID_GROUP_ID;
	if (!grp || grp->state == GS_EMPTY || grp->state == GS_DEAD)
		return KERR_UNKNOWN_MEMBER_ID;
	err = member_lookup(grp, member_id, instance_id, &m);
	if (err)
		return err;
	if (generation != grp->generation)
		return KERR_ILLEGAL_GENERATION;
	session_reset(m);
	return grp->state == GS_PREPARING ? KERR_REBALANCE_IN_PROGRESS : KERR_NONE;
}

int16_t groups_leave(struct groups *g, const char *group_id, const char *member_id,
		     const char *instance_id)
{
	struct group *grp = groups_find(g, group_id);
	struct gpending *p;
	struct gmember *m = NULL;
	int16_t err;

	if (!group_id[0])
		return KERR_INVALID_GROUP_ID;
	if (!grp)
		return KERR_UNKNOWN_MEMBER_ID;
	p = member_id[0] ? pending_find(grp, member_id) : NULL;
	if (p) {
		pending_remove(grp, p);
		try_complete_join(grp);
		groups_gc(grp);
		return KERR_NONE;
	}
	/* KIP-345: an administrative removal names only the instance */
	if (!member_id[0] && instance_id) {
		m = instance_find(grp, instance_id);
		err = m ? KERR_NONE : KERR_UNKNOWN_MEMBER_ID;
	} else {
		err = member_lookup(grp, member_id, instance_id, &m);
	}
	if (err)
		return err;
	log_info("groups: %s: member %s left", grp->id, m->id);
	member_gone(grp, m, "left the group");
	return KERR_NONE;
}

/* ---------------------------------------------------------------- OffsetCommit */

/* Membership check of a commit: 0 or the error for every partition. */
int16_t groups_commit_check(struct groups *g, struct groups_commit *c)
{
	struct group *grp = groups_find(g, c->group_id);
	struct gmember *m = NULL;
	int16_t err;

	if (!c->group_id[0])
		return KERR_INVALID_GROUP_ID;
	if (!grp) {
		if (c->generation >= 0)
			return KERR_ILLEGAL_GENERATION;
		/* a consumer using the store for offsets only */
		return group_create(g, c->group_id) ? KERR_NONE : KERR_COORDINATOR_NOT_AVAILABLE;
	}
	if (c->generation < 0 && grp->state == GS_EMPTY)
		return KERR_NONE;
	err = member_lookup(grp, c->member_id ? c->member_id : "", c->instance_id, &m);
	if (err)
		return err;
	if (c->generation != grp->generation)
		return KERR_ILLEGAL_GENERATION;
	if (grp->state == GS_COMPLETING)
		return KERR_REBALANCE_IN_PROGRESS;
	session_reset(m);
	return KERR_NONE;
}

/* ---------------------------------------------------------------- lifetime */

void groups_group_free(struct group *grp)
{
	struct groups *g = grp->g;

	while (grp->members)
		member_remove(grp, grp->members);
	while (grp->pending)
		pending_remove(grp, grp->pending);
	evloop_timer_stop(&grp->join_timer);
	evloop_timer_stop(&grp->sync_timer);
	hmap_remove(&g->table, &grp->node);
	groups_unpublish(g, grp->id);
	mem_free(grp->protocol_type);
	mem_free(grp->protocol);
	mem_free(grp->id);
	mem_free(grp);
}

void groups_gc(struct group *grp)
{
	/* an empty group without offsets is forgotten (Kafka's cleanup does it
	 * later; nothing observable depends on the delay) */
	if (grp->state == GS_EMPTY && !grp->members && !grp->pending &&
	    offsets_group_last_commit(grp->g->offsets, grp->id) < 0)
		groups_group_free(grp);
}
