/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka-protocol throughput and latency of sluice-store, measured with
 * librdkafka (the client most log shippers use).
 *
 * The corpus file (bench/gen_corpus.py output) is cut into consecutive
 * fixed-size records (200 bytes by default) and produced with zstd and
 * acks=all:
 *   1. as fast as the producer can for --seconds: records/s and MB/s of
 *      uncompressed record bytes acknowledged, and the produce latency
 *      (enqueue to delivery report) p50/p99;
 *   2. rate-limited to half of the rate measured in 1 for --latency-seconds:
 *      p50/p99 latency at 50% load;
 *   3. everything produced is consumed back by a fresh consumer: MB/s and
 *      records/s until the last record arrives; the count must match.
 * Each phase prints one line of figures; bench/bench_kafka_produce_consume.sh
 * starts the store and records them.
 *
 * usage: kafka_produce_consume -b HOST:PORT -t TOPIC -f CORPUS
 *        [-s SECONDS] [-l LATENCY_SECONDS] [-r RECORD_BYTES] [-X KEY=VALUE]...
 * -X passes librdkafka settings to every client (security.protocol=SSL,
 * ssl.ca.location=... for bench/bench_kafka_tls.sh).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/fs.h"

/* Latency histogram: 1 us buckets below 1 ms, then 10 us to 10 ms, 100 us to
 * 100 ms and 1 ms to 10 s: 3 significant digits where it matters. */
#define H_FINE 1000
#define H_BUCKETS (H_FINE + 900 + 900 + 9900 + 1)

struct hist {
	uint64_t b[H_BUCKETS];
	uint64_t n;
	uint64_t max_us;
};

static size_t h_index(uint64_t us)
{
	if (us < 1000)
		return (size_t)us;
	if (us < 10000)
		return H_FINE + (size_t)(us - 1000) / 10;
	if (us < 100000)
		return H_FINE + 900 + (size_t)(us - 10000) / 100;
	if (us < 10000000)
		return H_FINE + 1800 + (size_t)(us - 100000) / 1000;
	return H_BUCKETS - 1;
}

static uint64_t h_value(size_t i)
{
	if (i < H_FINE)
		return i;
	if (i < H_FINE + 900)
		return 1000 + (i - H_FINE) * 10;
	if (i < H_FINE + 1800)
		return 10000 + (i - H_FINE - 900) * 100;
	return 100000 + (i - H_FINE - 1800) * 1000;
}

static void h_add(struct hist *h, uint64_t us)
{
	h->b[h_index(us)]++;
	h->n++;
	if (us > h->max_us)
		h->max_us = us;
}

static double h_pct_ms(const struct hist *h, double p)
{
	uint64_t want = (uint64_t)((double)h->n * p), seen = 0;

	for (size_t i = 0; i < H_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > want)
			return (double)h_value(i) / 1000.0;
	}
	return (double)h->max_us / 1000.0;
}

struct opts {
	const char *brokers;
	const char *topic;
	const char *corpus;
	int seconds;
	int latency_seconds;
	size_t record;
	int partitions; /* of the topic, for the parallel consume */
	int consumers;  /* threads of the parallel consume (0: skip it) */
	char *extra[8]; /* -X KEY=VALUE for every client */
	int nextra;
};

struct run {
	struct hist lat;
	uint64_t acked;
	uint64_t failed;
	uint64_t last_ack_ns;
	char first_error[256];
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct run *run = opaque;
	uint64_t now = clock_mono_ns();

	(void)rk;
	if (m->err) {
		if (!run->failed)
			snprintf(run->first_error, sizeof(run->first_error), "%s",
				 rd_kafka_err2str(m->err));
		run->failed++;
		return;
	}
	run->acked++;
	run->last_ack_ns = now;
	h_add(&run->lat, (now - (uint64_t)(uintptr_t)m->_private) / 1000);
}

static int set(rd_kafka_conf_t *c, const char *k, const char *v)
{
	char err[256];

	if (rd_kafka_conf_set(c, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "config %s=%s: %s\n", k, v, err);
		return -1;
	}
	return 0;
}

