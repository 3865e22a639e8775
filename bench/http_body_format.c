/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/http_body_format: the http output's request bodies alone, without
 * the agent around them.  The lines of a log file become lz4 record batches
 * (key and headers as the tail input gives them, 2,000 records a batch);
 * each round turns them into bodies of 8 batches (http_body_add_batch:
 * spool decode and JSON formatting) compressed as they are built, the way
 * out_http.c does (256 KiB pieces into a zstd stream).  Prints thread CPU
 * seconds per GB of log lines for the formatting and for the compression,
 * best of 5 rounds.
 *
 *   build/bench/http_body_format FILE [FORMAT [LEVEL [CODEC]]]
 *     FORMAT 0 ndjson, 1 json_array, 2 elasticsearch_bulk, 3 loki_push
 *     LEVEL  the body's zstd level (default 1, the output's default)
 *     CODEC  4 zstd (default), 0 none; with none and DUMP=path set, the
 *            bodies of the first round are appended to path (to compare
 *            the bytes of two builds)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/batch.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "plugins/out_http/http_body.h"

#define PIECE ((size_t)256 << 10)

static double cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char key[] = "bench-host:/tmp/sluice-bench-out.abcdefgh/logs/corpus.log";

/* The file's lines as lz4 batches into *all, their ends in ends[]. */
static size_t make_batches(FILE *f, struct codec_ctx *cc, struct buf *all, size_t *ends, size_t max,
			   size_t *raw)
{
	static char line[1 << 16];
	struct record_header h[3] = {
		{(const uint8_t *)"host", 4, (const uint8_t *)"bench-host", 10},
		{(const uint8_t *)"path", 4, (const uint8_t *)key + 11, (int32_t)strlen(key + 11)},
		{(const uint8_t *)"input", 5, (const uint8_t *)"logs", 4}};
	struct batch_builder bb;
	struct batch_params bp;
	int64_t ts = 1764670000000;
	size_t nb = 0;

	batch_builder_init(&bb, 1 << 20);
	batch_params_init(&bp);
	bp.codec = CODEC_LZ4;
	while (nb + 1 < max && fgets(line, sizeof(line), f)) {
		size_t l = strlen(line);

		if (l && line[l - 1] == '\n')
			l--;
		*raw += l;
		if (bb.count >= 2000 || batch_builder_add(&bb, ts, key, (int32_t)strlen(key), line,
							  (int32_t)l, h, 3) < 0) {
			if (batch_builder_finish(&bb, cc, &bp, all) < 0)
				exit(1);
			ends[nb++] = all->len;
			batch_builder_reset(&bb);
			if (batch_builder_add(&bb, ts, key, (int32_t)strlen(key), line, (int32_t)l,
					      h, 3) < 0)
				exit(1);
		}
		ts += 7;
	}
	if (bb.count && batch_builder_finish(&bb, cc, &bp, all) == 0)
		ends[nb++] = all->len;
	batch_builder_release(&bb);
	return nb;
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
	int fmt = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 0;
	int level = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 1;
	int codec = argc > 4 ? (int)strtol(argv[4], NULL, 10) : CODEC_ZSTD;
	struct codec_ctx *cc = codec_ctx_new();
	size_t *ends = calloc(1 << 16, sizeof(*ends));
	size_t nb, raw = 0, json = 0, sent = 0;
	double best_fmt = 1e9, best_all = 1e9;
	struct buf all;

	if (!f || !cc || !ends || fmt < 0 || fmt > 3) {
		fprintf(stderr, "usage: http_body_format FILE [FORMAT [LEVEL [CODEC]]]\n");
		return 2;
	}
	buf_init(&all, 0);
	nb = make_batches(f, cc, &all, ends, 1 << 16, &raw);
	fclose(f);
	for (int round = 0; round < 5; round++) {
		double t0 = cpu_now(), tf = 0;

		json = sent = 0;
		for (size_t i = 0; i < nb;) {
			struct http_body b;
			struct buf body;

			buf_init(&body, (size_t)1 << 30);
			http_body_init(&b, (enum http_format)fmt, "app", NULL, "host-out", 1 << 30);
			if (codec && codec_stream_begin(cc, codec, level) < 0)
				return 1;
			for (size_t k = 0; k < 8 && i < nb; k++, i++) {
				size_t from = i ? ends[i - 1] : 0;
				double a = cpu_now();

				if (http_body_add_batch(&b, cc, i, all.data + from,
							ends[i] - from) < 0)
					return 1;
				tf += cpu_now() - a;
				if (codec && b.out.len >= PIECE) {
					json += b.out.len;
					if (codec_stream_write(cc, b.out.data, b.out.len, &body) <
					    0)
						return 1;
					b.out.len = 0;
				}
			}
			if (http_body_finish(&b) < 0)
				return 1;
			json += b.out.len;
			if (codec && (codec_stream_write(cc, b.out.data, b.out.len, &body) < 0 ||
				      codec_stream_end(cc, &body) < 0))
				return 1;
			sent += codec ? body.len : b.out.len;
			if (!codec && round == 0 && getenv("DUMP")) {
				FILE *d = fopen(getenv("DUMP"), "ab");

				if (d) {
					fwrite(b.out.data, 1, b.out.len, d);
					fclose(d);
				}
			}
			http_body_release(&b);
			buf_release(&body);
		}
		if (cpu_now() - t0 < best_all)
			best_all = cpu_now() - t0;
		if (tf < best_fmt)
			best_fmt = tf;
	}
	printf("format %d, level %d: %.1f MB of lines, %.1f MB of JSON, %.1f MB sent; "
	       "decode+format %.2f CPU-s/GB, compression %.2f CPU-s/GB, total %.2f CPU-s/GB\n",
	       fmt, level, (double)raw / 1e6, (double)json / 1e6, (double)sent / 1e6,
	       best_fmt / ((double)raw / 1e9), (best_all - best_fmt) / ((double)raw / 1e9),
	       best_all / ((double)raw / 1e9));
	buf_release(&all);
	codec_ctx_free(cc);
	free(ends);
	return 0;
}
