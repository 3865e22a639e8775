/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loads a gen_corpus.py file into a topic for the replay benchmark: lines
 * become records whose timestamps spread evenly over --span (default 2 h)
 * from --start, in ~1 MiB zstd batches posted round robin to the topic's
 * partitions (key "host-P:/var/log/app.log" per partition), so that time
 * slices "in the middle" exist and every partition is time-ordered.
 *
 * usage: replay_load --url URL --corpus FILE --topic T --partitions P
 *                    [--start RFC3339] [--span DURATION]
 */
#include <curl/curl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/fs.h"

#define RAW_PER_BATCH (5u << 20)

static size_t discard(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

static int post(CURL *e, const char *base, const char *topic, int p, const struct buf *b)
{
	char url[512];
	long status = 0;
	CURLcode cc;

	snprintf(url, sizeof(url), "%s/v1/topics/%s/batches?partition=%d", base, topic, p);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, b->data);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len);
	cc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK || status != 200) {
		fprintf(stderr, "replay_load: POST %s: %s HTTP %ld\n", url, curl_easy_strerror(cc),
			status);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, 'u'},
		{"corpus", required_argument, NULL, 'c'},
		{"topic", required_argument, NULL, 't'},
		{"partitions", required_argument, NULL, 'p'},
		{"start", required_argument, NULL, 's'},
		{"span", required_argument, NULL, 'S'},
		{NULL, 0, NULL, 0},
	};
	const char *url = NULL, *corpus = NULL, *topic = NULL;
	int64_t parts = 6, start = 1795507200000LL, span = 7200000, ts;
	struct codec_ctx *cc = codec_ctx_new();
	struct curl_slist *hdrs = NULL;
	struct buf text, out;
	uint64_t batches = 0, bytes = 0, t0 = clock_mono_ns();
	size_t pos = 0;
	CURL *e;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			url = optarg;
			break;
		case 'c':
			corpus = optarg;
			break;
		case 't':
			topic = optarg;
			break;
		case 'p':
			cfg_parse_int(optarg, &parts);
			break;
		case 's':
			if (clock_parse_rfc3339(optarg, &start) < 0)
				return 2;
			break;
		case 'S':
			if (clock_parse_duration(optarg, &span) < 0)
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (!url || !corpus || !topic || parts < 1) {
		fprintf(stderr,
			"usage: replay_load --url URL --corpus FILE --topic T --partitions P "
			"[--start RFC3339] [--span DURATION]\n");
		return 2;
	}
	buf_init(&text, (size_t)16 << 30);
	if (fs_read_file(corpus, &text) < 0 || text.len == 0) {
		fprintf(stderr, "replay_load: cannot read %s\n", corpus);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	e = curl_easy_init();
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	buf_init(&out, 0);
	while (pos < text.len && rc == 0) {
		int p = (int)(batches % (uint64_t)parts);
		struct batch_builder bb;
		struct batch_params bp;
		char key[64];

		snprintf(key, sizeof(key), "host-%d:/var/log/app.log", p);
		batch_builder_init(&bb, (size_t)64 << 20);
		while (pos < text.len && bb.records.len < RAW_PER_BATCH) {
			uint8_t *nl = memchr(text.data + pos, '\n', text.len - pos);
			size_t n = nl ? (size_t)(nl - (text.data + pos)) : text.len - pos;

			ts = start + (int64_t)((double)pos / (double)text.len * (double)span);
			if (batch_builder_add(&bb, ts, key, (int32_t)strlen(key), text.data + pos,
					      (int32_t)n, NULL, 0) < 0) {
				rc = -1;
				break;
			}
			pos += n + 1;
		}
		batch_params_init(&bp);
		bp.codec = CODEC_ZSTD;
		buf_reset(&out);
		if (rc == 0 && batch_builder_finish(&bb, cc, &bp, &out) == 0)
			rc = post(e, url, topic, p, &out);
		bytes += out.len;
		batches++;
		batch_builder_release(&bb);
	}
	printf("replay_load: %" PRIu64 " batches, %.1f MB compressed, %.1f MB of lines in %.1f s\n",
	       batches, (double)bytes / 1e6, (double)text.len / 1e6,
	       (double)(clock_mono_ns() - t0) / 1e9);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(e);
	curl_global_cleanup();
	buf_release(&out);
	buf_release(&text);
	codec_ctx_free(cc);
	return rc < 0 ? 1 : 0;
}
