/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP ingest benchmark: N concurrent libcurl clients (one multi handle)
 * post ~1 MiB zstd RecordBatch v2 batches, built with lib/batch.h from a
 * gen_corpus.py file, to POST /v1/topics/{t}/batches for a fixed time, each
 * client re-posting as soon as its previous batch is acknowledged (which
 * the store does only once it is durable).  Prints throughput in MB/s of
 * compressed batch bytes and of the uncompressed records they carry, and
 * request latency percentiles.
 *
 * usage: http_ingest --url URL --corpus FILE [--topic T] [--partitions P]
 *                    [--clients N] [--seconds S] [--batch-kib K]
 *                    [--cacert CA] [--cert CRT --key KEY]   (https, mTLS)
 */
#include <curl/curl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/fs.h"
#include "lib/mem.h"

#define POOL 32
#define MAX_CLIENTS 1024

struct pooled {
	struct buf bytes;
	size_t raw; /* uncompressed records section */
};

struct client {
	CURL *easy;
	int idx;
	int32_t partition;
	size_t next; /* pool index */
	uint64_t started_ns;
	char url[512];
	struct curl_slist *hdrs;
	char sink[512];
};

static struct pooled pool[POOL];
static uint64_t *lat_us;
static size_t nlat, caplat;

static size_t discard(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

/* Build POOL batches of about batch_bytes compressed each from the corpus. */
static int build_pool(const char *corpus, size_t batch_bytes)
{
	struct buf text;
	struct codec_ctx *cc = codec_ctx_new();
	size_t pos = 0, target_raw = batch_bytes * 5;
	int64_t ts = clock_wall_ms();

	buf_init(&text, (size_t)4 << 30);
	if (fs_read_file(corpus, &text) < 0 || text.len == 0) {
		fprintf(stderr, "http_ingest: cannot read corpus %s\n", corpus);
		return -1;
	}
	for (int i = 0; i < POOL; i++) {
		for (int attempt = 0; attempt < 4; attempt++) {
			struct batch_builder bb;
			struct batch_params bp;
			size_t start = pos;

			batch_builder_init(&bb, (size_t)64 << 20);
			while (bb.records.len < target_raw) {
				uint8_t *nl = memchr(text.data + pos, '\n', text.len - pos);
				size_t n = nl ? (size_t)(nl - (text.data + pos)) : text.len - pos;
				char key[32];

				snprintf(key, sizeof(key), "bench-%d:/var/log/app.log", i % 8);
				if (batch_builder_add(&bb, ts++, key, (int32_t)strlen(key),
						      text.data + pos, (int32_t)n, NULL, 0) < 0)
					break;
				pos += n + 1;
				if (pos >= text.len)
					pos = 0;
			}
			batch_params_init(&bp);
			bp.codec = CODEC_ZSTD;
			buf_init(&pool[i].bytes, 0);
			if (batch_builder_finish(&bb, cc, &bp, &pool[i].bytes) < 0)
				return -1;
			pool[i].raw = bb.records.len;
			batch_builder_release(&bb);
			/* aim the next one at batch_bytes using this one's ratio */
			target_raw = (size_t)((double)pool[i].raw * (double)batch_bytes /
					      (double)pool[i].bytes.len);
			if ((pool[i].bytes.len > batch_bytes * 9 / 10 &&
			     pool[i].bytes.len < batch_bytes * 11 / 10) ||
			    attempt == 3)
				break;
			buf_release(&pool[i].bytes);
			pos = start;
		}
		if (!pool[i].bytes.data)
			return -1;
	}
	codec_ctx_free(cc);
	buf_release(&text);
	return 0;
}

static void post_next(CURLM *multi, struct client *c)
{
	struct pooled *p = &pool[c->next];

	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, p->bytes.data);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->bytes.len);
	c->started_ns = clock_mono_ns();
	curl_multi_add_handle(multi, c->easy);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Client i posts to partition i mod partitions of topic at url (https with
 * the given CA, client certificate and key when set). */
