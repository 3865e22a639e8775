/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group coordinator's static membership (KIP-345) and deletions, on a
 * real event loop, offsets journal and log engine: a restarted static
 * member takes over without a rebalance and keeps its assignment, the old
 * member id is fenced in every request, changed protocols or a rejoin
 * mid-rebalance do rebalance, LeaveGroup by instance id; DeleteGroups
 * (empty only, offsets gone for good across a reopen) and OffsetDelete
 * (refused for subscribed topics), the subscription parser, the
 * transaction hook of OffsetFetch require_stable, and the initial
 * rebalance delay's 3 s default.
 */
#include <string.h>

#include "lib/clock.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "store/groups/groups.h"
#include "store/kafka/kafka_api.h"
#include "store/store_config.h"
#include "tests/unit/enginetest.h"
#include "tests/unit/unit.h"

static struct evloop *loop;
static struct store_config conf;
static struct engine *E;
static struct groups *G;
static char *tmp;

struct tw {
	struct groups_waiter w;
	int calls;
	int16_t err;
	int32_t gen;
	char member[160];
	char leader[160];
	int32_t nmembers;
	bool skip;
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
	t->nmembers = r->nmembers;
	t->skip = r->skip_assignment;
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

static void run_until(const int *calls, int want, int ms)
{
	uint64_t end = clock_mono_ms() + (uint64_t)ms;

	while (clock_mono_ms() < end && *calls < want)
		evloop_run_once(loop, 5);
}

static void open_groups(void)
{
	CU_ASSERT_EQUAL_FATAL(groups_new(loop, E, &conf, &G), 0);
}

static void setup(void)
{
	struct cfg_error err;
	struct engine_config ec;
	struct topic_config tc;
	char dir[512];

	tmp = unit_tmpdir();
	loop = evloop_new();
	CU_ASSERT_EQUAL_FATAL(store_config_defaults(&conf, &err), 0);
	/* Kafka's group.initial.rebalance.delay.ms */
	CU_ASSERT_EQUAL(conf.groups.initial_rebalance_delay_ms, 3000);
	mem_free(conf.store.data_dir);
	conf.store.data_dir = mem_strdup(tmp);
	conf.groups.min_session_timeout_ms = 50;
	conf.groups.max_session_timeout_ms = 60000;
	/* these tests form groups one member at a time */
	conf.groups.initial_rebalance_delay_ms = 0;
	snprintf(dir, sizeof(dir), "%s/log", tmp);
	lt_config(&ec, dir, ENGINE_FSYNC_ALWAYS);
	CU_ASSERT_EQUAL_FATAL(engine_open(&ec, &E), 0);
	memset(&tc, 0, sizeof(tc));
	tc.partitions = 2;
	CU_ASSERT_EQUAL(engine_topic_create(E, "t", &tc), 0);
	CU_ASSERT_EQUAL(engine_topic_create(E, "u", &tc), 0);
	open_groups();
}

static void teardown(void)
{
	groups_free(G);
	G = NULL;
	engine_close(E);
	E = NULL;
	store_config_release(&conf);
	evloop_free(loop);
	fs_rmtree(tmp);
}

/* ConsumerProtocolSubscription v0: topics ["t"], no user data. */
static const uint8_t sub_t[] = {0, 0, 0, 0, 0, 1, 0, 1, 't', 0xff, 0xff, 0xff, 0xff};
static const struct groups_protocol range_t[] = {{"range", sub_t, sizeof(sub_t)}};
static const struct groups_protocol rr_t[] = {{"roundrobin", sub_t, sizeof(sub_t)}};

static void sjoin(struct tw *t, const char *member, const char *instance,
		  const struct groups_protocol *protos)
{
	struct groups_join_req r = {
		.group_id = "g",
		.session_timeout_ms = 10000,
		.rebalance_timeout_ms = 10000,
		.member_id = member,
		.instance_id = instance,
		.protocol_type = "consumer",
		.nprotocols = 1,
		.protocols = protos,
		.client_id = "cl",
		.client_host = "/127.0.0.1",
		.require_known_member = true,
	};

	tw_init(t);
	groups_join(G, &r, &t->w);
}

static void ssync(struct tw *t, const char *member, const char *instance, int32_t gen,
		  const struct groups_assignment *a, int32_t na)
{
	struct groups_sync_req r = {"g", gen, member, instance, na, a};

	tw_init(t);
	groups_sync(G, &r, &t->w);
}

/* Static members a (leader) and b, Stable in generation 2 with "PA"/"PB". */
static void two_static_stable(char *ida, char *idb)
{
	struct tw ja, jb, sa, sb;
	struct groups_assignment as[2];

	sjoin(&ja, "", "i-a", range_t);
	CU_ASSERT_EQUAL(ja.calls, 1);
	CU_ASSERT_EQUAL(ja.err, KERR_NONE); /* no MEMBER_ID_REQUIRED for static members */
	CU_ASSERT(strncmp(ja.member, "i-a-", 4) == 0);
	snprintf(ida, 160, "%s", ja.member);
	ssync(&sa, ida, "i-a", 1, NULL, 0);
	sjoin(&jb, "", "i-b", range_t);
	CU_ASSERT_EQUAL(jb.calls, 0);
	sjoin(&ja, ida, "i-a", range_t);
	CU_ASSERT_EQUAL(ja.calls, 1);
	CU_ASSERT_EQUAL(jb.calls, 1);
	CU_ASSERT_EQUAL(ja.gen, 2);
	CU_ASSERT_STRING_EQUAL(ja.leader, ida);
	snprintf(idb, 160, "%s", jb.member);
	ssync(&sb, idb, "i-b", 2, NULL, 0);
	as[0] = (struct groups_assignment){ida, (const uint8_t *)"PA", 2};
	as[1] = (struct groups_assignment){idb, (const uint8_t *)"PB", 2};
	ssync(&sa, ida, "i-a", 2, as, 2);
	CU_ASSERT_EQUAL(sa.err, KERR_NONE);
	CU_ASSERT_EQUAL(sb.calls, 1);
	CU_ASSERT(sb.alen == 2 && memcmp(sb.assign, "PB", 2) == 0);
}

static void test_static_restart_no_rebalance(void)
{
	char ida[160], idb[160], newb[160], newa[160];
	struct tw j, s;

	setup();
	two_static_stable(ida, idb);
	/* b restarts: same instance, empty member id, same protocols */
	sjoin(&j, "", "i-b", range_t);
	CU_ASSERT_EQUAL(j.calls, 1);
	CU_ASSERT_EQUAL(j.err, KERR_NONE);
	CU_ASSERT_EQUAL(j.gen, 2); /* no new generation */
	CU_ASSERT_STRING_EQUAL(j.leader, ida);
	CU_ASSERT_EQUAL(j.nmembers, 0);
	CU_ASSERT(!j.skip);
	CU_ASSERT(strcmp(j.member, idb) != 0);
	snprintf(newb, sizeof(newb), "%s", j.member);
	/* the other member sees no rebalance */
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 2, ida, "i-a"), KERR_NONE);
	/* the new b gets the assignment the old one had */
	ssync(&s, newb, "i-b", 2, NULL, 0);
	CU_ASSERT_EQUAL(s.err, KERR_NONE);
	CU_ASSERT(s.alen == 2 && memcmp(s.assign, "PB", 2) == 0);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 2, newb, "i-b"), KERR_NONE);
	/* the old b is fenced everywhere */
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 2, idb, "i-b"), KERR_FENCED_INSTANCE_ID);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 2, idb, NULL), KERR_UNKNOWN_MEMBER_ID);
	ssync(&s, idb, "i-b", 2, NULL, 0);
	CU_ASSERT_EQUAL(s.err, KERR_FENCED_INSTANCE_ID);
	sjoin(&j, idb, "i-b", range_t);
	CU_ASSERT_EQUAL(j.err, KERR_FENCED_INSTANCE_ID);
	CU_ASSERT_EQUAL(groups_leave(G, "g", idb, "i-b"), KERR_FENCED_INSTANCE_ID);
	/* the leader restarts: it stays leader under its new id, no rebalance */
	sjoin(&j, "", "i-a", range_t);
	CU_ASSERT_EQUAL(j.err, KERR_NONE);
	CU_ASSERT_EQUAL(j.gen, 2);
	snprintf(newa, sizeof(newa), "%s", j.member);
	CU_ASSERT_STRING_EQUAL(j.leader, newa);
	/* KIP-814: the members, and the instruction not to assign */
	CU_ASSERT_EQUAL(j.nmembers, 2);
	CU_ASSERT(j.skip);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 2, newb, "i-b"), KERR_NONE);
	ssync(&s, newa, "i-a", 2, NULL, 0);
	CU_ASSERT(s.alen == 2 && memcmp(s.assign, "PA", 2) == 0);
	teardown();
}