static int set_extra(rd_kafka_conf_t *c, const struct opts *o)
{
	for (int i = 0; i < o->nextra; i++) {
		char *eq = strchr(o->extra[i], '=');
		int rc;

		if (!eq)
			return -1;
		*eq = '\0';
		rc = set(c, o->extra[i], eq + 1);
		*eq = '=';
		if (rc)
			return -1;
	}
	return 0;
}

static rd_kafka_t *producer_new(const struct opts *o, struct run *run)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	char err[256];
	rd_kafka_t *rk;

	if (set(c, "bootstrap.servers", o->brokers) || set(c, "acks", "all") ||
	    set(c, "compression.type", "zstd") || set(c, "linger.ms", "2") ||
	    set(c, "batch.size", "1000000") || set(c, "queue.buffering.max.kbytes", "524288") ||
	    set(c, "queue.buffering.max.messages", "2000000") ||
	    set(c, "max.in.flight.requests.per.connection", "5") ||
	    set(c, "broker.address.family", "v4") || set_extra(c, o)) {
		rd_kafka_conf_destroy(c);
		return NULL;
	}
	rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
	rd_kafka_conf_set_opaque(c, run);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
	if (!rk)
		fprintf(stderr, "producer: %s\n", err);
	return rk;
}

/* Produce for `seconds`, at most `rate` records/s (0 = unlimited).  Returns
 * records sent, or -1. */
static int64_t produce(const struct opts *o, const struct buf *corpus, double rate, int seconds,
		       struct run *run, double *elapsed_s)
{
	rd_kafka_t *rk = producer_new(o, run);
	size_t chunks = corpus->len / o->record, next = 0;
	uint64_t start = clock_mono_ns(), end = start + (uint64_t)seconds * 1000000000ull;
	int64_t sent = 0;

	if (!rk)
		return -1;
	for (;;) {
		uint64_t now = clock_mono_ns();
		rd_kafka_resp_err_t err;

		if (now >= end)
			break;
		if (rate > 0 && (double)sent >= rate * (double)(now - start) / 1e9) {
			struct timespec ts = {0, 200000};

			rd_kafka_poll(rk, 0);
			nanosleep(&ts, NULL);
			continue;
		}
		err = rd_kafka_producev(
			rk, RD_KAFKA_V_TOPIC(o->topic),
			RD_KAFKA_V_VALUE(corpus->data + next * o->record, o->record),
			RD_KAFKA_V_OPAQUE((void *)(uintptr_t)now), RD_KAFKA_V_END);
		if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			rd_kafka_poll(rk, 1);
			continue;
		}
		if (err) {
			fprintf(stderr, "produce: %s\n", rd_kafka_err2str(err));
			rd_kafka_destroy(rk);
			return -1;
		}
		sent++;
		next = (next + 1) % chunks;
		if ((sent & 1023) == 0)
			rd_kafka_poll(rk, 0);
	}
	rd_kafka_flush(rk, 120000);
	*elapsed_s =
		(double)((run->last_ack_ns ? run->last_ack_ns : clock_mono_ns()) - start) / 1e9;
	rd_kafka_destroy(rk);
	if (run->failed)
		fprintf(stderr, "produce: %" PRIu64 " records failed (%s)\n", run->failed,
			run->first_error);
	return sent;
}

