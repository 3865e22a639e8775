/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Input `kafka`: a consumer-group member (librdkafka) reading topics from
 * sluice-store or any Kafka cluster, so one agent binary also runs the
 * central consumers (metrics, alerts, indexing) behind the store.
 *
 * Each assigned partition is a source ("topic/partition"); an event's
 * ordinal is its offset + 1, so a source's committed ordinal is exactly the
 * offset Kafka expects committed (the next one to read).  Every event
 * carries the record's key, timestamp and headers, plus the headers
 * kafka.topic, kafka.partition and kafka.offset: parsers and filters see
 * them, and outputs use them (the http output's elasticsearch_bulk `_id`).
 *
 * Commit point: an offset is committed to the group once the record is
 * durable in the spool of every output the input feeds -- the agent's
 * delivery contract for every input (plugin.h), reported by committed().
 * Spools survive kill -9 and deliver at the next start, so a crash
 * anywhere re-delivers and never skips.  Committing later (after each
 * output's acknowledgement) would not shrink the duplicate window, which
 * comes from the commit itself not being atomic with the spool.  Commits
 * are coalesced every commit_interval.
 *
 * Start offset of an assigned partition: the later of the group's
 * committed offset and what this agent's spools already hold for it (they
 * are ahead when the agent died after spooling and before committing).
 *
 * Shutdown (SIGTERM): the pipeline pauses this input and exits it only
 * after its last batches are spooled (drain_before_exit), so the final
 * commit covers everything it emitted and the next owner repeats nothing.
 *
 * Rebalance (eager protocol): on revocation the member stops fetching the
 * revoked partitions, waits (up to revoke_timeout, without blocking the
 * loop: librdkafka holds the rebalance until rd_kafka_assign() is called)
 * until everything it emitted from them is durable, commits that
 * synchronously and only then gives the partitions up.  A member killed
 * -9 gives up nothing: the next owner starts from the last commit, so the
 * records spooled since then (at most one commit_interval plus a round
 * trip) are consumed twice; idempotent sinks (the http output's
 * elasticsearch_bulk `_id` = topic/partition/offset) absorb them.
 *
 * librdkafka signals a pipe when its consumer queue becomes non-empty; the
 * loop drains a bounded number of messages per iteration.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/plugin.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

#define BATCH 512
#define PER_TURN 8192 /* messages per loop iteration */
#define NHDR_OWN 3    /* kafka.topic, kafka.partition, kafka.offset */

struct in_kafka_conf {
	char *brokers;
	struct cfg_list topics;
	char *group;
	int start; /* 0 earliest, 1 latest */
	int64_t commit_interval;
	int64_t revoke_timeout;
	char *security_protocol;
	char *sasl_mechanism;
	char *sasl_username;
	char *sasl_password;
	char *ssl_ca_location;
	struct cfg_kv librdkafka;
};

struct kpart {
	char *topic;
	int32_t topic_len;
	int32_t partition;
	char ident[320];
	struct source *src;
	uint64_t durable; /* committed ordinal from the pipeline */
	uint64_t sent;    /* offset last committed to the group */
	bool assigned;
	bool revoking;
};

struct in_kafka {
	const struct in_kafka_conf *conf;
	struct input *in;
	struct evloop *loop;
	char id[128];
	rd_kafka_t *rk;
	rd_kafka_queue_t *q;
	int pipefd[2];
	struct evloop_io io;
	bool io_on;
	struct evloop_timer poll_timer;
	struct evloop_timer commit_timer;
	struct evloop_timer revoke_timer;
	struct evloop_timer more;
	struct kpart *parts;
	size_t nparts, cap;
	size_t last; /* index of the last part looked up */
	bool paused;
	bool closing;
	bool revoking;
	uint64_t revoke_deadline;
	rd_kafka_message_t *msgs[BATCH];
	struct record_header hdrs[EVENT_MAX_HEADERS];
	char pbuf[16], obuf[24];
	struct log_ratelimit rl;
	uint64_t records, bytes, commits, commit_errors, rebalances, revoke_timeouts;
	uint64_t stale, errors, headers_dropped;
};

static const char *const starts[] = {"earliest", "latest", NULL};

#define KOPT(n, f, h)                                                                       \
	{                                                                                   \
		.name = n, .type = CFG_STRING, .offset = offsetof(struct in_kafka_conf, f), \
		.help = h                                                                   \
	}

static const struct cfg_option in_kafka_opts[] = {
	{.name = "brokers",
	 .type = CFG_STRING,
	 .offset = offsetof(struct in_kafka_conf, brokers),
	 .flags = CFG_REQUIRED,
	 .help = "bootstrap brokers, host:port[,host:port...]"},
	{.name = "topics",
	 .type = CFG_LIST,
	 .offset = offsetof(struct in_kafka_conf, topics),
	 .flags = CFG_REQUIRED,
	 .help = "topics to read; an entry starting with ^ is a regex"},
	{.name = "group",
	 .type = CFG_STRING,
	 .offset = offsetof(struct in_kafka_conf, group),
	 .flags = CFG_REQUIRED,
	 .help = "consumer group id"},
	{.name = "start",
	 .type = CFG_ENUM,
	 .offset = offsetof(struct in_kafka_conf, start),
	 .def = "earliest",
	 .choices = starts,
	 .help = "where a partition without a committed offset starts"},
	{.name = "commit_interval",
	 .type = CFG_DURATION,
	 .offset = offsetof(struct in_kafka_conf, commit_interval),
	 .def = "200ms",
	 .min = 10,
	 .max = 60000,
	 .help = "how often durable positions are committed to the group"},
	{.name = "revoke_timeout",
	 .type = CFG_DURATION,
	 .offset = offsetof(struct in_kafka_conf, revoke_timeout),
	 .def = "30s",
	 .min = 0,
	 .max = 600000,
	 .help = "how long a rebalance waits for revoked partitions to become durable"},
	KOPT("security_protocol", security_protocol, "security.protocol"),
	KOPT("sasl_mechanism", sasl_mechanism, "sasl.mechanism"),
	KOPT("sasl_username", sasl_username, "sasl.username"),
	KOPT("sasl_password", sasl_password,
	     "sasl.password (use ${ENV} to keep it out of the file)"),
	KOPT("ssl_ca_location", ssl_ca_location, "ssl.ca.location: CA bundle"),
	{.name = "librdkafka",
	 .type = CFG_MAP,
	 .offset = offsetof(struct in_kafka_conf, librdkafka),
	 .help = "any other librdkafka consumer property (CONFIGURATION.md), applied last"},
	CFG_OPT_END,
};

/* ------------------------------------------------------------ partitions */

static struct kpart *part_find(struct in_kafka *k, const char *topic, int32_t partition,
			       bool create)
{
	struct kpart *p;

	if (k->last < k->nparts && k->parts[k->last].partition == partition &&
	    !strcmp(k->parts[k->last].topic, topic))
		return &k->parts[k->last];
	for (size_t i = 0; i < k->nparts; i++) {
		if (k->parts[i].partition == partition && !strcmp(k->parts[i].topic, topic)) {
			k->last = i;
			return &k->parts[i];
		}
	}
	if (!create)
		return NULL;
	if (k->nparts == k->cap) {
		size_t nc = k->cap ? k->cap * 2 : 16;
		struct kpart *np = mem_realloc(k->parts, nc * sizeof(*np));

		if (!np)
			return NULL;
		k->parts = np;
		k->cap = nc;
	}
	p = &k->parts[k->nparts];
	memset(p, 0, sizeof(*p));
	p->topic = mem_strdup(topic);
	if (!p->topic)
		return NULL;
	p->topic_len = (int32_t)strlen(topic);
	p->partition = partition;
	snprintf(p->ident, sizeof(p->ident), "%s/%" PRId32, topic, partition);
	k->last = k->nparts++;
	return p;
}

static struct kpart *part_of_source(struct in_kafka *k, const struct source *s)
{
	for (size_t i = 0; i < k->nparts; i++)
		if (k->parts[i].src == s)
			return &k->parts[i];
	return NULL;
}

/* Open the source of p with its next offset `at` (the ordinal before the
 * first event). */
static int part_open(struct in_kafka *k, struct kpart *p, uint64_t at)
{
	struct source_desc d;

	if (p->src)
		return 0;
	memset(&d, 0, sizeof(d));
	d.ident = p->ident;
	d.name = p->ident;
	d.ordinal = at;
	p->src = input_source_open(k->in, &d);
	if (!p->src)
		return -ENOMEM;
	/* the group's commit (or the spool's) is where it stands */
	if (p->sent < at)
		p->sent = at;
	p->durable = source_committed(p->src);
	return 0;
}

/* ------------------------------------------------------------ commits */

/* Commit every assigned (or revoking) partition whose durable position
 * moved past what the group has.  only_revoking: just those being given
 * up.  sync waits for the answer (rebalances, shutdown). */
static void commit(struct in_kafka *k, bool only_revoking, bool sync)
{
	rd_kafka_topic_partition_list_t *l = NULL;
	rd_kafka_resp_err_t e;

	for (size_t i = 0; i < k->nparts; i++) {
		struct kpart *p = &k->parts[i];

		if (!p->assigned || (only_revoking && !p->revoking) || p->durable <= p->sent)
			continue;
		if (!l)
			l = rd_kafka_topic_partition_list_new(16);
		if (!l)
			return;
		rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset =
			(int64_t)p->durable;
		p->sent = p->durable;
	}
	if (!l)
		return;
	k->commits++;
	e = rd_kafka_commit(k->rk, l, sync ? 0 : 1);
	if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
		k->commit_errors++;
		log_write_rl(&k->rl, 10000, LOG_LVL_WARN, "input %s: commit: %s", k->id,
			     rd_kafka_err2str(e));
	}
	rd_kafka_topic_partition_list_destroy(l);
}

