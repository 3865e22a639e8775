/* SPDX-License-Identifier: Apache-2.0 */
/* Agent spool: append/sync/read, recovery of positions, routes and
 * sequences, torn tails, corruption, acknowledgement and segment deletion
 * with snapshots keeping every position. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/spool/spool.h"
#include "lib/batch.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "tests/unit/unit.h"

static char dir[128];

static void fresh_dir(void)
{
	snprintf(dir, sizeof(dir), "%s/spool", unit_tmpdir());
}

static void cleanup(void)
{
	char *slash = strrchr(dir, '/');

	*slash = '\0';
	fs_rmtree(dir);
}

/* One uncompressed batch of n records with base sequence seq. */
static void make_batch(struct buf *out, int n, int32_t seq)
{
	struct batch_builder b;
	struct batch_params p;

	batch_builder_init(&b, 1 << 20);
	for (int i = 0; i < n; i++) {
		char v[32];
		int l = snprintf(v, sizeof(v), "line %d seq=%lld", i, (long long)seq + i);

		CU_ASSERT_EQUAL_FATAL(batch_builder_add(&b, 1000 + i, "k", 1, v, l, NULL, 0), 0);
	}
	batch_params_init(&p);
	p.base_sequence = seq;
	buf_reset(out);
	CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&b, NULL, &p, out), 0);
	batch_builder_release(&b);
}

static void add_pos(struct buf *items, const char *input, const char *ident, uint64_t ord,
		    uint8_t flags)
{
	struct spool_pos p = {
		.flags = flags,
		.input = input,
		.input_len = strlen(input),
		.ident = ident,
		.ident_len = strlen(ident),
		.ordinal = ord,
		.origin = 7,
		.meta = (const uint8_t *)"meta!",
		.meta_len = 5,
	};

	CU_ASSERT_EQUAL_FATAL(spool_pos_encode(items, &p), 0);
}

static void add_routes(struct spool *sp, const char *const *inputs, size_t n)
{
	struct buf items;
	uint64_t id;

	buf_init(&items, 1 << 16);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL_FATAL(spool_route_encode(&items, inputs[i], strlen(inputs[i])), 0);
	CU_ASSERT_EQUAL_FATAL(spool_append(sp, SPOOL_ROUTES, NULL, 0, items.data, items.len,
					   (uint32_t)n, NULL, 0, &id),
			      0);
	buf_release(&items);
}

/* Append a batch entry carrying one position of (in, src). */
static uint64_t append_batch(struct spool *sp, const char *topic, int32_t part, int32_t seq, int n,
			     const char *in, const char *src, uint64_t ord)
{
	struct buf batch, items;
	uint64_t id = 0;

	buf_init(&batch, 1 << 20);
	buf_init(&items, 1 << 16);
	make_batch(&batch, n, seq);
	add_pos(&items, in, src, ord, 0);
	CU_ASSERT_EQUAL(spool_append(sp, SPOOL_BATCH, topic, part, items.data, items.len, 1,
				     batch.data, batch.len, &id),
			0);
	buf_release(&batch);
	buf_release(&items);
	return id;
}

static void sync_all(struct spool *sp)
{
	while (spool_dirty(sp))
		CU_ASSERT_FATAL(spool_sync(sp, true) >= 0);
}

static size_t read_all(struct spool *sp, struct spool_cursor *c, uint8_t type_filter)
{
	struct buf scratch;
	struct spool_entry e;
	struct spool_loc loc;
	size_t n = 0;
	int rc;

	buf_init(&scratch, SPOOL_MAX_ENTRY);
	while ((rc = spool_read(sp, c, &scratch, &e, &loc, false)) != 0) {
		if (rc < 0)
			continue;
		if (!type_filter || e.type == type_filter)
			n++;
	}
	buf_release(&scratch);
	return n;
}