/* Consume `expect` records from the beginning.  Returns the count read. */
static uint64_t consume(const struct opts *o, uint64_t expect, double *elapsed_s, uint64_t *bytes)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *subs;
	char err[256], group[64];
	rd_kafka_t *rk;
	uint64_t n = 0, start, idle_since;

	*bytes = 0;
	snprintf(group, sizeof(group), "bench-%" PRIu64, clock_mono_ns());
	if (set(c, "bootstrap.servers", o->brokers) || set(c, "group.id", group) ||
	    set(c, "auto.offset.reset", "earliest") || set(c, "enable.auto.commit", "false") ||
	    set(c, "fetch.max.bytes", "104857600") ||
	    set(c, "max.partition.fetch.bytes", "16777216") ||
	    set(c, "receive.message.max.bytes", "210000000") ||
	    set(c, "queued.max.messages.kbytes", "1048576") || set(c, "fetch.wait.max.ms", "100") ||
	    set(c, "broker.address.family", "v4") || set_extra(c, o)) {
		rd_kafka_conf_destroy(c);
		return 0;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "consumer: %s\n", err);
		return 0;
	}
	rd_kafka_poll_set_consumer(rk);
	subs = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(subs, o->topic, RD_KAFKA_PARTITION_UA);
	rd_kafka_subscribe(rk, subs);
	rd_kafka_topic_partition_list_destroy(subs);
	start = 0;
	idle_since = clock_mono_ns();
	while (n < expect) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

		if (!m) {
			if (clock_mono_ns() - idle_since > 30000000000ull) {
				fprintf(stderr, "consume: stuck at %" PRIu64 " of %" PRIu64 "\n", n,
					expect);
				break;
			}
			continue;
		}
		if (!m->err) {
			if (!start)
				start = clock_mono_ns();
			n++;
			*bytes += m->len;
			idle_since = clock_mono_ns();
		}
		rd_kafka_message_destroy(m);
	}
	*elapsed_s = start ? (double)(clock_mono_ns() - start) / 1e9 : 0;
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return n;
}

/* One of several consumers reading partitions idx, idx + nconsumers, ...
 * from the beginning to their end (assigned, no group: nothing is read
 * twice by a rebalance). */
struct pconsumer {
	const struct opts *o;
	int idx;
	uint64_t records, bytes;
	uint64_t first_ns, last_ns;
};

static void *pconsume(void *arg)
{
	struct pconsumer *pc = arg;
	const struct opts *o = pc->o;
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *as;
	char err[256];
	rd_kafka_t *rk;
	int parts = 0, eofs = 0;
	uint64_t idle_since;

	if (set(c, "bootstrap.servers", o->brokers) || set(c, "group.id", "bench-assign") ||
	    set(c, "enable.auto.commit", "false") || set(c, "enable.partition.eof", "true") ||
	    set(c, "fetch.max.bytes", "104857600") ||
	    set(c, "max.partition.fetch.bytes", "16777216") ||
	    set(c, "receive.message.max.bytes", "210000000") ||
	    set(c, "queued.max.messages.kbytes", "1048576") || set(c, "fetch.wait.max.ms", "100") ||
	    set(c, "broker.address.family", "v4") || set_extra(c, o)) {
		rd_kafka_conf_destroy(c);
		return NULL;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "consumer: %s\n", err);
		return NULL;
	}
	rd_kafka_poll_set_consumer(rk);
	as = rd_kafka_topic_partition_list_new(o->partitions);
	for (int p = pc->idx; p < o->partitions; p += o->consumers, parts++)
		rd_kafka_topic_partition_list_add(as, o->topic, p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, as);
	rd_kafka_topic_partition_list_destroy(as);
	idle_since = clock_mono_ns();
	while (eofs < parts && clock_mono_ns() - idle_since < 30000000000ull) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			eofs++;
		} else if (!m->err) {
			if (!pc->first_ns)
				pc->first_ns = clock_mono_ns();
			pc->records++;
			pc->bytes += m->len;
			pc->last_ns = clock_mono_ns();
			idle_since = pc->last_ns;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return NULL;
}

