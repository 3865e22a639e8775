/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Log engine append benchmark (issue 3).  Builds zstd RecordBatch v2 batches
 * from a gen_corpus.py file with lib/batch.h, then:
 *
 *   throughput  ~1 MiB batches appended with fsync "always" to 1 partition
 *               and to 6 partitions (one producer thread each, pipelined:
 *               up to --window batches in flight per partition, as a Kafka
 *               producer with several in-flight requests); MB/s of batch
 *               bytes from the first append until the last one is durable
 *   latency     16 KiB batches at a fixed 2,000 batches/s to one partition;
 *               p50/p99 from append to durable (engine_wait_visible)
 *
 * --check head|all|validate runs engine_batch_check() (validate: the older
 * batch_validate(), for comparison) on every batch before appending
 * it, as the Kafka and HTTP servers do (issue 16), with log.verify_records
 * head (the first 64 KiB of records of a compressed batch) or all (every
 * batch decompressed whole), and first prints that check's own
 * single-thread cost in MB/s of batch bytes.
 *
 * usage: store_append --dir DIR --corpus FILE [--mb N] [--window N]
 *                     [--latency-seconds S] [--rate N] [--check head|all|validate]
 * bench/bench_store_append.sh runs it next to `dd conv=fdatasync` on the same
 * disk and prints the ratio.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "store/engine/engine.h"

#define MAX_BATCHES 4096

struct batchset {
	struct buf *b;
	size_t n;
	size_t bytes;
};

static const char *dir_opt;
static const char *corpus_opt;
static long mb_opt = 1024;
static long window_opt = 32;
static long lat_seconds = 10;
static long lat_rate = 2000;
static int check_opt; /* 0 none, 1 head, 2 all, 3 validate */

/* The produce check under test; "validate" is the check before issue 16
 * (batch_validate: header, CRC, uncompressed records), for comparison. */
static int check(struct engine *log, uint8_t *p, size_t n, struct batch_info *bi)
{
	return check_opt == 3 ? batch_validate(p, n, bi) : engine_batch_check(log, p, n, bi);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "store_append: %s: %s\n", what, err_str(rc));
	exit(1);
}

/* Cut the corpus into batches of about `target` compressed bytes. */
static void build_batches(const struct buf *corpus, size_t target, size_t max_batches,
			  struct batchset *out)
{
	struct codec_ctx *cc = codec_ctx_new();
	struct batch_builder bb;
	struct batch_params bp;
	size_t pos = 0, want = target * 5; /* first guess: 5x compression */
	int64_t now = clock_wall_ms();

	out->b = calloc(max_batches, sizeof(*out->b));
	out->n = out->bytes = 0;
	batch_builder_init(&bb, 256u << 20);
	batch_params_init(&bp);
	bp.codec = CODEC_ZSTD;
	while (pos < corpus->len && out->n < max_batches) {
		struct buf *b = &out->b[out->n];
		const uint8_t *end = corpus->data + corpus->len;

		batch_builder_reset(&bb);
		while (pos < corpus->len && bb.records.len < want) {
			const uint8_t *line = corpus->data + pos;
			const uint8_t *nl = memchr(line, '\n', (size_t)(end - line));
			size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);

			if (batch_builder_add(&bb, now, "web-01:/var/log/app.log", 23, line,
					      (int32_t)len, NULL, 0) < 0)
				break;
			pos += len + 1;
		}
		if (bb.count == 0)
			break;
		buf_init(b, 0);
		if (batch_builder_finish(&bb, cc, &bp, b) < 0)
			die("batch_builder_finish", -EINVAL);
		/* steer the next batch's uncompressed size toward the target */
		want = (size_t)((double)want * (double)target / (double)b->len);
		if (pos >= corpus->len && b->len < target / 2)
			break; /* a short tail would skew the average */
		out->bytes += b->len;
		out->n++;
	}
	batch_builder_release(&bb);
	codec_ctx_free(cc);
	if (out->n == 0)
		die("corpus too small", -EINVAL);
}

