/* SPDX-License-Identifier: Apache-2.0 */
/*
 * consume / replay with --brokers: a librdkafka consumer with an explicit
 * assignment (no group membership, nothing committed), see cli_kafka.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "cli/cli_kafka.h"
#include "cli/cli_source.h"
#include "lib/batch.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/mem.h"

#define KAFKA_TIMEOUT_MS 15000
#define MAX_PARTS 4096
#define MAX_HDRS 256

struct kpart {
	const char *topic;
	int32_t partition;
	int64_t start; /* first offset to read */
	int64_t end;   /* offsets from here are past the read; -1: none */
	bool done;
};

struct kread {
	const struct cli_kafka_req *req;
	rd_kafka_t *rk;
	rd_kafka_t *prod; /* replay */
	struct kpart *p;
	size_t n;
	size_t left; /* partitions not done */
	struct cli_out out;
	struct buf hdrbuf;
	uint64_t emitted, scanned, value_bytes, delivery_errors;
	char err[512];
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* --kafka-prop k=v, in order, after the CLI's own settings. */
static int kprops(const struct cli_ctx *ctx, rd_kafka_conf_t *c, char *err, size_t errlen)
{
	if (ctx->nkafka_props > CLI_KAFKA_PROPS_MAX) {
		snprintf(err, errlen, "at most %d --kafka-prop", CLI_KAFKA_PROPS_MAX);
		return -ERR_INVALID;
	}
	for (size_t i = 0; i < ctx->nkafka_props; i++) {
		const char *kv = ctx->kafka_props[i], *eq = strchr(kv, '=');
		char k[256];

		if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(k)) {
			snprintf(err, errlen, "--kafka-prop: expected key=value, got '%s'", kv);
			return -ERR_INVALID;
		}
		memcpy(k, kv, (size_t)(eq - kv));
		k[eq - kv] = '\0';
		if (rd_kafka_conf_set(c, k, eq + 1, err, errlen) != RD_KAFKA_CONF_OK)
			return -ERR_INVALID;
	}
	return 0;
}

static rd_kafka_conf_t *kconf(const struct cli_ctx *ctx, char *err, size_t errlen)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();

	if (rd_kafka_conf_set(c, "bootstrap.servers", ctx->brokers, err, errlen) !=
		    RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(c, "client.id", "sluice-cli", err, errlen) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(c, "log_level", "3", err, errlen) != RD_KAFKA_CONF_OK ||
	    kprops(ctx, c, err, errlen) < 0) {
		rd_kafka_conf_destroy(c);
		return NULL;
	}
	return c;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kread *kr = opaque;

	(void)rk;
	if (m->err && kr->delivery_errors++ == 0)
		snprintf(kr->err, sizeof(kr->err), "replay: delivery failed: %s",
			 rd_kafka_err2str(m->err));
}

static int open_clients(struct kread *kr, const struct cli_ctx *ctx)
{
	char e[512];
	rd_kafka_conf_t *c = kconf(ctx, e, sizeof(e));

	if (!c || rd_kafka_conf_set(c, "group.id", "sluice-cli", e, sizeof(e)) ||
	    rd_kafka_conf_set(c, "enable.auto.commit", "false", e, sizeof(e)) ||
	    rd_kafka_conf_set(c, "enable.partition.eof", "true", e, sizeof(e)) ||
	    rd_kafka_conf_set(c, "isolation.level", "read_committed", e, sizeof(e)))
		goto bad;
	kr->rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, e, sizeof(e));
	if (!kr->rk)
		goto bad;
	c = NULL;
	if (!kr->req->to_topic)
		return 0;
	c = kconf(ctx, e, sizeof(e));
	if (!c || rd_kafka_conf_set(c, "enable.idempotence", "true", e, sizeof(e)) ||
	    rd_kafka_conf_set(c, "compression.type", "zstd", e, sizeof(e)) ||
	    rd_kafka_conf_set(c, "linger.ms", "20", e, sizeof(e)))
		goto bad;
	rd_kafka_conf_set_opaque(c, kr);
	rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
	kr->prod = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof(e));
	if (!kr->prod)
		goto bad;
	return 0;
bad:
	if (c)
		rd_kafka_conf_destroy(c);
	cli_err("--brokers %s: %s", ctx->brokers, e);
	return -ERR_INVALID;
}