static void on_commit_timer(struct evloop_timer *t)
{
	commit(t->data, false, false);
}

/* Asynchronous commits report here; a failed one is tried again by the
 * next tick (the positions are absolute). */
static void on_committed_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			    rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
	struct in_kafka *k = opaque;

	(void)rk;
	if (!err || err == RD_KAFKA_RESP_ERR__NO_OFFSET)
		return;
	k->commit_errors++;
	log_write_rl(&k->rl, 10000, LOG_LVL_WARN, "input %s: commit failed: %s", k->id,
		     rd_kafka_err2str(err));
	for (int i = 0; offsets && i < offsets->cnt; i++) {
		struct kpart *p =
			part_find(k, offsets->elems[i].topic, offsets->elems[i].partition, false);

		if (p && p->sent == (uint64_t)offsets->elems[i].offset)
			p->sent = 0;
	}
}

/* ------------------------------------------------------------ rebalances */

static void finish_revoke(struct in_kafka *k, bool timed_out)
{
	commit(k, true, true);
	for (size_t i = 0; i < k->nparts; i++) {
		struct kpart *p = &k->parts[i];

		if (!p->revoking)
			continue;
		if (timed_out && p->src && source_committed(p->src) < source_ordinal(p->src))
			log_warn("input %s: %s revoked with %" PRIu64 " records not yet durable; "
				 "the next owner reads them again",
				 k->id, p->ident,
				 source_ordinal(p->src) - source_committed(p->src));
		p->revoking = false;
		p->assigned = false;
	}
	if (timed_out)
		k->revoke_timeouts++;
	k->revoking = false;
	if (k->revoke_timer.active)
		evloop_timer_stop(&k->revoke_timer);
	rd_kafka_assign(k->rk, NULL);
}