static void test_append_sync_read(void)
{
	struct spool_opts o = {.segment_bytes = 1 << 20};
	struct spool *sp;
	struct spool_cursor c;
	struct spool_entry e;
	struct spool_loc loc;
	struct buf scratch, bytes, expect;
	bool fresh;
	int rc;

	fresh_dir();
	CU_ASSERT_EQUAL_FATAL(spool_open(dir, &o, &sp, &fresh), 0);
	CU_ASSERT(fresh);
	spool_cursor_start(sp, &c);
	buf_init(&scratch, SPOOL_MAX_ENTRY);
	buf_init(&bytes, 1 << 20);
	buf_init(&expect, 1 << 20);
	for (int i = 0; i < 50; i++)
		append_batch(sp, "nginx", i % 3, i * 10, 10, "in", "f1", (uint64_t)(i + 1) * 100);
	/* Not durable yet: nothing to read. */
	CU_ASSERT_EQUAL(spool_read(sp, &c, &scratch, &e, &loc, false), 0);
	sync_all(sp);
	for (int i = 0; i < 50; i++) {
		struct spool_iter it;
		struct spool_pos p;

		do {
			rc = spool_read(sp, &c, &scratch, &e, &loc, false);
		} while (rc == 1 && e.type != SPOOL_BATCH);
		CU_ASSERT_EQUAL_FATAL(rc, 1);
		CU_ASSERT_EQUAL(e.partition, i % 3);
		CU_ASSERT_EQUAL(e.topic_len, 5u);
		CU_ASSERT_EQUAL(memcmp(e.topic, "nginx", 5), 0);
		make_batch(&expect, 10, i * 10);
		CU_ASSERT_EQUAL(e.batch_len, expect.len);
		CU_ASSERT_EQUAL(memcmp(e.batch, expect.data, expect.len), 0);
		buf_reset(&bytes);
		CU_ASSERT_EQUAL(spool_read_batch(sp, &loc, &bytes), 0);
		CU_ASSERT_EQUAL(memcmp(bytes.data, expect.data, expect.len), 0);
		spool_iter_init(&it, e.pos, e.pos_len, e.npos);
		CU_ASSERT_EQUAL(spool_iter_pos(&it, &p), 1);
		CU_ASSERT_EQUAL(p.ordinal, (uint64_t)(i + 1) * 100);
	}
	CU_ASSERT_EQUAL(spool_read(sp, &c, &scratch, &e, &loc, false), 0);
	buf_release(&scratch);
	buf_release(&bytes);
	buf_release(&expect);
	spool_free(sp);
	cleanup();
}

