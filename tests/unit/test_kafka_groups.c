/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group and offset APIs' requests as the schema framework decodes them
 * (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 * DescribeGroups, ListGroups, OffsetCommit, OffsetFetch, DeleteGroups,
 * OffsetDelete), against byte sequences written field by field from Kafka's
 * message schemas with a writer independent of store/kwire: the versions
 * the clients send, flexible ones included, trailing bytes, and truncation
 * at every length.
 */
#include <string.h>

#include "lib/buf.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kmsg_gen.h"
#include "tests/unit/unit.h"

#include "tests/unit/kreq.h"

/* ---------------------------------------------------------------- group APIs */

static void test_group_requests(void)
{
	static const uint8_t meta[] = {0, 1, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 0};
	struct arena a;
	struct kafka_hdr h;
	struct kmsg_join_group_req *jg;
	struct kmsg_sync_group_req *sg;
	struct kmsg_find_coordinator_req *fc;

	arena_init(&a, 0);
	w_header(KAFKA_FIND_COORDINATOR, 0, 1, "c", false);
	wstr("g");
	fc = decode_frame(&a, &h);
	CU_ASSERT(fc && strcmp(fc->key, "g") == 0 && fc->key_type == 0);
	check_truncations();
	w_header(KAFKA_FIND_COORDINATOR, 2, 1, "c", false);
	wstr("tx");
	w8(1);
	fc = decode_frame(&a, &h);
	CU_ASSERT(fc && fc->key_type == 1);
	/* v4+: a batch of keys, flexible */
	w_header(KAFKA_FIND_COORDINATOR, 5, 1, "c", true);
	w8(0);
	w8(3);
	wcstr("g1");
	wcstr("g2");
	w8(0);
	fc = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fc);
	CU_ASSERT_EQUAL(fc->n_coordinator_keys, 2);
	CU_ASSERT_STRING_EQUAL(fc->coordinator_keys[1], "g2");
	check_truncations();

	w_header(KAFKA_JOIN_GROUP, 5, 1, "c", false);
	wstr("g");
	w32(10000);
	w32(30000);
	wstr("");
	wstr(NULL);
	wstr("consumer");
	w32(2);
	wstr("range");
	wbytes(meta, sizeof(meta));
	wstr("roundrobin");
	wbytes(meta, sizeof(meta));
	jg = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(jg);
	CU_ASSERT_EQUAL(jg->session_timeout_ms, 10000);
	CU_ASSERT_EQUAL(jg->rebalance_timeout_ms, 30000);
	CU_ASSERT_STRING_EQUAL(jg->member_id, "");
	CU_ASSERT_PTR_NULL(jg->group_instance_id);
	CU_ASSERT_EQUAL(jg->n_protocols, 2);
	CU_ASSERT_STRING_EQUAL(jg->protocols[1].name, "roundrobin");
	CU_ASSERT_EQUAL(jg->protocols[1].metadata.n, sizeof(meta));
	check_truncations();
	/* v9 (Java 4.x): flexible, static member, reason */
	w_header(KAFKA_JOIN_GROUP, 9, 1, "c", true);
	wcstr("g");
	w32(45000);
	w32(300000);
	wcstr("");
	wcstr("inst-1");
	wcstr("consumer");
	w8(2);
	wcstr("range");
	w8(sizeof(meta) + 1);
	buf_append(&W, meta, sizeof(meta));
	w8(0);
	wcstr("rejoin");
	w8(0);
	jg = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(jg);
	CU_ASSERT(!strcmp(jg->group_instance_id, "inst-1") && !strcmp(jg->reason, "rejoin"));
	CU_ASSERT_EQUAL(jg->protocols[0].metadata.n, sizeof(meta));
	check_truncations();

	w_header(KAFKA_SYNC_GROUP, 3, 1, "c", false);
	wstr("g");
	w32(4);
	wstr("m1");
	wstr(NULL);
	w32(2);
	wstr("m1");
	wbytes(meta, 3);
	wstr("m2");
	wbytes(NULL, 0);
	sg = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sg);
	CU_ASSERT_EQUAL(sg->generation_id, 4);
	CU_ASSERT_EQUAL(sg->assignments[0].assignment.n, 3);
	CU_ASSERT_STRING_EQUAL(sg->assignments[1].member_id, "m2");
	CU_ASSERT_PTR_NULL(sg->protocol_type);
	check_truncations();
	arena_release(&a);
}