/* Every revoked partition durable up to what was emitted from it? */
static void check_revoke(struct in_kafka *k)
{
	if (!k->revoking)
		return;
	for (size_t i = 0; i < k->nparts; i++) {
		struct kpart *p = &k->parts[i];

		if (p->revoking && p->src && source_committed(p->src) < source_ordinal(p->src)) {
			if (evloop_now(k->loop) < k->revoke_deadline)
				return;
			finish_revoke(k, true);
			return;
		}
	}
	finish_revoke(k, false);
}

static void on_revoke_timer(struct evloop_timer *t)
{
	check_revoke(t->data);
}

static void revoke_parts(struct in_kafka *k, rd_kafka_topic_partition_list_t *l)
{
	bool lost = rd_kafka_assignment_lost(k->rk);

	for (int i = 0; i < l->cnt; i++) {
		struct kpart *p = part_find(k, l->elems[i].topic, l->elems[i].partition, false);

		if (p && p->assigned)
			p->revoking = true;
	}
	if (k->closing || lost) {
		/* leaving, or the group already moved on: nothing to hand over */
		if (lost)
			log_warn("input %s: assignment lost (session timed out)", k->id);
		for (size_t i = 0; i < k->nparts; i++)
			k->parts[i].revoking = k->parts[i].assigned = false;
		rd_kafka_assign(k->rk, NULL);
		return;
	}
	rd_kafka_pause_partitions(k->rk, l);
	k->revoking = true;
	k->revoke_deadline = evloop_now(k->loop) + (uint64_t)k->conf->revoke_timeout;
	evloop_timer_start(k->loop, &k->revoke_timer, 10, 10, on_revoke_timer, k);
	check_revoke(k);
}