static int commits_done;

static void commit_cb(struct groups_commit *c)
{
	(void)c;
	commits_done++;
}

static void test_static_fenced_commit(void)
{
	char ida[160], idb[160];
	struct tw j;
	struct groups_commit c;
	int16_t cerr = -1;
	struct offsets_record rec = {"t", 0, 5, -1, NULL};

	setup();
	two_static_stable(ida, idb);
	sjoin(&j, "", "i-b", range_t);
	memset(&c, 0, sizeof(c));
	c.group_id = "g";
	c.generation = 2;
	c.member_id = idb;
	c.instance_id = "i-b";
	c.n = 1;
	c.records = &rec;
	c.errors = &cerr;
	c.done = commit_cb;
	commits_done = 0;
	groups_commit(G, &c);
	run_until(&commits_done, 1, 5000);
	CU_ASSERT_EQUAL(cerr, KERR_FENCED_INSTANCE_ID);
	c.member_id = j.member;
	groups_commit(G, &c);
	run_until(&commits_done, 2, 5000);
	CU_ASSERT_EQUAL(cerr, KERR_NONE);
	teardown();
}

static void test_static_rebalances(void)
{
	char ida[160], idb[160];
	struct tw j, s, ja, sold;

	setup();
	two_static_stable(ida, idb);
	/* b restarts with another protocol list: that is a rebalance */
	sjoin(&j, "", "i-b", (const struct groups_protocol[]){{"range", sub_t, 4}});
	CU_ASSERT_EQUAL(j.calls, 0);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 2, ida, "i-a"), KERR_REBALANCE_IN_PROGRESS);
	sjoin(&ja, ida, "i-a", range_t);
	CU_ASSERT_EQUAL(ja.calls, 1);
	CU_ASSERT_EQUAL(j.calls, 1);
	CU_ASSERT_EQUAL(j.gen, 3);
	CU_ASSERT_EQUAL(ja.nmembers, 2);
	/* CompletingRebalance: b's parked sync is fenced by its restart, which
	 * rebalances (the leader may be assigning to the old id) */
	snprintf(idb, sizeof(idb), "%s", j.member);
	ssync(&sold, idb, "i-b", 3, NULL, 0);
	CU_ASSERT_EQUAL(sold.calls, 0);
	sjoin(&j, "", "i-b", range_t);
	CU_ASSERT_EQUAL(sold.calls, 1);
	CU_ASSERT_EQUAL(sold.err, KERR_FENCED_INSTANCE_ID);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 3, ida, "i-a"), KERR_REBALANCE_IN_PROGRESS);
	sjoin(&ja, ida, "i-a", range_t);
	CU_ASSERT_EQUAL(j.calls, 1);
	CU_ASSERT_EQUAL(j.gen, 4);
	/* LeaveGroup by instance id alone (KIP-345 admin removal) */
	ssync(&s, ida, "i-a", 4, NULL, 0);
	CU_ASSERT_EQUAL(groups_leave(G, "g", "", "i-x"), KERR_UNKNOWN_MEMBER_ID);
	CU_ASSERT_EQUAL(groups_leave(G, "g", "", "i-b"), KERR_NONE);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 4, j.member, "i-b"), KERR_UNKNOWN_MEMBER_ID);
	CU_ASSERT_EQUAL(groups_heartbeat(G, "g", 4, ida, "i-a"), KERR_REBALANCE_IN_PROGRESS);
	teardown();
}

