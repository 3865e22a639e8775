/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CLI partition streams and their merge, fed with real batches as the raw
 * replay endpoint sends them (no network: the bytes go straight into the
 * receive buffer of an ended transfer): start offsets inside a batch, time
 * ranges, filters, frontiers, corrupt and truncated streams, and the
 * timestamp-order merge of several partitions.
 */
#include <string.h>

#include "cli/cli_merge.h"
#include "cli/cli_source.h"
#include "lib/err.h"
#include "tests/unit/unit.h"

/* Append a batch of n records (offsets base.., timestamps ts0 + i*step). */
static void feed(struct cli_source *s, int64_t base, int n, int64_t ts0, int64_t step, int codec)
{
	struct codec_ctx *cc = codec_ctx_new();
	struct batch_builder bb;
	struct batch_params bp;

	batch_builder_init(&bb, 1 << 20);
	for (int i = 0; i < n; i++) {
		char v[64];
		int len = snprintf(v, sizeof(v), "p%d o%lld", (int)s->partition,
				   (long long)(base + i));

		CU_ASSERT_EQUAL(batch_builder_add(&bb, ts0 + i * step, "k", 1, v, len, NULL, 0), 0);
	}
	batch_params_init(&bp);
	bp.codec = codec;
	bp.base_offset = base;
	CU_ASSERT_EQUAL(batch_builder_finish(&bb, cc, &bp, &s->rx), 0);
	batch_builder_release(&bb);
	codec_ctx_free(cc);
}

static void init(struct cli_source *s, struct cli_filter *f, int32_t p, int64_t first, int64_t from,
		 int64_t to)
{
	CU_ASSERT_EQUAL_FATAL(
		cli_source_init(s, NULL, f, "t", p, first, from != INT64_MIN, from, to, false), 0);
	s->ended = true;
}

static void test_offsets_and_codecs(void)
{
	struct cli_source s;
	int64_t want = 3;

	init(&s, NULL, 0, 3, INT64_MIN, INT64_MAX);
	feed(&s, 0, 5, 1000, 1, CODEC_ZSTD);
	feed(&s, 5, 5, 1005, 1, CODEC_LZ4);
	feed(&s, 10, 5, 1010, 1, CODEC_GZIP);
	while (cli_source_next(&s) == 1) {
		CU_ASSERT_EQUAL(s.head.offset, want);
		s.has_head = false;
		want++;
	}
	CU_ASSERT_EQUAL(want, 15);
	CU_ASSERT(s.eof);
	CU_ASSERT_EQUAL(s.next, 15);
	CU_ASSERT_EQUAL(s.batches, 3);
	CU_ASSERT_EQUAL(cli_source_next(&s), 0);
	cli_source_release(&s, NULL);
}

static void test_time_range_and_frontier(void)
{
	struct cli_source s;
	int n = 0;

	init(&s, NULL, 0, CLI_START_EARLIEST, 2000, 2999);
	feed(&s, 0, 10, 1000, 100, CODEC_NONE);  /* 1000..1900: skipped undecoded */
	feed(&s, 10, 10, 1500, 100, CODEC_ZSTD); /* 1500..2400: 2000..2400 */
	feed(&s, 20, 10, 2500, 100, CODEC_ZSTD); /* 2500..3400: 2500..2900 */
	while (cli_source_next(&s) == 1) {
		CU_ASSERT(s.head.timestamp >= 2000 && s.head.timestamp <= 2999);
		s.has_head = false;
		n++;
	}
	CU_ASSERT_EQUAL(n, 10);
	CU_ASSERT_EQUAL(s.records_scanned, 20); /* the first batch was never decoded */
	CU_ASSERT_EQUAL(s.frontier, 3400);
	cli_source_release(&s, NULL);
}

static void test_filter_moves_frontier(void)
{
	struct cli_filter f;
	struct cli_source s;
	char err[128];

	cli_filter_init(&f);
	CU_ASSERT_EQUAL(cli_filter_grep(&f, "o7$", false, err, sizeof(err)), 0);
	init(&s, &f, 0, CLI_START_EARLIEST, INT64_MIN, INT64_MAX);
	s.ended = false; /* more may come */
	feed(&s, 0, 5, 100, 10, CODEC_NONE);
	CU_ASSERT_EQUAL(cli_source_next(&s), -EAGAIN);
	CU_ASSERT_EQUAL(s.frontier, 140); /* scanned, nothing matched */
	feed(&s, 5, 5, 150, 10, CODEC_NONE);
	CU_ASSERT_EQUAL(cli_source_next(&s), 1);
	CU_ASSERT_EQUAL(s.head.offset, 7);
	s.has_head = false;
	s.ended = true;
	CU_ASSERT_EQUAL(cli_source_next(&s), 0);
	cli_source_release(&s, NULL);
	cli_filter_release(&f);
}