/* Start each partition at the later of the group's commit and the spool. */
static void assign(struct in_kafka *k, rd_kafka_topic_partition_list_t *given)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_copy(given);
	rd_kafka_resp_err_t e;

	if (!l) {
		rd_kafka_assign(k->rk, given);
		return;
	}
	e = rd_kafka_committed(k->rk, l, 30000);
	if (e)
		log_warn("input %s: committed offsets: %s", k->id, rd_kafka_err2str(e));
	for (int i = 0; i < l->cnt; i++) {
		rd_kafka_topic_partition_t *tp = &l->elems[i];
		struct kpart *p = part_find(k, tp->topic, tp->partition, true);
		int64_t at = e || tp->err ? -1 : tp->offset;
		int64_t local = -1;

		if (!p)
			continue;
		if (p->src) {
			local = (int64_t)source_ordinal(p->src);
		} else {
			const struct source_resume *r = input_resume_find(k->in, p->ident);

			if (r)
				local = (int64_t)r->ordinal;
		}
		if (local > at)
			at = local;
		if (at >= 0) {
			tp->offset = at;
			if (part_open(k, p, (uint64_t)at) < 0)
				log_error("input %s: cannot open %s: out of memory", k->id,
					  p->ident);
		} else {
			tp->offset =
				k->conf->start ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
		}
		p->assigned = true;
		p->revoking = false;
	}
	e = rd_kafka_assign(k->rk, l);
	if (e)
		log_error("input %s: assign: %s", k->id, rd_kafka_err2str(e));
	/* a partition paused at its revocation stays paused through a new
	 * assignment unless resumed */
	if (k->paused)
		rd_kafka_pause_partitions(k->rk, l);
	else
		rd_kafka_resume_partitions(k->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			 rd_kafka_topic_partition_list_t *l, void *opaque)
{
	struct in_kafka *k = opaque;

	(void)rk;
	k->rebalances++;
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		log_info("input %s: %d partitions assigned", k->id, l->cnt);
		assign(k, l);
	} else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
		log_info("input %s: %d partitions revoked", k->id, l->cnt);
		revoke_parts(k, l);
	} else {
		log_warn("input %s: rebalance failed: %s", k->id, rd_kafka_err2str(err));
		k->closing = true;
		revoke_parts(k, l);
		k->closing = false;
	}
}

/* ------------------------------------------------------------ messages */