static int deletes_done;

static void delete_cb(struct groups_delete *d)
{
	(void)d;
	deletes_done++;
}

static void do_delete(struct groups_delete *d, const char *group, bool whole,
		      const struct offsets_record *parts, size_t n, int16_t *errs)
{
	int want = deletes_done + 1;

	memset(d, 0, sizeof(*d));
	d->group_id = group;
	d->whole_group = whole;
	d->parts = parts;
	d->n = n;
	d->errors = errs;
	d->done = delete_cb;
	groups_delete(G, d);
	run_until(&deletes_done, want, 5000);
	CU_ASSERT_EQUAL(deletes_done, want);
}

static void commit_free(const char *group, const char *topic, int32_t p, int64_t off)
{
	struct groups_commit c;
	int16_t cerr = -1;
	struct offsets_record rec = {topic, p, off, -1, NULL};
	int want = commits_done + 1;

	memset(&c, 0, sizeof(c));
	c.group_id = group;
	c.generation = -1;
	c.member_id = "";
	c.n = 1;
	c.records = &rec;
	c.errors = &cerr;
	c.done = commit_cb;
	groups_commit(G, &c);
	run_until(&commits_done, want, 5000);
	CU_ASSERT_EQUAL(cerr, KERR_NONE);
}

static void test_delete_groups(void)
{
	char ida[160], idb[160];
	struct groups_delete d;
	struct offsets_value v;
	struct arena a;
	struct groups_listing *gl;
	size_t n;

	setup();
	do_delete(&d, "nogroup", true, NULL, 0, NULL);
	CU_ASSERT_EQUAL(d.error, KERR_GROUP_ID_NOT_FOUND);
	do_delete(&d, "", true, NULL, 0, NULL);
	CU_ASSERT_EQUAL(d.error, KERR_INVALID_GROUP_ID);
	two_static_stable(ida, idb);
	do_delete(&d, "g", true, NULL, 0, NULL);
	CU_ASSERT_EQUAL(d.error, KERR_NON_EMPTY_GROUP);
	commit_free("solo", "t", 0, 7);
	commit_free("solo", "t", 1, 8);
	commit_free("keep", "t", 0, 9);
	do_delete(&d, "solo", true, NULL, 0, NULL);
	CU_ASSERT_EQUAL(d.error, KERR_NONE);
	CU_ASSERT(!groups_committed(G, "solo", "t", 0, &v));
	CU_ASSERT(groups_committed(G, "keep", "t", 0, &v));
	do_delete(&d, "solo", true, NULL, 0, NULL);
	CU_ASSERT_EQUAL(d.error, KERR_GROUP_ID_NOT_FOUND);
	/* durable: a reopened coordinator replays the tombstones */
	groups_free(G);
	open_groups();
	CU_ASSERT(!groups_committed(G, "solo", "t", 1, &v));
	CU_ASSERT(groups_committed(G, "keep", "t", 0, &v) && v.offset == 9);
	arena_init(&a, 0);
	CU_ASSERT_EQUAL(groups_list(G, &a, &gl, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_STRING_EQUAL(gl[0].id, "keep");
	CU_ASSERT_STRING_EQUAL(gl[0].state, "Empty");
	arena_release(&a);
	teardown();
}

static void test_offset_delete(void)
{
	char ida[160], idb[160];
	struct groups_delete d;
	struct offsets_value v;
	struct tw j, s;
	int16_t errs[4];
	const struct offsets_record parts[] = {{"t", 0, 0, -1, NULL},
					       {"u", 0, 0, -1, NULL},
					       {"nosuch", 0, 0, -1, NULL},
					       {"u", 1, 0, -1, NULL}};

	setup();
	do_delete(&d, "nogroup", false, parts, 4, errs);
	CU_ASSERT_EQUAL(d.error, KERR_GROUP_ID_NOT_FOUND);
	commit_free("g", "t", 0, 1);
	commit_free("g", "u", 0, 2);
	two_static_stable(ida, idb);
	do_delete(&d, "g", false, parts, 4, errs);
	CU_ASSERT_EQUAL(d.error, KERR_NONE);
	CU_ASSERT_EQUAL(errs[0], KERR_GROUP_SUBSCRIBED_TO_TOPIC);
	CU_ASSERT_EQUAL(errs[1], KERR_NONE);
	CU_ASSERT_EQUAL(errs[2], KERR_UNKNOWN_TOPIC_OR_PARTITION);
	CU_ASSERT_EQUAL(errs[3], KERR_NONE); /* nothing committed: nothing to do */
	CU_ASSERT(groups_committed(G, "g", "t", 0, &v));
	CU_ASSERT(!groups_committed(G, "g", "u", 0, &v));
	/* a group of another protocol type is refused as a whole */
	CU_ASSERT_EQUAL(groups_leave(G, "g", ida, "i-a"), KERR_NONE);
	CU_ASSERT_EQUAL(groups_leave(G, "g", idb, "i-b"), KERR_NONE);
	do_delete(&d, "g", false, parts, 1, errs);
	CU_ASSERT_EQUAL(d.error, KERR_NONE);
	CU_ASSERT_EQUAL(errs[0], KERR_NONE);
	CU_ASSERT(!groups_committed(G, "g", "t", 0, &v));
	commit_free("g", "t", 0, 1);
	{
		struct groups_join_req r = {
			.group_id = "g",
			.session_timeout_ms = 10000,
			.rebalance_timeout_ms = 10000,
			.member_id = "",
			.protocol_type = "connect",
			.nprotocols = 1,
			.protocols = rr_t,
			.client_id = "cl",
			.client_host = "/h",
		};

		tw_init(&j);
		groups_join(G, &r, &j.w);
		CU_ASSERT_EQUAL(j.err, KERR_NONE);
		ssync(&s, j.member, NULL, j.gen, NULL, 0);
	}
	do_delete(&d, "g", false, parts, 1, errs);
	CU_ASSERT_EQUAL(d.error, KERR_NON_EMPTY_GROUP);
	teardown();
}

static bool pending_u1(void *arg, const char *group, const char *topic, int32_t partition)
{
	(void)arg;
	return strcmp(group, "g") == 0 && strcmp(topic, "u") == 0 && partition == 1;
}

/* OffsetFetch require_stable's hook: nothing pending until the transaction
 * coordinator installs one. */
static void test_txn_pending_hook(void)
{
	setup();
	CU_ASSERT(!groups_txn_pending(G, "g", "u", 1));
	groups_set_txn_pending(G, pending_u1, NULL);
	CU_ASSERT(groups_txn_pending(G, "g", "u", 1));
	CU_ASSERT(!groups_txn_pending(G, "g", "u", 0));
	groups_set_txn_pending(G, NULL, NULL);
	CU_ASSERT(!groups_txn_pending(G, "g", "u", 1));
	teardown();
}

static void test_subscription_parser(void)
{
	static const uint8_t two[] = {0, 1, 0, 0, 0, 2, 0, 2, 'a', 'b', 0, 1, 'c'};
	static const uint8_t torn[] = {0, 1, 0, 0, 0, 2, 0, 2, 'a', 'b', 0, 9, 'c'};

	CU_ASSERT(groups_subscription_has(two, sizeof(two), "ab"));
	CU_ASSERT(groups_subscription_has(two, sizeof(two), "c"));
	CU_ASSERT(!groups_subscription_has(two, sizeof(two), "a"));
	CU_ASSERT(!groups_subscription_has(sub_t, sizeof(sub_t), "u"));
	/* unreadable: the offsets stay protected */
	CU_ASSERT(groups_subscription_has(torn, sizeof(torn), "x"));
	CU_ASSERT(groups_subscription_has(NULL, 0, "x"));
	CU_ASSERT(groups_subscription_has(two, 3, "x"));
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_static_restart_no_rebalance),
		UNIT_TEST(test_static_fenced_commit),
		UNIT_TEST(test_static_rebalances),
		UNIT_TEST(test_delete_groups),
		UNIT_TEST(test_offset_delete),
		UNIT_TEST(test_txn_pending_hook),
		UNIT_TEST(test_subscription_parser),
		UNIT_END,
	};

	return unit_run("groups_static", tests);
}
