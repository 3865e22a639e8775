/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Idempotent-producer state: Kafka's rules for duplicates (any of the last
 * 5 batches), sequence gaps, epochs and the wrap at INT32_MAX; snapshots
 * round-trip and every corrupted byte is rejected; expiry.
 */
#include <string.h>

#include "lib/err.h"
#include "store/engine/producer_state.h"
#include "tests/unit/unit.h"

static struct batch_info bi(int64_t pid, int16_t epoch, int32_t seq, int32_t count)
{
	struct batch_info b;

	memset(&b, 0, sizeof(b));
	b.producer_id = pid;
	b.producer_epoch = epoch;
	b.base_sequence = seq;
	b.count = count;
	b.last_offset_delta = count - 1;
	return b;
}

/* Check then record at offset, as the partition does. */
static int put(struct producer_state *ps, struct batch_info b, int64_t off,
	       struct producer_batch *d)
{
	int rc = producer_state_check(ps, &b, d);

	if (rc == 0)
		CU_ASSERT_EQUAL(producer_state_update(ps, &b, off, 1000), 0);
	return rc;
}

static void test_sequence_rules(void)
{
	struct producer_state ps;
	struct producer_batch d;
	struct batch_info b;

	producer_state_init(&ps);
	/* not idempotent: always appended */
	CU_ASSERT_EQUAL(put(&ps, bi(-1, -1, -1, 3), 0, &d), 0);
	/* unknown producer: any sequence */
	CU_ASSERT_EQUAL(put(&ps, bi(7, 0, 42, 3), 10, &d), 0); /* seq 42..44 */
	CU_ASSERT_EQUAL(put(&ps, bi(7, 0, 45, 2), 13, &d), 0); /* 45..46 */
	/* exact retry of either: duplicate with the original offsets */
	CU_ASSERT_EQUAL(put(&ps, bi(7, 0, 42, 3), 99, &d), 1);
	CU_ASSERT_EQUAL(d.base_offset, 10);
	CU_ASSERT_EQUAL(d.last_offset, 12);
	CU_ASSERT_EQUAL(put(&ps, bi(7, 0, 45, 2), 99, &d), 1);
	CU_ASSERT_EQUAL(d.base_offset, 13);
	/* a different shape of an old sequence is not a duplicate: out of order */
	CU_ASSERT_EQUAL(put(&ps, bi(7, 0, 45, 1), 99, &d), -ERR_OUT_OF_ORDER);
	/* gap */
	CU_ASSERT_EQUAL(put(&ps, bi(7, 0, 48, 1), 99, &d), -ERR_OUT_OF_ORDER);
	/* in sequence */
	CU_ASSERT_EQUAL(put(&ps, bi(7, 0, 47, 1), 15, &d), 0);
	/* a new epoch must start at sequence 0; then the old epoch is fenced */
	CU_ASSERT_EQUAL(put(&ps, bi(7, 0, 48, 1), 16, &d), 0);
	b = bi(7, 1, 5, 1);
	CU_ASSERT_EQUAL(producer_state_check(&ps, &b, &d),
			-ERR_OUT_OF_ORDER); /* new epoch must start at 0 */
	CU_ASSERT_EQUAL(put(&ps, bi(7, 1, 0, 1), 20, &d), 0);
	CU_ASSERT_EQUAL(put(&ps, bi(7, 0, 49, 1), 21, &d), -ERR_FENCED);
	CU_ASSERT_EQUAL(put(&ps, bi(7, 1, 1, 1), 21, &d), 0);
	/* other producers are independent */
	CU_ASSERT_EQUAL(put(&ps, bi(8, 3, 0, 1), 22, &d), 0);
	CU_ASSERT_EQUAL(put(&ps, bi(8, 3, 0, 1), 23, &d), 1);
	CU_ASSERT_EQUAL(d.base_offset, 22);
	producer_state_release(&ps);
}