static void test_bad_streams(void)
{
	struct cli_source s;

	init(&s, NULL, 0, CLI_START_EARLIEST, INT64_MIN, INT64_MAX);
	feed(&s, 0, 3, 1, 1, CODEC_NONE);
	s.rx.len -= 5; /* the transfer ended inside the batch */
	CU_ASSERT_EQUAL(cli_source_next(&s), -EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.err, "ended inside a batch"));
	cli_source_release(&s, NULL);

	init(&s, NULL, 0, CLI_START_EARLIEST, INT64_MIN, INT64_MAX);
	feed(&s, 0, 3, 1, 1, CODEC_ZSTD);
	s.rx.data[s.rx.len - 3] ^= 0x55; /* CRC no longer matches */
	CU_ASSERT_EQUAL(cli_source_next(&s), -EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.err, "t/0: cannot decode the batch at offset 0"));
	cli_source_release(&s, NULL);
}

struct seen {
	int32_t part[256];
	int64_t off[256];
	int64_t ts[256];
	int n;
};

static int collect(void *arg, struct cli_source *s, const struct record *r)
{
	struct seen *sn = arg;

	if (sn->n == 256)
		return -ERR_TOO_LARGE;
	sn->part[sn->n] = s->partition;
	sn->off[sn->n] = r->offset;
	sn->ts[sn->n] = r->timestamp;
	sn->n++;
	return 0;
}

static void test_merge_order(void)
{
	struct cli_source src[3];
	struct cli_merge m;
	struct seen sn;
	struct cli_filter f;
	char err[128];

	memset(&sn, 0, sizeof(sn));
	cli_filter_init(&f);
	/* partition 2 matches only once, late: it must not hold the others back */
	CU_ASSERT_EQUAL(cli_filter_grep(&f, "^p[01] |^p2 o9$", false, err, sizeof(err)), 0);
	for (int p = 0; p < 3; p++)
		init(&src[p], &f, p, CLI_START_EARLIEST, INT64_MIN, INT64_MAX);
	feed(&src[0], 0, 10, 0, 30, CODEC_ZSTD); /* 0, 30, ..., 270 */
	feed(&src[1], 0, 10, 15, 30, CODEC_LZ4); /* 15, 45, ..., 285 */
	feed(&src[2], 0, 10, 1, 30, CODEC_NONE); /* matches only o9 at 271 */
	memset(&m, 0, sizeof(m));
	m.multi = curl_multi_init();
	m.src = src;
	m.n = 3;
	m.linger_ms = 200;
	CU_ASSERT_EQUAL(cli_merge_run(&m, collect, NULL, &sn, 0), 0);
	CU_ASSERT_EQUAL(sn.n, 21);
	for (int i = 1; i < sn.n; i++)
		CU_ASSERT(sn.ts[i - 1] <= sn.ts[i]);
	CU_ASSERT_EQUAL(sn.part[18], 0);
	CU_ASSERT_EQUAL(sn.ts[18], 270);
	CU_ASSERT_EQUAL(sn.part[19], 2);
	CU_ASSERT_EQUAL(sn.off[19], 9);
	cli_merge_release(&m);
	cli_filter_release(&f);

	/* within a partition, offset order wins over out-of-order timestamps */
	memset(&sn, 0, sizeof(sn));
	init(&src[0], NULL, 0, CLI_START_EARLIEST, INT64_MIN, INT64_MAX);
	feed(&src[0], 0, 3, 100, -10, CODEC_NONE); /* 100, 90, 80 */
	memset(&m, 0, sizeof(m));
	m.multi = curl_multi_init();
	m.src = src;
	m.n = 1;
	CU_ASSERT_EQUAL(cli_merge_run(&m, collect, NULL, &sn, 2), 0);
	CU_ASSERT_EQUAL(sn.n, 2);
	CU_ASSERT_EQUAL(sn.off[0], 0);
	CU_ASSERT_EQUAL(sn.off[1], 1);
	cli_merge_release(&m);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_offsets_and_codecs),    UNIT_TEST(test_time_range_and_frontier),
		UNIT_TEST(test_filter_moves_frontier), UNIT_TEST(test_bad_streams),
		UNIT_TEST(test_merge_order),           UNIT_END,
	};

	return unit_run("cli_source", tests);
}
