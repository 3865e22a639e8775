/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transactional APIs' requests (store/kafka/kafka_txn.c) through the
 * schema framework's decoder at their flexible versions: InitProducerId v4-v5
 * with the KIP-360 producer id/epoch, AddPartitionsToTxn, EndTxn and
 * TxnOffsetCommit v3; every truncation refused.
 */
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kmsg_gen.h"
#include "tests/unit/unit.h"

#include "tests/unit/kreq.h"

/* InitProducerId v4, flexible: the producer's own id and epoch (KIP-360). */
static void test_init_producer_id(void)
{
	struct kmsg_init_producer_id_req *ip;
	struct arena a;
	struct kafka_hdr h;

	arena_init(&a, 0);
	w_header(KAFKA_INIT_PRODUCER_ID, 4, 1, "p", true);
	wcstr("tx");
	w32(60000);
	w64(77);
	w16(3);
	w8(0); /* tags */
	ip = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ip);
	CU_ASSERT_STRING_EQUAL(ip->transactional_id, "tx");
	CU_ASSERT_EQUAL(ip->producer_id, 77);
	CU_ASSERT_EQUAL(ip->producer_epoch, 3);
	check_truncations();
	/* v5 (the newest served) decodes the same */
	w_header(KAFKA_INIT_PRODUCER_ID, 5, 1, "p", true);
	wcstr(NULL);
	w32(1000);
	w64(-1);
	w16(-1);
	w8(0);
	ip = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ip);
	CU_ASSERT_PTR_NULL(ip->transactional_id);
	/* v6 (two-phase commit) is not served */
	w_header(KAFKA_INIT_PRODUCER_ID, 6, 1, "p", true);
	CU_ASSERT_EQUAL(kafka_api_parse_header(W.data, W.len, &a, &h), -ERR_UNSUPPORTED);
	arena_release(&a);
}

/* The transactional APIs at their first flexible version (v3). */
static void test_txn_requests(void)
{
	struct kmsg_add_partitions_to_txn_req *ap;
	struct kmsg_end_txn_req *et;
	struct kmsg_txn_offset_commit_req *tc;
	struct arena a;
	struct kafka_hdr h;

	arena_init(&a, 0);
	w_header(KAFKA_ADD_PARTITIONS_TO_TXN, 3, 1, "p", true);
	wcstr("tx");
	w64(5);
	w16(1);
	w8(2); /* 1 topic */
	wcstr("t");
	w8(3); /* 2 partitions */
	w32(0);
	w32(7);
	w8(0);
	w8(0);
	ap = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ap);
	CU_ASSERT_STRING_EQUAL(ap->v3_and_below_transactional_id, "tx");
	CU_ASSERT_EQUAL(ap->v3_and_below_producer_id, 5);
	CU_ASSERT_EQUAL_FATAL(ap->n_v3_and_below_topics, 1);
	CU_ASSERT_EQUAL_FATAL(ap->v3_and_below_topics[0].n_partitions, 2);
	CU_ASSERT_EQUAL(ap->v3_and_below_topics[0].partitions[1], 7);
	check_truncations();

	w_header(KAFKA_END_TXN, 3, 1, "p", true);
	wcstr("tx");
	w64(5);
	w16(1);
	w8(1); /* committed */
	w8(0);
	et = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(et);
	CU_ASSERT_TRUE(et->committed);
	CU_ASSERT_EQUAL(et->producer_epoch, 1);
	check_truncations();

	w_header(KAFKA_TXN_OFFSET_COMMIT, 3, 1, "p", true);
	wcstr("tx");
	wcstr("g");
	w64(5);
	w16(1);
	w32(4);     /* generation */
	wcstr("m"); /* member */
	w8(0);      /* null group instance */
	w8(2);      /* 1 topic */
	wcstr("t");
	w8(2); /* 1 partition */
	w32(3);
	w64(42);
	w32(-1);
	w8(0); /* null metadata */
	w8(0);
	w8(0);
	w8(0);
	tc = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	CU_ASSERT_STRING_EQUAL(tc->group_id, "g");
	CU_ASSERT_EQUAL(tc->generation_id, 4);
	CU_ASSERT_PTR_NULL(tc->group_instance_id);
	CU_ASSERT_EQUAL_FATAL(tc->n_topics, 1);
	CU_ASSERT_EQUAL(tc->topics[0].partitions[0].committed_offset, 42);
	CU_ASSERT_PTR_NULL(tc->topics[0].partitions[0].committed_metadata);
	arena_release(&a);
	check_truncations();
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_init_producer_id),
		UNIT_TEST(test_txn_requests),
		UNIT_END,
	};
	int rc = unit_run("kafka_txn_api", tests);

	buf_release(&W);
	return rc;
}