static void test_last_five_and_wrap(void)
{
	struct producer_state ps;
	struct producer_batch d;

	producer_state_init(&ps);
	for (int i = 0; i < 7; i++)
		CU_ASSERT_EQUAL(put(&ps, bi(1, 0, i * 2, 2), 100 + i * 2, &d), 0);
	/* batches 2..6 are remembered, 0..1 are not */
	for (int i = 2; i < 7; i++) {
		CU_ASSERT_EQUAL(put(&ps, bi(1, 0, i * 2, 2), 0, &d), 1);
		CU_ASSERT_EQUAL(d.base_offset, 100 + i * 2);
	}
	CU_ASSERT_EQUAL(put(&ps, bi(1, 0, 0, 2), 0, &d), -ERR_OUT_OF_ORDER);
	/* sequences wrap at INT32_MAX */
	CU_ASSERT_EQUAL(producer_seq_add(INT32_MAX, 1), 0);
	CU_ASSERT_EQUAL(producer_seq_add(INT32_MAX - 1, 3), 1);
	CU_ASSERT_EQUAL(put(&ps, bi(2, 0, INT32_MAX - 1, 4), 500, &d), 0); /* ..INT32_MAX,0,1 */
	CU_ASSERT_EQUAL(put(&ps, bi(2, 0, 2, 1), 504, &d), 0);
	CU_ASSERT_EQUAL(put(&ps, bi(2, 0, INT32_MAX - 1, 4), 0, &d), 1);
	CU_ASSERT_EQUAL(d.last_offset, 503);
	producer_state_release(&ps);
}

static void test_snapshot_roundtrip_and_corruption(void)
{
	struct producer_state ps, back;
	struct producer_batch d;
	struct buf b;
	int64_t off = 0;

	producer_state_init(&ps);
	producer_state_init(&back);
	for (int64_t pid = 0; pid < 100; pid++)
		for (int i = 0; i < (int)(pid % 7) + 1; i++)
			CU_ASSERT_EQUAL(
				put(&ps, bi(pid, (int16_t)(pid % 3), i, 1), pid * 10 + i, &d), 0);
	buf_init(&b, 0);
	CU_ASSERT_EQUAL_FATAL(producer_state_serialize(&ps, 5000, &b), 0);
	CU_ASSERT_EQUAL(producer_state_load(&back, b.data, b.len, &off), 0);
	CU_ASSERT_EQUAL(off, 5000);
	CU_ASSERT_EQUAL(back.count, 100);
	for (int64_t pid = 0; pid < 100; pid++) {
		int n = (int)(pid % 7) + 1, first = n > 5 ? n - 5 : 0;

		/* the remembered batches are duplicates after the reload */
		for (int i = first; i < n; i++) {
			struct batch_info x = bi(pid, (int16_t)(pid % 3), i, 1);

			CU_ASSERT_EQUAL(producer_state_check(&back, &x, &d), 1);
			CU_ASSERT_EQUAL(d.base_offset, pid * 10 + i);
		}
		{
			struct batch_info next = bi(pid, (int16_t)(pid % 3), n, 1);

			CU_ASSERT_EQUAL(producer_state_check(&back, &next, &d), 0);
		}
	}
	/* every single-byte corruption is rejected and leaves an empty state */
	for (size_t i = 0; i < b.len; i++) {
		b.data[i] ^= 0x41;
		CU_ASSERT_EQUAL(producer_state_load(&back, b.data, b.len, &off), -ERR_CORRUPT);
		CU_ASSERT_EQUAL(back.count, 0);
		b.data[i] ^= 0x41;
	}
	for (size_t n = 0; n < b.len; n++)
		CU_ASSERT(producer_state_load(&back, b.data, n, &off) < 0);
	buf_release(&b);
	producer_state_release(&ps);
	producer_state_release(&back);
}

static void test_expiry(void)
{
	struct producer_state ps;
	struct producer_batch d;
	struct batch_info b;

	producer_state_init(&ps);
	for (int64_t pid = 0; pid < 50; pid++) {
		b = bi(pid, 0, 0, 1);
		CU_ASSERT_EQUAL(producer_state_update(&ps, &b, pid, pid < 25 ? 1000 : 5000), 0);
	}
	CU_ASSERT_EQUAL(producer_state_expire(&ps, 6000, 2000), 25);
	CU_ASSERT_EQUAL(ps.count, 25);
	for (int64_t pid = 0; pid < 50; pid++) {
		b = bi(pid, 0, 0, 1);
		/* expired ones are unknown (accepted), live ones are duplicates */
		CU_ASSERT_EQUAL(producer_state_check(&ps, &b, &d), pid < 25 ? 0 : 1);
	}
	producer_state_release(&ps);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_sequence_rules),
		UNIT_TEST(test_last_five_and_wrap),
		UNIT_TEST(test_snapshot_roundtrip_and_corruption),
		UNIT_TEST(test_expiry),
		UNIT_END,
	};

	return unit_run("producer_state", tests);
}