/* The partitions to read, from the cluster's metadata. */
static int list_partitions(struct kread *kr)
{
	const struct cli_kafka_req *q = kr->req;

	for (size_t t = 0; t < q->ntopics; t++) {
		const struct rd_kafka_metadata *md = NULL;
		rd_kafka_topic_t *rkt = rd_kafka_topic_new(kr->rk, q->topics[t], NULL);
		rd_kafka_resp_err_t e;
		int cnt;

		e = rkt ? rd_kafka_metadata(kr->rk, 0, rkt, &md, KAFKA_TIMEOUT_MS)
			: RD_KAFKA_RESP_ERR__INVALID_ARG;
		if (rkt)
			rd_kafka_topic_destroy(rkt);
		if (!e && md->topic_cnt == 1)
			e = md->topics[0].err;
		if (e) {
			cli_err("topic %s: %s", q->topics[t], rd_kafka_err2str(e));
			if (md)
				rd_kafka_metadata_destroy(md);
			return -EIO;
		}
		cnt = md->topics[0].partition_cnt;
		rd_kafka_metadata_destroy(md);
		if (q->partition >= cnt) {
			cli_err("topic %s has %d partitions: no partition %" PRId64, q->topics[t],
				cnt, q->partition);
			return -EIO;
		}
		for (int32_t p = 0; p < cnt; p++) {
			if (q->partition >= 0 && p != q->partition)
				continue;
			if (kr->n == MAX_PARTS) {
				cli_err("too many partitions to read at once");
				return -EIO;
			}
			kr->p[kr->n].topic = q->topics[t];
			kr->p[kr->n].partition = p;
			kr->n++;
		}
	}
	return 0;
}

/* The first offset at or after ts for every partition (-1: none). */
static int offsets_at(struct kread *kr, int64_t ts, int64_t *out)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)kr->n);
	rd_kafka_resp_err_t e;

	for (size_t i = 0; i < kr->n; i++) {
		rd_kafka_topic_partition_t *tp =
			rd_kafka_topic_partition_list_add(l, kr->p[i].topic, kr->p[i].partition);

		tp->offset = ts;
	}
	e = rd_kafka_offsets_for_times(kr->rk, l, KAFKA_TIMEOUT_MS);
	for (size_t i = 0; !e && i < kr->n; i++) {
		e = l->elems[i].err;
		out[i] = l->elems[i].offset;
	}
	rd_kafka_topic_partition_list_destroy(l);
	if (e)
		cli_err("offsets for time %" PRId64 ": %s", ts, rd_kafka_err2str(e));
	return e ? -EIO : 0;
}

/* Start and end offset of each partition. */
static int plan(struct kread *kr)
{
	const struct cli_kafka_req *q = kr->req;
	int64_t *at = mem_calloc(kr->n ? kr->n : 1, sizeof(*at));
	int rc = -ENOMEM;

	if (!at)
		return rc;
	for (size_t i = 0; i < kr->n; i++) {
		struct kpart *p = &kr->p[i];
		int64_t lo = 0, hi = 0;
		rd_kafka_resp_err_t e;

		e = rd_kafka_query_watermark_offsets(kr->rk, p->topic, p->partition, &lo, &hi,
						     KAFKA_TIMEOUT_MS);
		if (e) {
			cli_err("%s/%d: %s", p->topic, (int)p->partition, rd_kafka_err2str(e));
			rc = -EIO;
			goto out;
		}
		if (q->has_from_offset)
			p->start = q->from_offset == CLI_START_EARLIEST ? lo
				   : q->from_offset == CLI_START_LATEST ? hi
									: q->from_offset;
		else
			p->start = q->follow && !q->has_from_time ? hi : lo;
		p->end = q->follow ? -1 : hi;
	}
	rc = 0;
	if (q->has_from_time) {
		rc = offsets_at(kr, q->from_ts, at);
		/* nothing at or after from_ts: the end (following: wait there) */
		for (size_t i = 0; rc == 0 && i < kr->n; i++)
			kr->p[i].start = at[i] >= 0 ? at[i] : kr->p[i].end;
	}
	if (rc == 0 && q->has_to_time && q->to_ts < INT64_MAX) {
		rc = offsets_at(kr, q->to_ts + 1, at);
		for (size_t i = 0; rc == 0 && i < kr->n; i++)
			if (at[i] >= 0)
				kr->p[i].end = at[i];
	}
out:
	mem_free(at);
	return rc;
}