static struct engine *open_log(const char *sub)
{
	struct engine_config c;
	struct engine *log;
	char path[1024];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir_opt, sub);
	(void)fs_rmtree(path);
	engine_config_init(&c);
	c.data_dir = path;
	c.fsync = ENGINE_FSYNC_ALWAYS;
	c.defaults.max_batch_bytes = 16 << 20;
	c.verify_all_records = check_opt == 2;
	rc = engine_open(&c, &log);
	if (rc < 0)
		die("engine_open", rc);
	return log;
}

static void close_log(struct engine *log, const char *sub)
{
	char path[1024];

	engine_close(log);
	snprintf(path, sizeof(path), "%s/%s", dir_opt, sub);
	(void)fs_rmtree(path);
}

struct producer {
	struct engine *log;
	int32_t part;
	struct batchset own; /* private copies: append rewrites baseOffset */
	size_t total;        /* bytes to append */
	size_t done;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	int64_t *inflight = calloc((size_t)window_opt, sizeof(int64_t));
	size_t head = 0, count = 0, i = 0;
	int rc;

	while (p->done < p->total) {
		struct buf *b = &p->own.b[i++ % p->own.n];
		struct engine_append_result r;

		if (count == (size_t)window_opt) {
			rc = engine_wait_visible(p->log, "bench", p->part, inflight[head], 60000);
			if (rc < 0)
				die("engine_wait_visible", rc);
			head = (head + 1) % (size_t)window_opt;
			count--;
		}
		if (check_opt) {
			struct batch_info bi;

			rc = check(p->log, b->data, b->len, &bi);
			if (rc < 0)
				die("engine_batch_check", rc);
		}
		rc = engine_append(p->log, "bench", p->part, b->data, b->len, &r);
		if (rc < 0)
			die("engine_append", rc);
		inflight[(head + count) % (size_t)window_opt] = r.last_offset;
		count++;
		p->done += b->len;
	}
	while (count) {
		rc = engine_wait_visible(p->log, "bench", p->part, inflight[head], 60000);
		if (rc < 0)
			die("engine_wait_visible", rc);
		head = (head + 1) % (size_t)window_opt;
		count--;
	}
	free(inflight);
	return NULL;
}

static void copy_set(const struct batchset *src, struct batchset *dst)
{
	dst->b = calloc(src->n, sizeof(*dst->b));
	dst->n = src->n;
	dst->bytes = src->bytes;
	for (size_t i = 0; i < src->n; i++) {
		buf_init(&dst->b[i], 0);
		if (buf_append(&dst->b[i], src->b[i].data, src->b[i].len) < 0)
			die("copy", -ENOMEM);
	}
}

static void free_set(struct batchset *s)
{
	for (size_t i = 0; i < s->n; i++)
		buf_release(&s->b[i]);
	free(s->b);
}

static void throughput(const struct batchset *set, int32_t parts)
{
	struct producer pr[16];
	pthread_t th[16];
	struct topic_config tc;
	struct engine_stats st;
	struct engine *log = open_log("throughput");
	size_t total = (size_t)mb_opt << 20, bytes = 0;
	uint64_t t0, t1;
	int rc;

	memset(&tc, 0, sizeof(tc));
	tc.partitions = parts;
	rc = engine_topic_create(log, "bench", &tc);
	if (rc < 0)
		die("engine_topic_create", rc);
	for (int32_t i = 0; i < parts; i++) {
		pr[i] = (struct producer){log, i, {0}, total / (size_t)parts, 0};
		copy_set(set, &pr[i].own);
	}
	t0 = clock_mono_ns();
	for (int32_t i = 0; i < parts; i++)
		pthread_create(&th[i], NULL, produce, &pr[i]);
	for (int32_t i = 0; i < parts; i++) {
		pthread_join(th[i], NULL);
		bytes += pr[i].done;
	}
	t1 = clock_mono_ns();
	engine_get_stats(log, &st);
	/* sanity: every byte is on disk and durable */
	for (int32_t i = 0; i < parts; i++) {
		struct engine_partition_info pi;

		if (engine_partition_info(log, "bench", i, &pi) < 0 ||
		    pi.bytes != (int64_t)pr[i].done || pi.durable != pi.end || pi.visible != pi.end)
			die("partition bytes/durable mismatch", -ERR_CORRUPT);
	}
	printf("store_append: %d partition%s: %.0f MB of ~%.2f MiB zstd batches in %.2f s = %.1f MB/s "
	       "(fsync always; %llu fsyncs, mean %.2f ms)\n",
	       parts, parts > 1 ? "s" : "", (double)bytes / 1e6,
	       (double)set->bytes / (double)set->n / 1048576.0, (double)(t1 - t0) / 1e9,
	       (double)bytes / 1e6 / ((double)(t1 - t0) / 1e9), (unsigned long long)st.fsyncs,
	       st.fsyncs ? (double)st.fsync_ns_total / (double)st.fsyncs / 1e6 : 0.0);
	printf("RESULT store_append_mbps_%dp %.1f\n", parts,
	       (double)bytes / 1e6 / ((double)(t1 - t0) / 1e9));
	for (int32_t i = 0; i < parts; i++)
		free_set(&pr[i].own);
	close_log(log, "throughput");
}