/* v in decimal at the end of buf[0..cap); returns where it starts. */
static char *fmt_u64(char *buf, size_t cap, uint64_t v, int32_t *len)
{
	char *e = buf + cap, *p = e;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v && p > buf);
	*len = (int32_t)(e - p);
	return p;
}

static size_t add_headers(struct in_kafka *k, const rd_kafka_message_t *m, const struct kpart *part)
{
	rd_kafka_headers_t *h = NULL;
	size_t n = 0;
	int32_t pl, ol;
	const char *ps = fmt_u64(k->pbuf, sizeof(k->pbuf), (uint64_t)m->partition, &pl);
	const char *os = fmt_u64(k->obuf, sizeof(k->obuf), (uint64_t)m->offset, &ol);

	k->hdrs[0] = (struct record_header){(const uint8_t *)"kafka.topic", 11,
					    (const uint8_t *)part->topic, part->topic_len};
	k->hdrs[1] = (struct record_header){(const uint8_t *)"kafka.partition", 15,
					    (const uint8_t *)ps, pl};
	k->hdrs[2] = (struct record_header){(const uint8_t *)"kafka.offset", 12,
					    (const uint8_t *)os, ol};
	n = NHDR_OWN;
	if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR || !h)
		return n;
	for (size_t i = 0;; i++) {
		const char *name;
		const void *v;
		size_t vl;

		if (rd_kafka_header_get_all(h, i, &name, &v, &vl) != RD_KAFKA_RESP_ERR_NO_ERROR)
			break;
		if (n == EVENT_MAX_HEADERS) {
			k->headers_dropped++;
			continue;
		}
		k->hdrs[n++] = (struct record_header){(const uint8_t *)name, (int32_t)strlen(name),
						      v, v ? (int32_t)vl : -1};
	}
	return n;
}