static int assign(struct kread *kr)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)kr->n);
	rd_kafka_resp_err_t e;

	kr->left = 0;
	for (size_t i = 0; i < kr->n; i++) {
		struct kpart *p = &kr->p[i];

		/* start -1: from_time past the end while following */
		p->done = p->end >= 0 && (p->start < 0 || p->start >= p->end);
		if (p->done)
			continue;
		rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset =
			p->start >= 0 ? p->start : RD_KAFKA_OFFSET_END;
		kr->left++;
	}
	e = rd_kafka_assign(kr->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (e)
		cli_err("assign: %s", rd_kafka_err2str(e));
	return e ? -EIO : 0;
}

static struct kpart *find(struct kread *kr, const rd_kafka_message_t *m)
{
	const char *t = m->rkt ? rd_kafka_topic_name(m->rkt) : NULL;

	for (size_t i = 0; t && i < kr->n; i++)
		if (kr->p[i].partition == m->partition && !strcmp(kr->p[i].topic, t))
			return &kr->p[i];
	return NULL;
}

/* A message as the record the filters and printers take (headers encoded
 * as inside a RecordBatch, into kr->hdrbuf). */
static int to_record(struct kread *kr, const rd_kafka_message_t *m, struct record *r)
{
	rd_kafka_headers_t *hs = NULL;
	struct record_header h[MAX_HDRS];
	size_t nh = 0, skip = 0;
	rd_kafka_timestamp_type_t tt;

	memset(r, 0, sizeof(*r));
	r->offset = m->offset;
	r->timestamp = rd_kafka_message_timestamp(m, &tt);
	r->key = m->key;
	r->key_len = m->key ? (int32_t)m->key_len : -1;
	r->value = m->payload;
	r->value_len = m->payload ? (int32_t)m->len : -1;
	if (rd_kafka_message_headers(m, &hs) || !hs)
		return 0;
	for (; nh < MAX_HDRS; nh++) {
		const char *name;
		const void *v;
		size_t vl;

		if (rd_kafka_header_get_all(hs, nh, &name, &v, &vl))
			break;
		h[nh].key = (const uint8_t *)name;
		h[nh].key_len = (int32_t)strlen(name);
		h[nh].value = v;
		h[nh].value_len = v ? (int32_t)vl : -1;
	}
	buf_reset(&kr->hdrbuf);
	if (batch_encode_headers(&kr->hdrbuf, h, nh) < 0)
		return -ENOMEM;
	/* past the varint count: a record's headers field holds only them */
	while (skip < kr->hdrbuf.len && (kr->hdrbuf.data[skip] & 0x80))
		skip++;
	skip++;
	r->header_count = (int32_t)nh;
	r->headers = kr->hdrbuf.data + skip;
	r->headers_len = kr->hdrbuf.len - skip;
	return 0;
}

static int replay_one(struct kread *kr, const rd_kafka_message_t *m)
{
	rd_kafka_headers_t *hs = NULL, *copy = NULL;
	rd_kafka_timestamp_type_t tt;
	rd_kafka_resp_err_t e;

	if (!rd_kafka_message_headers(m, &hs) && hs)
		copy = rd_kafka_headers_copy(hs);
	for (;;) {
		e = rd_kafka_producev(kr->prod, RD_KAFKA_V_TOPIC(kr->req->to_topic),
				      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				      RD_KAFKA_V_KEY(m->key, m->key_len),
				      RD_KAFKA_V_VALUE(m->payload, m->len),
				      RD_KAFKA_V_TIMESTAMP(rd_kafka_message_timestamp(m, &tt)),
				      RD_KAFKA_V_HEADERS(copy), RD_KAFKA_V_END);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		rd_kafka_poll(kr->prod, 100);
	}
	if (e) {
		if (copy)
			rd_kafka_headers_destroy(copy);
		snprintf(kr->err, sizeof(kr->err), "replay: %s", rd_kafka_err2str(e));
		return -EIO;
	}
	rd_kafka_poll(kr->prod, 0);
	return 0;
}

static void part_done(struct kread *kr, struct kpart *p)
{
	if (!p->done) {
		p->done = true;
		kr->left--;
	}
}

