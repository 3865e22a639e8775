/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group coordinator's state machine on a real event loop with short
 * timeouts: KIP-394 first join, generations, leader election and metadata,
 * SyncGroup release by the leader, heartbeats in every state, session expiry,
 * rebalance and sync timeouts, leaving, protocol selection, every error code
 * the coordinator returns, and cancellation of parked requests.
 */
#include <string.h>

#include "lib/clock.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "store/groups/groups.h"
#include "store/kafka/kafka_api.h"
#include "store/store_config.h"
#include "tests/unit/unit.h"

static struct evloop *loop;
static struct store_config conf;
static struct groups *G;
static char *tmp;

struct tw {
	struct groups_waiter w;
	int calls;
	int16_t err;
	int32_t gen;
	char member[160];
	char leader[160];
	char proto[32];
	int32_t nmembers;
	char first_meta[16];
	uint8_t assign[64];
	int32_t alen;
};

static void on_join(struct groups_waiter *w, const struct groups_join_result *r)
{
	struct tw *t = (struct tw *)w;

	t->calls++;
	t->err = r->error;
	t->gen = r->generation;
	snprintf(t->member, sizeof(t->member), "%s", r->member_id);
	snprintf(t->leader, sizeof(t->leader), "%s", r->leader);
	snprintf(t->proto, sizeof(t->proto), "%s", r->protocol);
	t->nmembers = r->nmembers;
	t->first_meta[0] = '\0';
	if (r->nmembers > 0)
		snprintf(t->first_meta, sizeof(t->first_meta), "%.*s", (int)r->members[0].len,
			 (const char *)r->members[0].metadata);
}

static void on_sync(struct groups_waiter *w, int16_t err, const uint8_t *a, int32_t len)
{
	struct tw *t = (struct tw *)w;

	t->calls++;
	t->err = err;
	t->alen = len;
	if (len > 0 && len <= (int32_t)sizeof(t->assign))
		memcpy(t->assign, a, (size_t)len);
}

static void tw_init(struct tw *t)
{
	memset(t, 0, sizeof(*t));
	t->w.join_done = on_join;
	t->w.sync_done = on_sync;
	t->err = -100;
}

/* Run the loop until *calls reaches want or ms pass. */
static void run_for(const int *calls, int want, int ms)
{
	uint64_t end = clock_mono_ms() + (uint64_t)ms;

	while (clock_mono_ms() < end && (!calls || *calls < want))
		evloop_run_once(loop, 5);
}

static void setup(void)
{
	struct cfg_error err;

	tmp = unit_tmpdir();
	loop = evloop_new();
	CU_ASSERT_EQUAL_FATAL(store_config_defaults(&conf, &err), 0);
	mem_free(conf.store.data_dir);
	conf.store.data_dir = mem_strdup(tmp);
	conf.groups.min_session_timeout_ms = 50;
	conf.groups.max_session_timeout_ms = 60000;
	conf.groups.initial_rebalance_delay_ms = 0;
	CU_ASSERT_EQUAL_FATAL(groups_new(loop, NULL, &conf, &G), 0);
}

static void teardown(void)
{
	groups_free(G);
	G = NULL;
	store_config_release(&conf);
	evloop_free(loop);
	fs_rmtree(tmp);
}

static const struct groups_protocol range_rr[] = {
	{"range", (const uint8_t *)"meta-a", 6},
	{"roundrobin", (const uint8_t *)"meta-a", 6},
};

static void join(struct tw *t, const char *member, int32_t session, int32_t rebalance,
		 const struct groups_protocol *protos, int32_t nprotos, bool v4)
{
	struct groups_join_req r = {
		.group_id = "g",
		.session_timeout_ms = session,
		.rebalance_timeout_ms = rebalance,
		.member_id = member,
		.protocol_type = "consumer",
		.nprotocols = nprotos,
		.protocols = protos,
		.client_id = "cl",
		.client_host = "/127.0.0.1",
		.require_known_member = v4,
	};

	tw_init(t);
	groups_join(G, &r, &t->w);
}