static void test_group_requests_more(void)
{
	struct arena a;
	struct kafka_hdr h;
	struct kmsg_heartbeat_req *hb;
	struct kmsg_leave_group_req *lg;
	struct kmsg_describe_groups_req *dg;
	struct kmsg_list_groups_req *lsg;

	arena_init(&a, 0);
	w_header(KAFKA_HEARTBEAT, 3, 1, "c", false);
	wstr("g");
	w32(4);
	wstr("m1");
	wstr("inst");
	hb = decode_frame(&a, &h);
	CU_ASSERT(hb && hb->generation_id == 4 && strcmp(hb->group_instance_id, "inst") == 0);
	check_truncations();

	w_header(KAFKA_LEAVE_GROUP, 1, 1, "c", false);
	wstr("g");
	wstr("m1");
	lg = decode_frame(&a, &h);
	CU_ASSERT(lg && strcmp(lg->member_id, "m1") == 0);
	w_header(KAFKA_LEAVE_GROUP, 3, 1, "c", false);
	wstr("g");
	w32(2);
	wstr("m1");
	wstr(NULL);
	wstr("m2");
	wstr("i2");
	lg = decode_frame(&a, &h);
	CU_ASSERT(lg && lg->n_members == 2 && strcmp(lg->members[1].group_instance_id, "i2") == 0);
	check_truncations();

	w_header(KAFKA_DESCRIBE_GROUPS, 4, 1, "c", false);
	w32(1);
	wstr("g");
	w8(0);
	dg = decode_frame(&a, &h);
	CU_ASSERT(dg && dg->n_groups == 1);
	check_truncations();
	w_header(KAFKA_LIST_GROUPS, 2, 1, "c", false);
	CU_ASSERT_PTR_NOT_NULL(decode_frame(&a, &h));
	/* v5: the states and types filters */
	w_header(KAFKA_LIST_GROUPS, 5, 1, "c", true);
	w8(2);
	wcstr("Stable");
	w8(2);
	wcstr("classic");
	w8(0);
	lsg = decode_frame(&a, &h);
	CU_ASSERT(lsg && lsg->n_states_filter == 1 && strcmp(lsg->states_filter[0], "Stable") == 0);
	CU_ASSERT(lsg && lsg->n_types_filter == 1);
	check_truncations();
	arena_release(&a);
}