static void on_message(struct in_kafka *k, const rd_kafka_message_t *m)
{
	const char *topic;
	struct kpart *p;
	struct event ev;

	if (m->err) {
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
			return;
		k->errors++;
		log_write_rl(&k->rl, 10000, LOG_LVL_WARN, "input %s: %s", k->id,
			     rd_kafka_message_errstr(m));
		return;
	}
	topic = rd_kafka_topic_name(m->rkt);
	p = part_find(k, topic, m->partition, false);
	if (!p || !p->assigned || p->revoking) {
		k->stale++; /* fetched before a revocation: the next owner has it */
		return;
	}
	if (!p->src && part_open(k, p, (uint64_t)m->offset) < 0)
		return;
	if ((uint64_t)m->offset + 1 <= source_ordinal(p->src)) {
		k->stale++; /* at or before what this source already emitted */
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.ts = rd_kafka_message_timestamp(m, NULL);
	if (ev.ts < 0)
		ev.ts = clock_wall_ms();
	ev.value = m->payload ? m->payload : "";
	ev.value_len = m->len;
	ev.ordinal = (uint64_t)m->offset + 1;
	ev.key = m->key;
	ev.key_len = m->key ? m->key_len : 0;
	ev.headers = k->hdrs;
	ev.nheaders = add_headers(k, m, p);
	k->records++;
	k->bytes += m->len;
	input_emit(k->in, p->src, &ev);
}

/* Drain a bounded number of messages; 1 when more may be waiting. */
static int drain(struct in_kafka *k)
{
	size_t total = 0;

	while (total < PER_TURN && !k->closing) {
		ssize_t n = rd_kafka_consume_batch_queue(k->q, 0, k->msgs, BATCH);

		if (n <= 0)
			return 0;
		for (ssize_t i = 0; i < n; i++) {
			on_message(k, k->msgs[i]);
			rd_kafka_message_destroy(k->msgs[i]);
		}
		total += (size_t)n;
		if ((size_t)n < BATCH)
			return 0;
	}
	return 1;
}

static void on_more(struct evloop_timer *t)
{
	struct in_kafka *k = t->data;

	if (drain(k) > 0)
		evloop_timer_start(k->loop, &k->more, 0, 0, on_more, k);
}

static void pump(struct in_kafka *k)
{
	if (!k->more.active && drain(k) > 0)
		evloop_timer_start(k->loop, &k->more, 0, 0, on_more, k);
}

static void on_pipe(struct evloop_io *io, uint32_t revents)
{
	struct in_kafka *k = io->data;
	char b[256];

	(void)revents;
	while (read(k->pipefd[0], b, sizeof(b)) > 0)
		;
	pump(k);
}

static void on_poll_timer(struct evloop_timer *t)
{
	pump(t->data);
}

/* ------------------------------------------------------------ consumer */

static int set_prop(rd_kafka_conf_t *c, const char *key, const char *v, struct cfg_error *err,
		    const char *id)
{
	char e[256];

	if (!v || !*v)
		return 0;
	if (rd_kafka_conf_set(c, key, v, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
		snprintf(err->msg, sizeof(err->msg),
			 "input %.64s: librdkafka property %.100s: %.300s", id, key, e);
		return -ERR_INVALID;
	}
	return 0;
}

static void on_error(rd_kafka_t *rk, int e, const char *reason, void *opaque)
{
	struct in_kafka *k = opaque;

	(void)rk;
	(void)e;
	log_write_rl(&k->rl, 10000, LOG_LVL_WARN, "input %s: %s", k->id, reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *msg)
{
	struct in_kafka *k = rd_kafka_opaque(rk);

	if (level <= 4)
		log_warn("input %s: librdkafka %s: %s", k ? k->id : "kafka", fac, msg);
	else
		log_debug("input %s: librdkafka %s: %s", k ? k->id : "kafka", fac, msg);
}

static rd_kafka_conf_t *consumer_conf(struct in_kafka *k, struct cfg_error *err)
{
	const struct in_kafka_conf *c = k->conf;
	rd_kafka_conf_t *kc = rd_kafka_conf_new();
	int rc;

	if (!kc) {
		snprintf(err->msg, sizeof(err->msg), "input %s: librdkafka cannot be loaded",
			 k->id);
		return NULL;
	}
	rd_kafka_conf_set_opaque(kc, k);
	rd_kafka_conf_set_error_cb(kc, on_error);
	rd_kafka_conf_set_log_cb(kc, on_log);
	rd_kafka_conf_set_rebalance_cb(kc, on_rebalance);
	rd_kafka_conf_set_offset_commit_cb(kc, on_committed_cb);
	rc = set_prop(kc, "bootstrap.servers", c->brokers, err, k->id);
	rc = rc ? rc : set_prop(kc, "group.id", c->group, err, k->id);
	rc = rc ? rc : set_prop(kc, "client.id", "sluice-agent", err, k->id);
	rc = rc ? rc : set_prop(kc, "enable.auto.commit", "false", err, k->id);
	rc = rc ? rc : set_prop(kc, "enable.auto.offset.store", "false", err, k->id);
	rc = rc ? rc
		: set_prop(kc, "partition.assignment.strategy", "range,roundrobin", err, k->id);
	rc = rc ? rc : set_prop(kc, "auto.offset.reset", starts[c->start], err, k->id);
	/* The prefetch queue is bounded mostly by bytes (queued.max.messages.
	 * kbytes, librdkafka's 64 MiB) rather than by its default 100000
	 * messages: one fetch of a 1 MiB zstd batch per partition holds more
	 * records than that, and librdkafka 2.0 looks at a full queue again
	 * only at its broker thread's 1 s wakeup, so the fetcher idled most
	 * of every second (bench/RESULTS.md, kafka input -> null). */
	rc = rc ? rc : set_prop(kc, "queued.min.messages", "1000000", err, k->id);
	rc = rc ? rc : set_prop(kc, "security.protocol", c->security_protocol, err, k->id);
	rc = rc ? rc : set_prop(kc, "sasl.mechanism", c->sasl_mechanism, err, k->id);
	rc = rc ? rc : set_prop(kc, "sasl.username", c->sasl_username, err, k->id);
	rc = rc ? rc : set_prop(kc, "sasl.password", c->sasl_password, err, k->id);
	rc = rc ? rc : set_prop(kc, "ssl.ca.location", c->ssl_ca_location, err, k->id);
	for (size_t i = 0; !rc && i < c->librdkafka.n; i++)
		rc = set_prop(kc, c->librdkafka.keys[i], c->librdkafka.vals[i], err, k->id);
	if (rc) {
		rd_kafka_conf_destroy(kc);
		return NULL;
	}
	return kc;
}

static int in_kafka_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct in_kafka *k = mem_calloc(1, sizeof(*k));
	rd_kafka_conf_t *kc;
	char e[512];

	if (!k)
		return -ENOMEM;
	*ctx = k;
	k->conf = a->conf;
	k->in = a->input;
	k->loop = a->loop;
	k->pipefd[0] = k->pipefd[1] = -1;
	snprintf(k->id, sizeof(k->id), "%s", a->id);
	if (k->conf->topics.n == 0) {
		snprintf(err->msg, sizeof(err->msg), "input %s: topics: at least one topic", a->id);
		return -ERR_INVALID;
	}
	kc = consumer_conf(k, err);
	if (!kc)
		return -ERR_INVALID;
	if (a->check_only) {
		rd_kafka_conf_destroy(kc);
		return 0;
	}
	k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, e, sizeof(e));
	if (!k->rk) {
		rd_kafka_conf_destroy(kc);
		snprintf(err->msg, sizeof(err->msg), "input %s: cannot create the consumer: %.300s",
			 a->id, e);
		return -ERR_INVALID;
	}
	rd_kafka_poll_set_consumer(k->rk);
	k->q = rd_kafka_queue_get_consumer(k->rk);
	if (!k->q || pipe2(k->pipefd, O_NONBLOCK | O_CLOEXEC) < 0) {
		snprintf(err->msg, sizeof(err->msg), "input %s: consumer queue: %s", a->id,
			 err_str(-errno));
		return -ERR_INVALID;
	}
	rd_kafka_queue_io_event_enable(k->q, k->pipefd[1], "x", 1);
	return 0;
}

static int in_kafka_start(void *ctx)
{
	struct in_kafka *k = ctx;
	const struct cfg_list *t = &k->conf->topics;
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)t->n);
	rd_kafka_resp_err_t e;
	int rc;

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		rd_kafka_topic_partition_list_add(l, t->v[i], RD_KAFKA_PARTITION_UA);
	e = rd_kafka_subscribe(k->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (e) {
		log_error("input %s: subscribe: %s", k->id, rd_kafka_err2str(e));
		return -ERR_INVALID;
	}
	rc = evloop_io_start(k->loop, &k->io, k->pipefd[0], EVLOOP_READ, on_pipe, k);
	if (rc < 0)
		return rc;
	k->io_on = true;
	/* librdkafka signals the pipe only when the queue goes from empty to
	 * non-empty, and rebalances are served by polling */
	evloop_timer_start(k->loop, &k->poll_timer, 50, 50, on_poll_timer, k);
	evloop_timer_start(k->loop, &k->commit_timer, (uint64_t)k->conf->commit_interval,
			   (uint64_t)k->conf->commit_interval, on_commit_timer, k);
	return 0;
}