static void sync_(struct tw *t, const char *member, int32_t gen, const struct groups_assignment *a,
		  int32_t na)
{
	struct groups_sync_req r = {"g", gen, member, NULL, na, a};

	tw_init(t);
	groups_sync(G, &r, &t->w);
}

/* Join a fresh member through KIP-394 and let it form generation 1 alone. */
static void single_member_stable(struct tw *j, char *id, size_t idcap)
{
	struct tw s;
	struct groups_assignment a = {NULL, (const uint8_t *)"A1", 2};

	join(j, "", 10000, 10000, range_rr, 2, true);
	CU_ASSERT_EQUAL(j->calls, 1);
	CU_ASSERT_EQUAL(j->err, KERR_MEMBER_ID_REQUIRED);
	CU_ASSERT(strncmp(j->member, "cl-", 3) == 0);
	CU_ASSERT_EQUAL(strlen(j->member), 3 + 36);
	snprintf(id, idcap, "%s", j->member);
	join(j, id, 10000, 10000, range_rr, 2, true);
	CU_ASSERT_EQUAL(j->calls, 1);
	CU_ASSERT_EQUAL(j->err, KERR_NONE);
	CU_ASSERT_EQUAL(j->gen, 1);
	CU_ASSERT_STRING_EQUAL(j->leader, id);
	CU_ASSERT_STRING_EQUAL(j->proto, "range");
	CU_ASSERT_EQUAL(j->nmembers, 1);
	CU_ASSERT_STRING_EQUAL(j->first_meta, "meta-a");
	a.member_id = id;
	sync_(&s, id, 1, &a, 1);
	CU_ASSERT_EQUAL(s.calls, 1);
	CU_ASSERT_EQUAL(s.err, KERR_NONE);
	CU_ASSERT_EQUAL(s.alen, 2);
	CU_ASSERT(memcmp(s.assign, "A1", 2) == 0);
}

static void test_single_member(void)
{
	struct tw j;
	char id[160];
	struct arena a;
	struct groups_desc d;

	setup();
	single_member_stable(&j, id, sizeof(id));
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 1, id, NULL), KERR_NONE);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 2, id, NULL), KERR_ILLEGAL_GENERATION);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 1, "nobody", NULL), KERR_UNKNOWN_MEMBER_ID);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "nogroup", 1, id, NULL), KERR_UNKNOWN_MEMBER_ID);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "", 1, id, NULL), KERR_INVALID_GROUP_ID);
	arena_init(&a, 0);
	CU_ASSERT_EQUAL(groups_describe(G, "g", &a, &d), 0);
	CU_ASSERT_STRING_EQUAL(d.state, "Stable");
	CU_ASSERT_STRING_EQUAL(d.protocol, "range");
	CU_ASSERT_EQUAL(d.nmembers, 1);
	CU_ASSERT_STRING_EQUAL(d.members[0].client_host, "/127.0.0.1");
	CU_ASSERT_EQUAL(d.members[0].assignment_len, 2);
	CU_ASSERT_EQUAL(groups_describe(G, "other", &a, &d), 0);
	CU_ASSERT_STRING_EQUAL(d.state, "Dead");
	arena_release(&a);
	/* a follower's unchanged rejoin in Stable answers at once, no rebalance */
	CU_ASSERT_EQUAL(groups_leave(G, "g", id, NULL), KERR_NONE);
	CU_ASSERT_EQUAL(groups_leave(G, "g", id, NULL), KERR_UNKNOWN_MEMBER_ID);
	teardown();
}