static void test_offset_requests(void)
{
	struct arena a;
	struct kafka_hdr h;
	struct kmsg_offset_commit_req *oc;
	struct kmsg_offset_fetch_req *of;

	arena_init(&a, 0);
	/* v2 (kafka-python): retention_time, no leader epoch */
	w_header(KAFKA_OFFSET_COMMIT, 2, 1, "c", false);
	wstr("g");
	w32(3);
	wstr("m");
	w64(-1);
	w32(2);
	wstr("a");
	w32(2);
	w32(0);
	w64(10);
	wstr("");
	w32(1);
	w64(20);
	wstr(NULL);
	wstr("b");
	w32(1);
	w32(5);
	w64(30);
	wstr("meta");
	oc = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(oc);
	CU_ASSERT_EQUAL(oc->generation_id_or_member_epoch, 3);
	CU_ASSERT_EQUAL(oc->n_topics, 2);
	CU_ASSERT_STRING_EQUAL(oc->topics[1].name, "b");
	CU_ASSERT(oc->topics[1].partitions[0].partition_index == 5 &&
		  oc->topics[1].partitions[0].committed_offset == 30);
	CU_ASSERT_STRING_EQUAL(oc->topics[1].partitions[0].committed_metadata, "meta");
	CU_ASSERT_PTR_NULL(oc->topics[0].partitions[1].committed_metadata);
	CU_ASSERT_EQUAL(oc->topics[0].partitions[1].committed_leader_epoch, -1);
	check_truncations();
	/* v7 (librdkafka): instance id and leader epoch */
	w_header(KAFKA_OFFSET_COMMIT, 7, 1, "c", false);
	wstr("g");
	w32(1);
	wstr("m");
	wstr(NULL);
	w32(1);
	wstr("a");
	w32(1);
	w32(0);
	w64(99);
	w32(0);
	wstr(NULL);
	oc = decode_frame(&a, &h);
	CU_ASSERT(oc && oc->topics[0].partitions[0].committed_offset == 99 &&
		  oc->topics[0].partitions[0].committed_leader_epoch == 0);
	check_truncations();
	/* v0/v1 are gone since Kafka 4 */
	w_header(KAFKA_OFFSET_COMMIT, 1, 1, "c", false);
	CU_ASSERT_NOT_EQUAL(kafka_api_parse_header(W.data, W.len, &a, &h), 0);

	w_header(KAFKA_OFFSET_FETCH, 1, 1, "c", false);
	wstr("g");
	w32(1);
	wstr("a");
	w32(2);
	w32(0);
	w32(1);
	of = decode_frame(&a, &h);
	CU_ASSERT(of && of->n_topics == 1 && of->topics[0].partition_indexes[1] == 1);
	check_truncations();
	w_header(KAFKA_OFFSET_FETCH, 5, 1, "c", false);
	wstr("g");
	w32(-1);
	of = decode_frame(&a, &h);
	CU_ASSERT(of && of->n_topics == -1);
	/* null topics did not exist before v2 */
	w_header(KAFKA_OFFSET_FETCH, 1, 1, "c", false);
	wstr("g");
	w32(-1);
	CU_ASSERT_PTR_NULL(decode_frame(&a, &h));
	/* v9: several groups, one with every topic (null), require_stable */
	w_header(KAFKA_OFFSET_FETCH, 9, 1, "c", true);
	w8(3);
	wcstr("g1");
	wcstr(NULL);
	w32(-1);
	w8(0);
	w8(0);
	wcstr("g2");
	wcstr("m");
	w32(3);
	w8(2);
	wcstr("t");
	w8(2);
	w32(7);
	w8(0);
	w8(0);
	w8(1);
	w8(0);
	of = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(of);
	CU_ASSERT(of->n_groups == 2 && of->groups[0].n_topics == -1);
	CU_ASSERT_EQUAL(of->groups[1].topics[0].partition_indexes[0], 7);
	CU_ASSERT_TRUE(of->require_stable);
	check_truncations();
	arena_release(&a);
}

static void test_delete_requests(void)
{
	struct arena a;
	struct kafka_hdr h;
	struct kmsg_offset_delete_req *od;
	struct kmsg_delete_groups_req *dgr;

	arena_init(&a, 0);
	w_header(KAFKA_OFFSET_DELETE, 0, 1, "c", false);
	wstr("g");
	w32(1);
	wstr("t");
	w32(2);
	w32(0);
	w32(3);
	od = decode_frame(&a, &h);
	CU_ASSERT(od && od->n_topics == 1 && od->topics[0].partitions[1].partition_index == 3);
	check_truncations();
	w_header(KAFKA_DELETE_GROUPS, 2, 1, "c", true);
	w8(3);
	wcstr("g1");
	wcstr("g2");
	w8(0);
	dgr = decode_frame(&a, &h);
	CU_ASSERT(dgr && dgr->n_groups_names == 2 && strcmp(dgr->groups_names[1], "g2") == 0);
	check_truncations();
	arena_release(&a);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_group_requests),
		UNIT_TEST(test_group_requests_more),
		UNIT_TEST(test_offset_requests),
		UNIT_TEST(test_delete_requests),
		UNIT_END,
	};
	int rc = unit_run("kafka_groups", tests);

	buf_release(&W);
	return rc;
}