static void test_recovery_table(void)
{
	static const char *const routes[] = {"in", "other"};
	struct spool_opts o = {.segment_bytes = 1 << 20};
	const struct spool_tpos *p;
	struct buf items;
	struct spool *sp;
	uint64_t id;
	bool fresh;

	fresh_dir();
	CU_ASSERT_EQUAL_FATAL(spool_open(dir, &o, &sp, &fresh), 0);
	add_routes(sp, routes, 2);
	append_batch(sp, "t", 0, 0, 5, "in", "a", 10);
	append_batch(sp, "t", 0, 5, 7, "in", "b", 20);
	append_batch(sp, "t", 1, 0, 3, "in", "a", 30);
	append_batch(sp, "u", 0, INT32_MAX - 1, 4, "other", "x", 1);
	buf_init(&items, 1 << 16);
	add_pos(&items, "in", "b", 25, SPOOL_POS_FINISHED);
	add_pos(&items, "other", "gone", 5, 0);
	add_pos(&items, "other", "gone", 6, SPOOL_POS_FORGET);
	CU_ASSERT_EQUAL(
		spool_append(sp, SPOOL_POSITIONS, NULL, 0, items.data, items.len, 3, NULL, 0, &id),
		0);
	sync_all(sp);
	spool_free(sp);

	CU_ASSERT_EQUAL_FATAL(spool_open(dir, &o, &sp, &fresh), 0);
	CU_ASSERT(!fresh);
	p = spool_table_find(spool_table(sp), "in", "a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->ordinal, 30u);
	CU_ASSERT_EQUAL(p->origin, 7u);
	CU_ASSERT_EQUAL(p->meta_len, 5u);
	p = spool_table_find(spool_table(sp), "in", "b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->ordinal, 25u);
	CU_ASSERT_EQUAL(p->flags, SPOOL_POS_FINISHED);
	CU_ASSERT_PTR_NULL(spool_table_find(spool_table(sp), "other", "gone"));
	CU_ASSERT_EQUAL(spool_table_next_seq(spool_table(sp), "t", 0), 12);
	CU_ASSERT_EQUAL(spool_table_next_seq(spool_table(sp), "t", 1), 3);
	/* Kafka sequences wrap from INT32_MAX to 0. */
	CU_ASSERT_EQUAL(spool_table_next_seq(spool_table(sp), "u", 0), 2);
	CU_ASSERT_EQUAL(spool_table_next_seq(spool_table(sp), "nope", 0), 0);
	CU_ASSERT(spool_table_routes_input(spool_table(sp), "other"));
	/* A route dropped forgets that input's sources. */
	add_routes(sp, routes, 1);
	sync_all(sp);
	spool_free(sp);
	CU_ASSERT_EQUAL_FATAL(spool_open(dir, &o, &sp, &fresh), 0);
	CU_ASSERT_PTR_NULL(spool_table_find(spool_table(sp), "other", "x"));
	CU_ASSERT_PTR_NOT_NULL(spool_table_find(spool_table(sp), "in", "a"));
	CU_ASSERT(!spool_table_routes_input(spool_table(sp), "other"));
	buf_release(&items);
	spool_free(sp);
	cleanup();
}

static char *last_segment(char *out, size_t cap)
{
	char cmd[300];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ls %s/*.seg | sort | tail -n 1", dir);
	f = popen(cmd, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_PTR_NOT_NULL(fgets(out, (int)cap, f));
	pclose(f);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

static void test_torn_tail(void)
{
	struct spool_opts o = {.segment_bytes = 1 << 20};
	struct spool_stats st;
	struct spool_cursor c;
	struct spool *sp;
	char seg[256];
	struct stat sb;
	bool fresh;

	fresh_dir();
	CU_ASSERT_EQUAL_FATAL(spool_open(dir, &o, &sp, &fresh), 0);
	for (int i = 0; i < 10; i++)
		append_batch(sp, "t", 0, i * 4, 4, "in", "a", (uint64_t)(i + 1) * 10);
	sync_all(sp);
	spool_free(sp);
	/* Cut the last entry in half: a crash in the middle of a write. */
	last_segment(seg, sizeof(seg));
	CU_ASSERT_EQUAL_FATAL(stat(seg, &sb), 0);
	CU_ASSERT_EQUAL_FATAL(truncate(seg, sb.st_size - 30), 0);
	CU_ASSERT_EQUAL_FATAL(spool_open(dir, &o, &sp, &fresh), 0);
	spool_get_stats(sp, &st);
	CU_ASSERT(st.torn_bytes > 0);
	CU_ASSERT_EQUAL(spool_table_find(spool_table(sp), "in", "a")->ordinal, 90u);
	CU_ASSERT_EQUAL(spool_table_next_seq(spool_table(sp), "t", 0), 36);
	spool_cursor_start(sp, &c);
	CU_ASSERT_EQUAL(read_all(sp, &c, SPOOL_BATCH), 9u);
	/* Appending after the cut works and survives another restart. */
	append_batch(sp, "t", 0, 36, 4, "in", "a", 100);
	sync_all(sp);
	CU_ASSERT_EQUAL(read_all(sp, &c, SPOOL_BATCH), 1u);
	spool_free(sp);
	/* Garbage appended (zeros after a crash) is cut too. */
	{
		int fd = open(seg, O_WRONLY | O_APPEND);
		uint8_t zeros[100] = {0};

		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_EQUAL(write(fd, zeros, sizeof(zeros)), (ssize_t)sizeof(zeros));
		close(fd);
	}
	CU_ASSERT_EQUAL_FATAL(spool_open(dir, &o, &sp, &fresh), 0);
	spool_cursor_start(sp, &c);
	CU_ASSERT_EQUAL(read_all(sp, &c, SPOOL_BATCH), 10u);
	CU_ASSERT_EQUAL(spool_table_find(spool_table(sp), "in", "a")->ordinal, 100u);
	spool_free(sp);
	cleanup();
}

static size_t count_segments(void)
{
	char cmd[300];
	FILE *f;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "ls %s/*.seg 2>/dev/null | wc -l", dir);
	f = popen(cmd, "r");
	if (f) {
		if (fscanf(f, "%zu", &n) != 1)
			n = 0;
		pclose(f);
	}
	return n;
}

static void test_ack_delete_snapshot(void)
{
	static const char *const routes[] = {"in"};
	struct spool_opts o = {.segment_bytes = 4096};
	struct spool_cursor c;
	struct spool_stats st;
	struct spool *sp;
	struct spool_entry e;
	struct spool_loc loc;
	struct buf scratch;
	uint64_t last = 0;
	bool fresh;
	int rc;

	fresh_dir();
	buf_init(&scratch, SPOOL_MAX_ENTRY);
	CU_ASSERT_EQUAL_FATAL(spool_open(dir, &o, &sp, &fresh), 0);
	add_routes(sp, routes, 1);
	/* Source "old" appears only in the first entries. */
	append_batch(sp, "t", 0, 0, 20, "in", "old", 5);
	for (int i = 0; i < 200; i++)
		last = append_batch(sp, "t", 0, 20 + i * 20, 20, "in", "a", (uint64_t)(i + 1) * 10);
	sync_all(sp);
	CU_ASSERT(count_segments() > 10);
	/* Deliver everything but the last 5 entries. */
	spool_cursor_start(sp, &c);
	while ((rc = spool_read(sp, &c, &scratch, &e, &loc, false)) == 1 && e.id < last - 4)
		;
	spool_ack(sp, last - 4);
	sync_all(sp);
	CU_ASSERT(spool_sync(sp, true) >= 0); /* persists the mark */
	CU_ASSERT(count_segments() <= 3);
	spool_get_stats(sp, &st);
	CU_ASSERT_EQUAL(st.entries_pending, 5u);
	spool_free(sp);

	/* The positions of deleted segments live on in the snapshots. */
	CU_ASSERT_EQUAL_FATAL(spool_open(dir, &o, &sp, &fresh), 0);
	CU_ASSERT_PTR_NOT_NULL(spool_table_find(spool_table(sp), "in", "old"));
	CU_ASSERT_EQUAL(spool_table_find(spool_table(sp), "in", "a")->ordinal, 2000u);
	CU_ASSERT_EQUAL(spool_table_next_seq(spool_table(sp), "t", 0), 20 + 200 * 20);
	CU_ASSERT(spool_table_routes_input(spool_table(sp), "in"));
	/* Delivery resumes at the first entry not acknowledged. */
	spool_cursor_start(sp, &c);
	CU_ASSERT_EQUAL(c.id, last - 4);
	CU_ASSERT_EQUAL(read_all(sp, &c, SPOOL_BATCH), 5u);
	spool_ack(sp, c.id);
	spool_free(sp);
	buf_release(&scratch);
	cleanup();
}

static void test_corrupt_middle_and_bad_header(void)
{
	struct spool_opts o = {.segment_bytes = 4096};
	struct spool_stats st;
	struct spool_cursor c;
	struct spool *sp;
	char first[300];
	bool fresh;
	int fd;

	fresh_dir();
	CU_ASSERT_EQUAL_FATAL(spool_open(dir, &o, &sp, &fresh), 0);
	for (int i = 0; i < 100; i++)
		append_batch(sp, "t", 0, i * 20, 20, "in", "a", (uint64_t)(i + 1) * 10);
	sync_all(sp);
	spool_free(sp);
	/* Flip a byte in the middle of the first segment. */
	snprintf(first, sizeof(first), "%s/00000000000000000000.seg", dir);
	fd = open(first, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pwrite(fd, "\xff\xff", 2, 900), 2);
	close(fd);
	/* And give the newest segment a broken header: never made durable. */
	{
		char seg[256], cmd[600];

		last_segment(seg, sizeof(seg));
		snprintf(cmd, sizeof(cmd), "printf garbage | dd of=%s conv=notrunc 2>/dev/null",
			 seg);
		CU_ASSERT_EQUAL(system(cmd), 0);
	}
	CU_ASSERT_EQUAL_FATAL(spool_open(dir, &o, &sp, &fresh), 0);
	spool_get_stats(sp, &st);
	CU_ASSERT(st.corrupt_entries >= 1);
	spool_cursor_start(sp, &c);
	{
		size_t n = read_all(sp, &c, SPOOL_BATCH);

		CU_ASSERT(n > 50 && n < 100);
	}
	/* Still appendable. */
	append_batch(sp, "t", 0, 5000, 1, "in", "a", 99999);
	sync_all(sp);
	CU_ASSERT_EQUAL(read_all(sp, &c, SPOOL_BATCH), 1u);
	spool_free(sp);
	cleanup();
}

/* Large batches read head-only: metadata from the first bytes, the batch
 * itself later from its location, identical. */
static void test_head_only_reads(void)
{
	struct spool_opts o = {.segment_bytes = 1 << 20};
	struct spool *sp;
	struct spool_cursor c;
	struct spool_entry e;
	struct spool_loc loc;
	struct buf scratch, bytes, expect;
	bool fresh;
	int n = 0, rc;

	fresh_dir();
	buf_init(&scratch, SPOOL_MAX_ENTRY);
	buf_init(&bytes, 1 << 20);
	buf_init(&expect, 1 << 20);
	CU_ASSERT_EQUAL_FATAL(spool_open(dir, &o, &sp, &fresh), 0);
	for (int i = 0; i < 5; i++)
		append_batch(sp, "big", 1, i * 2000, 2000, "in", "f", (uint64_t)i + 1);
	sync_all(sp);
	spool_cursor_start(sp, &c);
	while ((rc = spool_read(sp, &c, &scratch, &e, &loc, true)) == 1) {
		struct batch_info bi;

		if (e.type != SPOOL_BATCH)
			continue;
		CU_ASSERT(scratch.len < e.batch_len); /* really only the head */
		CU_ASSERT_EQUAL(batch_header_parse(e.batch, BATCH_HEADER_SIZE, &bi), 0);
		CU_ASSERT_EQUAL(bi.count, 2000);
		CU_ASSERT_EQUAL(bi.base_sequence, n * 2000);
		make_batch(&expect, 2000, n * 2000);
		buf_reset(&bytes);
		CU_ASSERT_EQUAL(spool_read_batch(sp, &loc, &bytes), 0);
		CU_ASSERT_EQUAL(bytes.len, expect.len);
		CU_ASSERT_EQUAL(memcmp(bytes.data, expect.data, expect.len), 0);
		n++;
	}
	CU_ASSERT_EQUAL(n, 5);
	buf_release(&scratch);
	buf_release(&bytes);
	buf_release(&expect);
	spool_free(sp);
	cleanup();
}

static void test_entry_codec_bounds(void)
{
	struct buf b;
	struct spool_entry e;
	size_t start;
	uint32_t len, crc;

	buf_init(&b, 1 << 20);
	/* A positions entry declaring a million items in a few bytes. */
	CU_ASSERT_EQUAL(spool_frame_begin(&b, SPOOL_POSITIONS, 1, 0, &start), 0);
	CU_ASSERT_EQUAL(buf_append_be32(&b, 1000000), 0);
	CU_ASSERT_EQUAL(buf_append_be32(&b, 0), 0);
	CU_ASSERT_EQUAL(spool_frame_finish(&b, start, NULL, 0), 0);
	CU_ASSERT_EQUAL(spool_frame_decode(b.data, b.len, &len, &crc), 0);
	CU_ASSERT_EQUAL(spool_entry_decode(b.data + SPOOL_FRAME_SIZE, len, &e), -ERR_CORRUPT);
	/* Unknown type, bad magic, short frame. */
	b.data[SPOOL_FRAME_SIZE] = 99;
	CU_ASSERT_EQUAL(spool_entry_decode(b.data + SPOOL_FRAME_SIZE, len, &e), -ERR_CORRUPT);
	b.data[0] ^= 1;
	CU_ASSERT_EQUAL(spool_frame_decode(b.data, b.len, &len, &crc), -ERR_CORRUPT);
	CU_ASSERT_EQUAL(spool_frame_decode(b.data, 5, &len, &crc), -ERR_TRUNCATED);
	/* Over-long fields are refused when encoding. */
	{
		char big[SPOOL_MAX_INPUT + 2];
		struct spool_pos p = {
			.input = big, .input_len = sizeof(big), .ident = "x", .ident_len = 1};

		memset(big, 'a', sizeof(big));
		buf_reset(&b);
		CU_ASSERT_EQUAL(spool_pos_encode(&b, &p), -ERR_TOO_LARGE);
		CU_ASSERT_EQUAL(b.len, 0u);
	}
	buf_release(&b);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_append_sync_read),
		UNIT_TEST(test_recovery_table),
		UNIT_TEST(test_torn_tail),
		UNIT_TEST(test_ack_delete_snapshot),
		UNIT_TEST(test_corrupt_middle_and_bad_header),
		UNIT_TEST(test_head_only_reads),
		UNIT_TEST(test_entry_codec_bounds),
		UNIT_END,
	};

	return unit_run("spool", tests);
}