static void test_two_members_rebalance(void)
{
	struct tw j1, j2, s1, s2;
	char id1[160], id2[160];
	static const struct groups_protocol rr_only[] = {
		{"roundrobin", (const uint8_t *)"meta-b", 6}};
	struct groups_assignment a[2];

	setup();
	single_member_stable(&j1, id1, sizeof(id1));
	/* old clients (v0-v3) get a member id without KIP-394 */
	join(&j2, "", 10000, 10000, rr_only, 1, false);
	CU_ASSERT_EQUAL(j2.calls, 0); /* parked: the group waits for m1 */
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 1, id1, NULL), KERR_REBALANCE_IN_PROGRESS);
	join(&j1, id1, 10000, 10000, range_rr, 2, true);
	CU_ASSERT_EQUAL(j1.calls, 1);
	CU_ASSERT_EQUAL(j2.calls, 1);
	CU_ASSERT_EQUAL(j1.gen, 2);
	CU_ASSERT_EQUAL(j2.gen, 2);
	/* only roundrobin is common */
	CU_ASSERT_STRING_EQUAL(j1.proto, "roundrobin");
	CU_ASSERT_STRING_EQUAL(j1.leader, id1);
	CU_ASSERT_STRING_EQUAL(j2.leader, id1);
	CU_ASSERT_EQUAL(j1.nmembers, 2);
	CU_ASSERT_EQUAL(j2.nmembers, 0);
	snprintf(id2, sizeof(id2), "%s", j2.member);
	/* CompletingRebalance: heartbeats are fine, commits are not */
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 2, id2, NULL), KERR_NONE);
	sync_(&s2, id2, 2, NULL, 0);
	CU_ASSERT_EQUAL(s2.calls, 0); /* waits for the leader */
	a[0] = (struct groups_assignment){id1, (const uint8_t *)"P0", 2};
	a[1] = (struct groups_assignment){id2, (const uint8_t *)"P1", 2};
	sync_(&s1, id1, 2, a, 2);
	CU_ASSERT_EQUAL(s1.calls, 1);
	CU_ASSERT_EQUAL(s2.calls, 1);
	CU_ASSERT(s1.alen == 2 && memcmp(s1.assign, "P0", 2) == 0);
	CU_ASSERT(s2.alen == 2 && memcmp(s2.assign, "P1", 2) == 0);
	/* a stale generation's sync */
	sync_(&s1, id1, 1, NULL, 0);
	CU_ASSERT_EQUAL(s1.err, KERR_ILLEGAL_GENERATION);
	/* m2 leaves: m1 must rejoin and gets generation 3 alone */
	CU_ASSERT_EQUAL(groups_leave(G, "g", id2, NULL), KERR_NONE);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 2, id1, NULL), KERR_REBALANCE_IN_PROGRESS);
	sync_(&s1, id1, 2, NULL, 0);
	CU_ASSERT_EQUAL(s1.err, KERR_REBALANCE_IN_PROGRESS);
	join(&j1, id1, 10000, 10000, range_rr, 2, true);
	CU_ASSERT_EQUAL(j1.gen, 3);
	CU_ASSERT_STRING_EQUAL(j1.proto, "range");
	teardown();
}

static void test_session_expiry(void)
{
	struct tw j1, j2, s;
	char id1[160], id2[160];

	setup();
	single_member_stable(&j1, id1, sizeof(id1));
	/* m2 with a 100 ms session joins; m1 rejoins */
	join(&j2, "", 100, 1000, range_rr, 2, false);
	join(&j1, id1, 10000, 1000, range_rr, 2, true);
	CU_ASSERT_EQUAL(j2.calls, 1);
	snprintf(id2, sizeof(id2), "%s", j2.member);
	sync_(&s, id1, 2, NULL, 0);
	CU_ASSERT_EQUAL(s.err, KERR_NONE);
	/* m2 is silent: its session runs out, the group rebalances */
	run_for(NULL, 0, 300);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 2, id2, NULL), KERR_UNKNOWN_MEMBER_ID);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 2, id1, NULL), KERR_REBALANCE_IN_PROGRESS);
	join(&j1, id1, 10000, 1000, range_rr, 2, true);
	CU_ASSERT_EQUAL(j1.gen, 3);
	CU_ASSERT_EQUAL(j1.nmembers, 1);
	teardown();
}