static void set_paused(struct in_kafka *k, bool on)
{
	rd_kafka_topic_partition_list_t *l = NULL;

	k->paused = on;
	if (!k->rk || rd_kafka_assignment(k->rk, &l) || !l)
		return;
	if (on)
		rd_kafka_pause_partitions(k->rk, l);
	else
		rd_kafka_resume_partitions(k->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
}

static void in_kafka_pause(void *ctx)
{
	set_paused(ctx, true);
}

static void in_kafka_resume(void *ctx)
{
	set_paused(ctx, false);
	pump(ctx);
}

static void in_kafka_committed(void *ctx, struct source *s, uint64_t ordinal)
{
	struct in_kafka *k = ctx;
	struct kpart *p = part_of_source(k, s);

	if (p && ordinal > p->durable)
		p->durable = ordinal;
	if (k->revoking)
		check_revoke(k);
}

static size_t in_kafka_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct in_kafka *k = ctx;
	size_t assigned = 0;
	const struct plugin_metric v[] = {
		{"sluice_agent_kafka_in_records_total", "counter", "Records consumed.", k->records,
		 NULL, NULL},
		{"sluice_agent_kafka_in_bytes_total", "counter", "Record value bytes consumed.",
		 k->bytes, NULL, NULL},
		{"sluice_agent_kafka_in_commits_total", "counter", "Offset commits sent.",
		 k->commits, NULL, NULL},
		{"sluice_agent_kafka_in_commit_errors_total", "counter",
		 "Offset commits that failed.", k->commit_errors, NULL, NULL},
		{"sluice_agent_kafka_in_rebalances_total", "counter", "Group rebalance events.",
		 k->rebalances, NULL, NULL},
		{"sluice_agent_kafka_in_revoke_timeouts_total", "counter",
		 "Revocations that gave partitions up before all was durable.", k->revoke_timeouts,
		 NULL, NULL},
		{"sluice_agent_kafka_in_stale_total", "counter",
		 "Fetched records skipped (revoked partition or already emitted).", k->stale, NULL,
		 NULL},
		{"sluice_agent_kafka_in_errors_total", "counter", "Consumer errors reported.",
		 k->errors, NULL, NULL},
		{"sluice_agent_kafka_in_headers_dropped_total", "counter",
		 "Record headers past the event's limit, dropped.", k->headers_dropped, NULL, NULL},
		{"sluice_agent_kafka_in_partitions", "gauge", "Partitions assigned.", 0, NULL,
		 NULL},
	};
	size_t n = plugin_metrics_copy(m, max, v, sizeof(v) / sizeof(v[0]));

	for (size_t i = 0; i < k->nparts; i++)
		assigned += k->parts[i].assigned;
	if (n == sizeof(v) / sizeof(v[0]))
		m[n - 1].value = assigned;
	return n;
}

