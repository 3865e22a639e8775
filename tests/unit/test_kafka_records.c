/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The decoders of ListOffsets, DeleteRecords, OffsetForLeaderEpoch and
 * DescribeProducers (schema framework), against byte sequences written out
 * field by field from Kafka's message specs with a writer independent of
 * store/kwire (the same writer as test_kafka_api.c): the versions clients
 * send, flexible and not, trailing bytes and truncation at every length.
 */
#include <string.h>

#include "lib/err.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kmsg_gen.h"
#include "tests/unit/unit.h"

#include "tests/unit/kreq.h"

static void test_listoffsets(void)
{
	struct arena a;
	struct kafka_hdr h;
	struct kmsg_list_offsets_req *q;

	/* v0 (max_num_offsets) is gone, as from Kafka 4 */
	w_header(KAFKA_LIST_OFFSETS, 0, 1, "c", false);
	arena_init(&a, 0);
	CU_ASSERT_EQUAL(kafka_api_parse_header(W.data, W.len, &a, &h), -ERR_UNSUPPORTED);
	w_header(KAFKA_LIST_OFFSETS, 5, 1, "c", false);
	w32(-1);
	w8(0);
	w32(1);
	wstr("t");
	w32(1);
	w32(3);
	w32(0);
	w64(1700000000000LL);
	q = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL(q->topics[0].partitions[0].partition_index, 3);
	CU_ASSERT_EQUAL(q->topics[0].partitions[0].timestamp, 1700000000000LL);
	check_truncations();
	/* v8, flexible: max timestamp */
	w_header(KAFKA_LIST_OFFSETS, 8, 1, "c", true);
	w32(-1);
	w8(0);
	w8(2);
	wcstr("t");
	w8(2);
	w32(1);
	w32(-1);
	w64(-3);
	w8(0);
	w8(0);
	w8(0);
	q = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL(q->topics[0].partitions[0].timestamp, -3);
	check_truncations();
	arena_release(&a);
}

/* DeleteRecords v2 and DescribeProducers v0 are flexible: compact strings
 * and arrays, tag sections after every struct. */
static void test_records_apis(void)
{
	struct arena a;
	struct kafka_hdr h;
	struct kmsg_delete_records_req *q;
	struct kmsg_describe_producers_req *dp;
	struct kmsg_offset_for_leader_epoch_req *oe;

	arena_init(&a, 0);
	w_header(KAFKA_DELETE_RECORDS, 2, 7, "c", true);
	w8(2); /* one topic */
	wcstr("t");
	w8(3); /* two partitions */
	w32(1);
	w64(42);
	w8(0);
	w32(2);
	w64(-1);
	w8(0);
	w8(0);
	w32(5000);
	w8(0);
	q = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL(q->n_topics, 1);
	CU_ASSERT_STRING_EQUAL(q->topics[0].name, "t");
	CU_ASSERT_EQUAL(q->topics[0].n_partitions, 2);
	CU_ASSERT_EQUAL(q->topics[0].partitions[0].offset, 42);
	CU_ASSERT_EQUAL(q->topics[0].partitions[1].partition_index, 2);
	CU_ASSERT_EQUAL(q->topics[0].partitions[1].offset, -1);
	CU_ASSERT_EQUAL(q->timeout_ms, 5000);
	check_truncations();

	w_header(KAFKA_DESCRIBE_PRODUCERS, 0, 7, "c", true);
	w8(2);
	wcstr("t");
	w8(3);
	w32(0);
	w32(3);
	w8(0);
	w8(0);
	dp = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dp);
	CU_ASSERT_EQUAL(dp->topics[0].n_partition_indexes, 2);
	CU_ASSERT_EQUAL(dp->topics[0].partition_indexes[1], 3);
	check_truncations();

	w_header(KAFKA_OFFSET_FOR_LEADER_EPOCH, 3, 7, "c", false);
	w32(-1);
	w32(1);
	wstr("t");
	w32(1);
	w32(0);
	w32(-1);
	w32(0);
	oe = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(oe);
	CU_ASSERT_EQUAL(oe->replica_id, -1);
	CU_ASSERT_EQUAL(oe->topics[0].partitions[0].current_leader_epoch, -1);
	CU_ASSERT_EQUAL(oe->topics[0].partitions[0].leader_epoch, 0);
	check_truncations();
	arena_release(&a);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_listoffsets),
		UNIT_TEST(test_records_apis),
		UNIT_END,
	};

	return unit_run("kafka_records", tests);
}