static void test_rebalance_timeout(void)
{
	struct tw j1, j2, s;
	char id1[160];

	setup();
	single_member_stable(&j1, id1, sizeof(id1));
	/* m1 had rebalance timeout 10 s; use a short one by rejoining first */
	join(&j1, id1, 10000, 150, range_rr, 2, true); /* leader rejoin: rebalance */
	CU_ASSERT_EQUAL(j1.calls, 1);                  /* alone: completes at once */
	CU_ASSERT_EQUAL(j1.gen, 2);
	sync_(&s, id1, 2, NULL, 0);
	/* m2 joins; m1 never rejoins: after 150 ms m1 is dropped, m2 alone */
	join(&j2, "", 10000, 150, range_rr, 2, false);
	CU_ASSERT_EQUAL(j2.calls, 0);
	run_for(&j2.calls, 1, 1000);
	CU_ASSERT_EQUAL(j2.calls, 1);
	CU_ASSERT_EQUAL(j2.err, KERR_NONE);
	CU_ASSERT_EQUAL(j2.gen, 3);
	CU_ASSERT_EQUAL(j2.nmembers, 1);
	CU_ASSERT_STRING_EQUAL(j2.leader, j2.member);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 3, id1, NULL), KERR_UNKNOWN_MEMBER_ID);
	teardown();
}

static void test_sync_timeout(void)
{
	struct tw j1, j2, s;
	char id1[160], id2[160];

	setup();
	join(&j1, "", 10000, 150, range_rr, 2, false);
	snprintf(id1, sizeof(id1), "%s", j1.member);
	CU_ASSERT_EQUAL(j1.gen, 1);
	sync_(&s, id1, 1, NULL, 0);
	join(&j2, "", 10000, 150, range_rr, 2, false);
	join(&j1, id1, 10000, 150, range_rr, 2, false);
	CU_ASSERT_EQUAL(j2.gen, 2);
	snprintf(id2, sizeof(id2), "%s", j2.member);
	/* the leader syncs and waits; m2 never syncs */
	CU_ASSERT_STRING_EQUAL(j1.leader, id1);
	sync_(&s, id2, 2, NULL, 0);
	CU_ASSERT_EQUAL(s.calls, 0); /* m2 is not the leader: parked */
	groups_cancel(G, &s.w);      /* its connection died */
	/* the leader never synced: after the rebalance timeout it is removed and
	 * m2 (which did sync) must rejoin */
	for (int i = 0; i < 400 && groups_heartbeat(G, "g", 2, id1, NULL) != KERR_UNKNOWN_MEMBER_ID;
	     i++)
		evloop_run_once(loop, 5);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 2, id1, NULL), KERR_UNKNOWN_MEMBER_ID);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 2, id2, NULL), KERR_REBALANCE_IN_PROGRESS);
	teardown();
}