static void in_kafka_exit(void *ctx)
{
	struct in_kafka *k = ctx;

	if (!k)
		return;
	if (k->io_on)
		evloop_io_stop(&k->io);
	evloop_timer_stop(&k->poll_timer);
	evloop_timer_stop(&k->commit_timer);
	evloop_timer_stop(&k->revoke_timer);
	evloop_timer_stop(&k->more);
	if (k->rk) {
		/* what is durable now is committed; the rest is in the spools
		 * and delivered at the next start (the start offset is the
		 * later of the two) */
		k->closing = true;
		commit(k, false, true);
		if (k->q)
			rd_kafka_queue_destroy(k->q);
		rd_kafka_consumer_close(k->rk);
		rd_kafka_destroy(k->rk);
	}
	for (size_t i = 0; i < k->nparts; i++)
		mem_free(k->parts[i].topic);
	mem_free(k->parts);
	if (k->pipefd[0] >= 0)
		close(k->pipefd[0]);
	if (k->pipefd[1] >= 0)
		close(k->pipefd[1]);
	mem_free(k);
}

const struct plugin in_kafka_plugin = {
	.name = "kafka",
	.kind = PLUGIN_INPUT,
	.description = "a consumer-group member reading topics from sluice-store or Kafka",
	.options = in_kafka_opts,
	.conf_size = sizeof(struct in_kafka_conf),
	.init = in_kafka_init,
	.start = in_kafka_start,
	.pause = in_kafka_pause,
	.resume = in_kafka_resume,
	.committed = in_kafka_committed,
	.metrics = in_kafka_metrics,
	.exit = in_kafka_exit,
	.drain_before_exit = true,
};