/* 0, or 2 after printing the usage. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	while ((c = getopt(argc, argv, "b:t:f:s:l:r:p:c:X:")) != -1) {
		switch (c) {
		case 'b':
			o->brokers = optarg;
			break;
		case 't':
			o->topic = optarg;
			break;
		case 'f':
			o->corpus = optarg;
			break;
		case 's':
			o->seconds = (int)strtol(optarg, NULL, 10);
			break;
		case 'l':
			o->latency_seconds = (int)strtol(optarg, NULL, 10);
			break;
		case 'r':
			o->record = (size_t)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			o->partitions = (int)strtol(optarg, NULL, 10);
			break;
		case 'c':
			o->consumers = (int)strtol(optarg, NULL, 10);
			break;
		case 'X':
			if (o->nextra < 8)
				o->extra[o->nextra++] = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: %s -b HOST:PORT -t TOPIC -f CORPUS [-s S] [-l S] [-r B] [-p PARTITIONS] "
				"[-c CONSUMERS]\n",
				argv[0]);
			return 2;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {NULL, NULL, NULL, 30, 10, 200, 4, 2, {NULL}, 0};
	struct run full, half;
	struct buf corpus;
	double secs, mb;
	int64_t sent;
	uint64_t got, bytes;

	if (parse_opts(argc, argv, &o) != 0)
		return 2;
	if (!o.brokers || !o.topic || !o.corpus || o.seconds <= 0 || o.record == 0) {
		fprintf(stderr, "missing -b, -t or -f\n");
		return 2;
	}
	buf_init(&corpus, 1u << 30);
	if (fs_read_file(o.corpus, &corpus) < 0 || corpus.len < o.record * 2) {
		fprintf(stderr, "cannot read corpus %s\n", o.corpus);
		return 1;
	}

	memset(&full, 0, sizeof(full));
	sent = produce(&o, &corpus, 0, o.seconds, &full, &secs);
	if (sent < 0 || full.acked == 0)
		return 1;
	mb = (double)full.acked * (double)o.record / 1e6;
	printf("produce: %" PRIu64
	       " records (%.1f MB of %zu-byte records, zstd, acks=all) in %.2f s: "
	       "%.1f MB/s, %.0f records/s, latency p50 %.2f ms p99 %.2f ms\n",
	       full.acked, mb, o.record, secs, mb / secs, (double)full.acked / secs,
	       h_pct_ms(&full.lat, 0.50), h_pct_ms(&full.lat, 0.99));
	fflush(stdout);

	memset(&half, 0, sizeof(half));
	{
		double rate = (double)full.acked / secs / 2, hsecs;
		int64_t hs = produce(&o, &corpus, rate, o.latency_seconds, &half, &hsecs);

		if (hs < 0)
			return 1;
		printf("produce at 50%% load: %.0f records/s (%.1f MB/s) for %d s: "
		       "latency p50 %.2f ms p99 %.2f ms max %.2f ms\n",
		       rate, rate * (double)o.record / 1e6, o.latency_seconds,
		       h_pct_ms(&half.lat, 0.50), h_pct_ms(&half.lat, 0.99),
		       (double)half.lat.max_us / 1000.0);
		fflush(stdout);
	}

	got = consume(&o, full.acked + half.acked, &secs, &bytes);
	mb = (double)bytes / 1e6;
	printf("consume: %" PRIu64 " of %" PRIu64 " records (%.1f MB) in %.2f s: %.1f MB/s, "
	       "%.0f records/s\n",
	       got, full.acked + half.acked, mb, secs, secs > 0 ? mb / secs : 0,
	       secs > 0 ? (double)got / secs : 0);
	fflush(stdout);
	if (o.consumers > 1 && o.partitions >= o.consumers) {
		struct pconsumer pcs[16];
		pthread_t th[16];
		uint64_t n = 0, b = 0, first = 0, last = 0;
		int k = o.consumers > 16 ? 16 : o.consumers;

		o.consumers = k;
		memset(pcs, 0, sizeof(pcs));
		for (int i = 0; i < k; i++) {
			pcs[i].o = &o;
			pcs[i].idx = i;
			pthread_create(&th[i], NULL, pconsume, &pcs[i]);
		}
		for (int i = 0; i < k; i++) {
			pthread_join(th[i], NULL);
			n += pcs[i].records;
			b += pcs[i].bytes;
			if (pcs[i].first_ns && (!first || pcs[i].first_ns < first))
				first = pcs[i].first_ns;
			if (pcs[i].last_ns > last)
				last = pcs[i].last_ns;
		}
		secs = first ? (double)(last - first) / 1e9 : 0;
		mb = (double)b / 1e6;
		printf("consume, %d consumers (threads) with %d partitions each: %" PRIu64
		       " of %" PRIu64 " records (%.1f MB) in %.2f s: %.1f MB/s, %.0f records/s\n",
		       k, o.partitions / k, n, full.acked + half.acked, mb, secs,
		       secs > 0 ? mb / secs : 0, secs > 0 ? (double)n / secs : 0);
		if (n != full.acked + half.acked)
			got = 0;
	}
	buf_release(&corpus);
	return got == full.acked + half.acked && !full.failed && !half.failed ? 0 : 1;
}