static void test_errors(void)
{
	struct tw j, s;
	static const struct groups_protocol other[] = {{"x", (const uint8_t *)"", 0}};
	struct groups_join_req r = {.group_id = "g",
				    .session_timeout_ms = 10000,
				    .rebalance_timeout_ms = 1000,
				    .member_id = "",
				    .protocol_type = "connect",
				    .nprotocols = 1,
				    .protocols = other,
				    .client_id = "c"};
	char id[160];

	setup();
	join(&j, "", 10, 1000, range_rr, 2, true);
	CU_ASSERT_EQUAL(j.err, KERR_INVALID_SESSION_TIMEOUT);
	join(&j, "", 120000, 1000, range_rr, 2, true);
	CU_ASSERT_EQUAL(j.err, KERR_INVALID_SESSION_TIMEOUT);
	join(&j, "someone", 10000, 1000, range_rr, 2, true);
	CU_ASSERT_EQUAL(j.err, KERR_UNKNOWN_MEMBER_ID);
	join(&j, "", 10000, 1000, range_rr, 0, true);
	CU_ASSERT_EQUAL(j.err, KERR_INCONSISTENT_GROUP_PROTOCOL);
	single_member_stable(&j, id, sizeof(id));
	/* another protocol type cannot join a consumer group */
	tw_init(&j);
	groups_join(G, &r, &j.w);
	CU_ASSERT_EQUAL(j.err, KERR_INCONSISTENT_GROUP_PROTOCOL);
	/* no common protocol either */
	r.protocol_type = "consumer";
	tw_init(&j);
	groups_join(G, &r, &j.w);
	CU_ASSERT_EQUAL(j.err, KERR_INCONSISTENT_GROUP_PROTOCOL);
	sync_(&s, "nobody", 1, NULL, 0);
	CU_ASSERT_EQUAL(s.err, KERR_UNKNOWN_MEMBER_ID);
	r.group_id = "";
	tw_init(&j);
	groups_join(G, &r, &j.w);
	CU_ASSERT_EQUAL(j.err, KERR_INVALID_GROUP_ID);
	CU_ASSERT_EQUAL(groups_leave(G, "nogroup", "x", NULL), KERR_UNKNOWN_MEMBER_ID);
	teardown();
}

static void test_pending_member_expires(void)
{
	struct tw j1, j2;
	char id1[160], id2[160];

	setup();
	single_member_stable(&j1, id1, sizeof(id1));
	/* a KIP-394 member takes its id and never comes back */
	join(&j2, "", 100, 1000, range_rr, 2, true);
	CU_ASSERT_EQUAL(j2.err, KERR_MEMBER_ID_REQUIRED);
	snprintf(id2, sizeof(id2), "%s", j2.member);
	/* the group stays Stable: the pending member is not a member yet */
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 1, id1, NULL), KERR_NONE);
	run_for(NULL, 0, 250);
	/* its id is forgotten */
	join(&j2, id2, 10000, 1000, range_rr, 2, true);
	CU_ASSERT_EQUAL(j2.err, KERR_UNKNOWN_MEMBER_ID);
	teardown();
}

static void test_cancelled_join(void)
{
	struct tw j1, j2, j3;
	char id1[160];
	struct arena a;
	struct groups_listing *gl;
	size_t n;

	setup();
	single_member_stable(&j1, id1, sizeof(id1));
	join(&j2, "", 10000, 200, range_rr, 2, false);
	CU_ASSERT_EQUAL(j2.calls, 0);
	groups_cancel(G, &j2.w); /* m2's connection closed while parked */
	join(&j3, id1, 10000, 200, range_rr, 2, true);
	/* both joined: generation 2 completes; the cancelled waiter is not called */
	CU_ASSERT_EQUAL(j3.calls, 1);
	CU_ASSERT_EQUAL(j3.gen, 2);
	CU_ASSERT_EQUAL(j3.nmembers, 2);
	CU_ASSERT_EQUAL(j2.calls, 0);
	arena_init(&a, 0);
	CU_ASSERT_EQUAL(groups_list(G, &a, &gl, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_STRING_EQUAL(gl[0].id, "g");
	CU_ASSERT_STRING_EQUAL(gl[0].protocol_type, "consumer");
	CU_ASSERT_STRING_EQUAL(gl[0].state, "CompletingRebalance");
	arena_release(&a);
	teardown();
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_single_member),
		UNIT_TEST(test_two_members_rebalance),
		UNIT_TEST(test_session_expiry),
		UNIT_TEST(test_rebalance_timeout),
		UNIT_TEST(test_sync_timeout),
		UNIT_TEST(test_errors),
		UNIT_TEST(test_pending_member_expires),
		UNIT_TEST(test_cancelled_join),
		UNIT_END,
	};

	return unit_run("groups", tests);
}