struct lat {
	struct engine *log;
	size_t n;
	uint64_t *t_append; /* 0 until appended */
	int64_t *last;
	uint64_t *lat;
	atomic_size_t produced;
};

static void *lat_waiter(void *arg)
{
	struct lat *l = arg;

	for (size_t i = 0; i < l->n; i++) {
		int rc;

		while (atomic_load(&l->produced) <= i)
			usleep(50);
		rc = engine_wait_visible(l->log, "bench", 0, l->last[i], 60000);
		if (rc < 0)
			die("engine_wait_visible", rc);
		l->lat[i] = clock_mono_ns() - l->t_append[i];
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void latency(const struct batchset *set)
{
	struct lat l;
	struct batchset own;
	pthread_t th;
	uint64_t t0, period = 1000000000ULL / (uint64_t)lat_rate;
	struct engine *log = open_log("latency");
	int rc;

	copy_set(set, &own);
	memset(&l, 0, sizeof(l));
	l.log = log;
	l.n = (size_t)(lat_seconds * lat_rate);
	l.t_append = calloc(l.n, sizeof(uint64_t));
	l.last = calloc(l.n, sizeof(int64_t));
	l.lat = calloc(l.n, sizeof(uint64_t));
	atomic_init(&l.produced, 0);
	rc = engine_topic_ensure(log, "bench");
	if (rc < 0)
		die("engine_topic_ensure", rc);
	pthread_create(&th, NULL, lat_waiter, &l);
	t0 = clock_mono_ns();
	for (size_t i = 0; i < l.n; i++) {
		struct buf *b = &own.b[i % own.n];
		struct engine_append_result r;
		uint64_t due = t0 + i * period, now = clock_mono_ns();
		struct timespec ts;

		/* open loop: batch i is due at t0 + i / rate, whatever happened */
		if (due > now) {
			ts.tv_sec = (time_t)((due - now) / 1000000000ULL);
			ts.tv_nsec = (long)((due - now) % 1000000000ULL);
			nanosleep(&ts, NULL);
		}
		l.t_append[i] = clock_mono_ns();
		if (check_opt) {
			struct batch_info bi;

			rc = check(log, b->data, b->len, &bi);
			if (rc < 0)
				die("engine_batch_check", rc);
		}
		rc = engine_append(log, "bench", 0, b->data, b->len, &r);
		if (rc < 0)
			die("engine_append", rc);
		l.last[i] = r.last_offset;
		atomic_store(&l.produced, i + 1);
	}
	pthread_join(th, NULL);
	qsort(l.lat, l.n, sizeof(uint64_t), cmp_u64);
	printf("store_append latency: %zu batches of ~%.1f KiB at %ld/s (fsync always): "
	       "append->durable p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	       l.n, (double)set->bytes / (double)set->n / 1024.0, lat_rate,
	       (double)l.lat[l.n / 2] / 1e6, (double)l.lat[l.n * 99 / 100] / 1e6,
	       (double)l.lat[l.n - 1] / 1e6);
	printf("RESULT store_append_latency_p50_ms %.2f\nRESULT store_append_latency_p99_ms %.2f\n",
	       (double)l.lat[l.n / 2] / 1e6, (double)l.lat[l.n * 99 / 100] / 1e6);
	free(l.t_append);
	free(l.last);
	free(l.lat);
	free_set(&own);
	close_log(log, "latency");
}

/* engine_batch_check alone, one thread, over the set `passes` times. */
static void check_cost(const struct batchset *set, const char *what, int passes)
{
	struct engine *log = open_log("check");
	uint64_t t0 = clock_mono_ns(), t1;
	size_t bytes = 0;

	for (int k = 0; k < passes; k++) {
		for (size_t i = 0; i < set->n; i++) {
			struct batch_info bi;
			int rc = check(log, set->b[i].data, set->b[i].len, &bi);

			if (rc < 0)
				die("engine_batch_check", rc);
			bytes += set->b[i].len;
		}
	}
	t1 = clock_mono_ns();
	printf("store_append: engine_batch_check of %s batches: %.0f MB in %.2f s = %.1f MB/s "
	       "(one thread)\n",
	       what, (double)bytes / 1e6, (double)(t1 - t0) / 1e9,
	       (double)bytes / 1e6 / ((double)(t1 - t0) / 1e9));
	printf("RESULT batch_check_mbps_%s %.1f\n", what,
	       (double)bytes / 1e6 / ((double)(t1 - t0) / 1e9));
	close_log(log, "check");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"corpus", required_argument, NULL, 'c'},
		{"mb", required_argument, NULL, 'm'},
		{"window", required_argument, NULL, 'w'},
		{"latency-seconds", required_argument, NULL, 's'},
		{"rate", required_argument, NULL, 'r'},
		{"check", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	struct batchset big, small;
	struct buf corpus;
	int c, rc;

	log_init("store_append");
	log_set_level(LOG_LVL_WARN);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir_opt = optarg;
			break;
		case 'c':
			corpus_opt = optarg;
			break;
		case 'm':
			mb_opt = strtol(optarg, NULL, 10);
			break;
		case 'w':
			window_opt = strtol(optarg, NULL, 10);
			break;
		case 's':
			lat_seconds = strtol(optarg, NULL, 10);
			break;
		case 'r':
			lat_rate = strtol(optarg, NULL, 10);
			break;
		case 'k':
			check_opt = strcmp(optarg, "all") == 0        ? 2
				    : strcmp(optarg, "validate") == 0 ? 3
								      : 1;
			break;
		default:
			fprintf(stderr,
				"usage: store_append --dir DIR --corpus FILE [--mb N] "
				"[--window N] [--latency-seconds S] [--rate N] [--check head|all|validate]\n");
			return 2;
		}
	}
	if (!dir_opt || !corpus_opt || mb_opt < 1 || window_opt < 1 || lat_seconds < 1 ||
	    lat_rate < 1) {
		fprintf(stderr, "store_append: --dir and --corpus are required\n");
		return 2;
	}
	buf_init(&corpus, 1u << 31);
	rc = fs_read_file(corpus_opt, &corpus);
	if (rc < 0)
		die(corpus_opt, rc);
	build_batches(&corpus, 1 << 20, 64, &big);
	build_batches(&corpus, 16 << 10, MAX_BATCHES, &small);
	printf("store_append: %zu batches of ~%.2f MiB and %zu of ~%.1f KiB (zstd) from %s\n",
	       big.n, (double)big.bytes / (double)big.n / 1048576.0, small.n,
	       (double)small.bytes / (double)small.n / 1024.0, corpus_opt);
	fflush(stdout);
	if (check_opt) {
		check_cost(&big, "1mib", 3);
		check_cost(&small, "16kib", 3);
		fflush(stdout);
	}
	throughput(&big, 1);
	fflush(stdout);
	throughput(&big, 6);
	fflush(stdout);
	latency(&small);
	free_set(&big);
	free_set(&small);
	buf_release(&corpus);
	return 0;
}