static void client_init(struct client *cl, int i, const char *url, const char *topic,
			int64_t partitions, const char *cacert, const char *cert, const char *key)
{
	cl->idx = i;
	cl->partition = (int32_t)(i % partitions);
	cl->next = (size_t)i % POOL;
	snprintf(cl->url, sizeof(cl->url), "%s/v1/topics/%s/batches?partition=%d", url, topic,
		 (int)cl->partition);
	cl->easy = curl_easy_init();
	cl->hdrs = curl_slist_append(NULL, "Content-Type: application/vnd.kafka.recordbatch.v2");
	cl->hdrs = curl_slist_append(cl->hdrs, "Expect:");
	curl_easy_setopt(cl->easy, CURLOPT_URL, cl->url);
	curl_easy_setopt(cl->easy, CURLOPT_HTTPHEADER, cl->hdrs);
	curl_easy_setopt(cl->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(cl->easy, CURLOPT_PRIVATE, cl);
	curl_easy_setopt(cl->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cl->easy, CURLOPT_TIMEOUT, 120L);
	if (cacert)
		curl_easy_setopt(cl->easy, CURLOPT_CAINFO, cacert);
	if (cert)
		curl_easy_setopt(cl->easy, CURLOPT_SSLCERT, cert);
	if (key)
		curl_easy_setopt(cl->easy, CURLOPT_SSLKEY, key);
}

struct args {
	const char *url, *corpus, *topic;
	const char *cacert, *cert, *key; /* https, mTLS */
	int64_t partitions, nclients, seconds, batch_kib;
};

/* 0, or 2 for an unknown option. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, 'u'},
		{"corpus", required_argument, NULL, 'c'},
		{"topic", required_argument, NULL, 't'},
		{"partitions", required_argument, NULL, 'p'},
		{"clients", required_argument, NULL, 'n'},
		{"seconds", required_argument, NULL, 's'},
		{"batch-kib", required_argument, NULL, 'b'},
		{"cacert", required_argument, NULL, 'A'},
		{"cert", required_argument, NULL, 'C'},
		{"key", required_argument, NULL, 'K'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			a->url = optarg;
			break;
		case 'c':
			a->corpus = optarg;
			break;
		case 't':
			a->topic = optarg;
			break;
		case 'p':
			cfg_parse_int(optarg, &a->partitions);
			break;
		case 'n':
			cfg_parse_int(optarg, &a->nclients);
			break;
		case 's':
			cfg_parse_int(optarg, &a->seconds);
			break;
		case 'b':
			cfg_parse_int(optarg, &a->batch_kib);
			break;
		case 'A':
			a->cacert = optarg;
			break;
		case 'C':
			a->cert = optarg;
			break;
		case 'K':
			a->key = optarg;
			break;
		default:
			return 2;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct args args = {
		.topic = "bench", .partitions = 1, .nclients = 8, .seconds = 30, .batch_kib = 1024};
	const char *url, *corpus, *topic, *cacert, *cert, *key;
	int64_t partitions, nclients, seconds, batch_kib;
	struct client *clients;
	uint64_t bytes = 0, raw = 0, batches = 0, errors = 0, t0, deadline, t_end;
	CURLM *multi;
	int running = 0;

	if (parse_args(argc, argv, &args) != 0)
		return 2;
	url = args.url;
	corpus = args.corpus;
	topic = args.topic;
	cacert = args.cacert;
	cert = args.cert;
	key = args.key;
	partitions = args.partitions;
	nclients = args.nclients;
	seconds = args.seconds;
	batch_kib = args.batch_kib;
	if (!url || !corpus || nclients < 1 || nclients > MAX_CLIENTS || partitions < 1 ||
	    seconds < 1 || batch_kib < 1) {
		fprintf(stderr, "usage: http_ingest --url URL --corpus FILE [--topic T] "
				"[--partitions P] [--clients N] [--seconds S] [--batch-kib K] "
				"[--cacert CA --cert CRT --key KEY]\n");
		return 2;
	}
	if (build_pool(corpus, (size_t)batch_kib << 10) < 0)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	multi = curl_multi_init();
	clients = mem_calloc((size_t)nclients, sizeof(*clients));
	caplat = 1 << 16;
	lat_us = mem_alloc(caplat * sizeof(*lat_us));
	for (int i = 0; i < nclients; i++) {
		client_init(&clients[i], i, url, topic, partitions, cacert, cert, key);
		post_next(multi, &clients[i]);
	}
	t0 = clock_mono_ns();
	deadline = t0 + (uint64_t)seconds * 1000000000ull;
	for (;;) {
		CURLMsg *m;
		int left;

		curl_multi_perform(multi, &running);
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			struct client *cl = NULL;
			long status = 0;
			uint64_t now = clock_mono_ns();

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&cl);
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			curl_multi_remove_handle(multi, m->easy_handle);
			if (m->data.result == CURLE_OK && status == 200) {
				bytes += pool[cl->next].bytes.len;
				raw += pool[cl->next].raw;
				batches++;
				if (nlat == caplat) {
					caplat *= 2;
					lat_us = mem_realloc(lat_us, caplat * sizeof(*lat_us));
				}
				lat_us[nlat++] = (now - cl->started_ns) / 1000;
			} else {
				errors++;
				if (errors <= 5)
					fprintf(stderr, "http_ingest: client %d: %s, HTTP %ld\n",
						cl->idx, curl_easy_strerror(m->data.result),
						status);
			}
			cl->next = (cl->next + (size_t)nclients) % POOL;
			if (now < deadline)
				post_next(multi, cl);
		}
		if (running == 0 && clock_mono_ns() >= deadline)
			break;
		curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	t_end = clock_mono_ns();
	qsort(lat_us, nlat, sizeof(*lat_us), cmp_u64);
	{
		double secs = (double)(t_end - t0) / 1e9;

		printf("RESULT http_ingest clients=%" PRId64 " partitions=%" PRId64 " seconds=%.1f "
		       "batches=%" PRIu64 " avg_batch=%.0fKiB errors=%" PRIu64 " "
		       "compressed=%.1fMB/s uncompressed=%.1fMB/s p50=%.1fms p99=%.1fms max=%.1fms\n",
		       nclients, partitions, secs, batches,
		       batches ? (double)bytes / (double)batches / 1024 : 0.0, errors,
		       (double)bytes / 1e6 / secs, (double)raw / 1e6 / secs,
		       nlat ? (double)lat_us[nlat / 2] / 1000 : 0.0,
		       nlat ? (double)lat_us[(nlat * 99) / 100] / 1000 : 0.0,
		       nlat ? (double)lat_us[nlat - 1] / 1000 : 0.0);
	}
	for (int i = 0; i < nclients; i++) {
		curl_easy_cleanup(clients[i].easy);
		curl_slist_free_all(clients[i].hdrs);
	}
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	for (int i = 0; i < POOL; i++)
		buf_release(&pool[i].bytes);
	mem_free(clients);
	mem_free(lat_us);
	return errors ? 1 : 0;
}