/* One message: 1 go on, 0 the read is over, < 0 failed. */
static int on_message(struct kread *kr, const rd_kafka_message_t *m)
{
	const struct cli_kafka_req *q = kr->req;
	struct kpart *p = find(kr, m);
	struct record r;
	int rc;

	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		if (p && !q->follow)
			part_done(kr, p);
		return 1;
	}
	if (m->err) {
		if (m->err == RD_KAFKA_RESP_ERR__TRANSPORT ||
		    m->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
			return 1; /* librdkafka reconnects */
		snprintf(kr->err, sizeof(kr->err), "%s", rd_kafka_message_errstr(m));
		return -EIO;
	}
	if (!p || p->done)
		return 1;
	if (p->end >= 0 && m->offset >= p->end) {
		part_done(kr, p);
		return 1;
	}
	if (p->end >= 0 && m->offset + 1 >= p->end)
		part_done(kr, p);
	kr->scanned++;
	rc = to_record(kr, m, &r);
	if (rc < 0)
		return rc;
	if (r.timestamp < q->from_ts || r.timestamp > q->to_ts ||
	    (q->filter && !cli_filter_match(q->filter, &r)))
		return 1;
	kr->value_bytes += m->len;
	rc = q->to_topic ? replay_one(kr, m) : cli_out_record(&kr->out, p->topic, p->partition, &r);
	if (rc < 0)
		return rc;
	kr->emitted++;
	return q->max && kr->emitted >= q->max ? 0 : 1;
}

static int read_all(struct kread *kr)
{
	int rc = 1;

	while (rc > 0 && (kr->left > 0 || kr->req->follow) && !stop_flag) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(kr->rk, 200);

		if (!m) {
			if (cli_out_flush(&kr->out) < 0)
				return -EPIPE;
			continue;
		}
		rc = on_message(kr, m);
		rd_kafka_message_destroy(m);
	}
	if (rc == -EPIPE)
		return 0;
	return rc < 0 ? rc : 0;
}

static int finish_replay(struct kread *kr)
{
	if (rd_kafka_flush(kr->prod, 60000) || rd_kafka_outq_len(kr->prod) > 0) {
		snprintf(kr->err, sizeof(kr->err), "replay: %d records not delivered",
			 rd_kafka_outq_len(kr->prod));
		return -EIO;
	}
	return kr->delivery_errors ? -EIO : 0;
}

int cli_kafka_run(struct cli_ctx *ctx, const struct cli_kafka_req *req)
{
	struct kread kr;
	uint64_t t0 = clock_mono_ns();
	struct sigaction sa;
	int rc = -ENOMEM;

	memset(&kr, 0, sizeof(kr));
	kr.req = req;
	cli_out_init(&kr.out, stdout, req->fmt);
	buf_init(&kr.hdrbuf, 1u << 20);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	kr.p = mem_calloc(MAX_PARTS, sizeof(*kr.p));
	if (!kr.p)
		goto out;
	rc = open_clients(&kr, ctx);
	if (rc == 0)
		rc = list_partitions(&kr);
	if (rc == 0)
		rc = plan(&kr);
	if (rc == 0)
		rc = assign(&kr);
	if (rc == 0)
		rc = read_all(&kr);
	if (rc == 0 && kr.prod)
		rc = finish_replay(&kr);
	if (rc == 0 && !kr.prod && cli_out_flush(&kr.out) == -EIO)
		rc = -EIO;
	if (rc < 0 && kr.err[0])
		cli_err("%s", kr.err);
	if (req->stats) {
		double secs = (double)(clock_mono_ns() - t0) / 1e9;

		fprintf(stderr,
			"sluice: stats: %" PRIu64 " records out, %" PRIu64 " scanned, "
			"%.1f MB of log lines in %.3f s\n",
			kr.emitted, kr.scanned, (double)kr.value_bytes / 1e6, secs);
	}
	if (rc == 0 && kr.prod && !req->quiet)
		cli_err("replayed %" PRIu64 " records from %s to %s", kr.emitted, req->topics[0],
			req->to_topic);
out:
	if (kr.rk) {
		rd_kafka_consumer_close(kr.rk);
		rd_kafka_destroy(kr.rk);
	}
	if (kr.prod)
		rd_kafka_destroy(kr.prod);
	mem_free(kr.p);
	buf_release(&kr.hdrbuf);
	cli_out_release(&kr.out);
	return rc == 0 ? CLI_OK : CLI_FAIL;
}
