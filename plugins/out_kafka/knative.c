/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The native producer of the kafka output (knative.h): flushes, answers,
 * the producer id and the partition table.
 *
 * A flush is one Produce request (acks -1) to the leader of its partition:
 * the pipeline keeps one flush per (topic, partition) in flight, so the
 * sequences reach the broker in order.  The spool's batches are sent as
 * they are, stamped with the producer id and epoch (InitProducerId without
 * a transactional id, kept in the output's spool directory as "producer" so
 * a restart re-sends with the same id and sequences and the broker
 * de-duplicates), their CRC-32C recomputed.
 *
 * Kafka answers a re-sent batch it already has (one of the producer's last
 * five on that partition) as a success without appending it, and then also
 * drops every later batch of the same request: so a flush whose first batch
 * may have reached the broker (`resent`) sends that batch alone, and a flush
 * sends no resent batch after a fresh one.  Older re-sent batches are
 * refused OUT_OF_ORDER_SEQUENCE_NUMBER: every batch before them was
 * delivered (in sequence), so they are counted delivered, as the store
 * output does.  Other answers: see produce_answer().
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "plugins/out_kafka/knative.h"
#include "plugins/out_kafka/out_kafka.h"

#define START_TIMEOUT_MS 3000
#define META_BACKOFF_MAX_MS 1000
#define META_REFRESH_MS 300000

/* ------------------------------------------------------------ state */

static struct kn_topic *topic_get(struct knative *kn, const char *name)
{
	struct kn_topic *v;

	for (size_t i = 0; i < kn->ntopics; i++)
		if (!strcmp(kn->topics[i].name, name))
			return &kn->topics[i];
	v = mem_realloc(kn->topics, (kn->ntopics + 1) * sizeof(*v));
	if (!v)
		return NULL;
	kn->topics = v;
	memset(&v[kn->ntopics], 0, sizeof(*v));
	v[kn->ntopics].name = mem_strdup(name);
	if (!v[kn->ntopics].name)
		return NULL;
	kn->meta_stale = true;
	return &v[kn->ntopics++];
}

static const struct kp_broker *broker_find(const struct knative *kn, int32_t node)
{
	for (size_t i = 0; i < kn->nbrokers; i++)
		if (kn->brokers[i].node == node)
			return &kn->brokers[i];
	return NULL;
}

static void pid_load(struct knative *kn)
{
	char path[4096];
	struct buf b;
	int64_t id = -1, ep = -1;

	if (!kn->state_dir)
		return;
	buf_init(&b, 256);
	snprintf(path, sizeof(path), "%s/kafka_producer", kn->state_dir);
	if (fs_read_file(path, &b) == 0 && buf_cstr(&b) == 0 &&
	    sscanf((const char *)b.data, "%" SCNd64 " %" SCNd64, &id, &ep) == 2 && id >= 0 &&
	    ep >= 0 && ep <= INT16_MAX) {
		kn->pid = id;
		kn->epoch = (int16_t)ep;
		log_info("kafka output %s: producer id %" PRId64 " epoch %d (kept)", kn->id, id,
			 kn->epoch);
	}
	buf_release(&b);
}

static void pid_store(struct knative *kn)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%" PRId64 " %d\n", kn->pid, kn->epoch);
	int rc;

	if (!kn->state_dir)
		return;
	rc = fs_write_atomic(kn->state_dir, "kafka_producer", line, (size_t)n);
	if (rc < 0)
		log_warn("kafka output %s: cannot save the producer id: %s", kn->id, err_str(rc));
}

/* The partition counts, kept in the spool directory ("kafka_topics", one
 * "<partitions> <topic>" a line) so a restart places records right even
 * before the cluster answers (unreachable at start, or TLS/SASL, whose
 * counts come asynchronously). */
static void topics_store(struct knative *kn)
{
	struct buf b;
	int rc = 0;

	if (!kn->state_dir)
		return;
	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < kn->ntopics && rc == 0; i++)
		if (kn->topics[i].nparts > 0)
			rc = buf_printf(&b, "%d %s\n", kn->topics[i].nparts, kn->topics[i].name);
	if (rc == 0)
		rc = fs_write_atomic(kn->state_dir, "kafka_topics", b.data ? b.data : (uint8_t *)"",
				     b.len);
	if (rc < 0)
		log_warn("kafka output %s: cannot save partition counts: %s", kn->id, err_str(rc));
	buf_release(&b);
}

static void topics_load(struct knative *kn)
{
	char path[4096];
	struct buf b;

	if (!kn->state_dir)
		return;
	buf_init(&b, 1 << 20);
	snprintf(path, sizeof(path), "%s/kafka_topics", kn->state_dir);
	if (fs_read_file(path, &b) == 0 && buf_cstr(&b) == 0) {
		char *line = (char *)b.data, *end = line + b.len;

		while (line < end) {
			char *nl = memchr(line, '\n', (size_t)(end - line));
			char *sp = strchr(line, ' ');
			int64_t n;
			struct kn_topic *t;

			if (nl)
				*nl = '\0';
			if (sp)
				*sp = '\0';
			/* counts only: leaders come from Metadata (stale until then) */
			t = sp && cfg_parse_int(line, &n) == 0 && n >= 1 && n <= 100000
				    ? topic_get(kn, sp + 1)
				    : NULL;
			if (t && !t->nparts) {
				t->leaders = mem_calloc((size_t)n, sizeof(*t->leaders));
				for (int64_t p = 0; t->leaders && p < n; p++)
					t->leaders[p] = -1;
				if (t->leaders)
					t->nparts = (int32_t)n;
			}
			line = nl ? nl + 1 : end;
		}
	}
	buf_release(&b);
}

/* A live connection, or a new one to the next bootstrap or known broker. */
static struct kn_conn *any_conn(struct knative *kn)
{
	size_t n = kn->nbootstrap + kn->nbrokers;

	for (struct kn_conn *c = kn->conns; c; c = c->next)
		if (!c->dead)
			return c;
	for (size_t k = 0; k < n; k++) {
		size_t i = kn->next_bootstrap++ % n;
		struct kn_conn *c;

		if (i < kn->nbootstrap) {
			char host[KP_NAME_MAX];
			int32_t port;

			if (kn_split_hostport(kn->bootstrap[i], host, sizeof(host), &port) < 0)
				continue;
			c = kn_conn_get(kn, -1, host, port);
		} else {
			const struct kp_broker *b = &kn->brokers[i - kn->nbootstrap];

			c = kn_conn_get(kn, b->node, b->host, b->port);
		}
		if (c)
			return c;
	}
	return NULL;
}

static int request(struct knative *kn, int16_t api)
{
	struct kn_conn *c = any_conn(kn);
	struct kn_req *r;
	const char **names = NULL;
	int rc;

	if (!c)
		return -ECONNREFUSED;
	r = mem_calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->corr = ++kn->corr;
	r->api = api;
	if (api == KP_METADATA) {
		names = mem_calloc(kn->ntopics ? kn->ntopics : 1, sizeof(*names));
		for (size_t i = 0; names && i < kn->ntopics; i++)
			names[i] = kn->topics[i].name;
		rc = names ? kp_metadata_req(&c->out, r->corr, names, kn->ntopics) : -ENOMEM;
		mem_free(names);
	} else {
		rc = kp_init_pid_req(&c->out, r->corr, 60000);
	}
	if (rc < 0) {
		mem_free(r);
		return rc;
	}
	kn_conn_queue(c, r);
	return 0;
}

static void wait_add(struct knative *kn, struct flush *f, int *rc)
{
	if (kn->nwaiting == kn->capwaiting) {
		size_t cap = kn->capwaiting ? kn->capwaiting * 2 : 16;
		struct flush **v = mem_realloc(kn->waiting, cap * sizeof(*v));

		if (!v) {
			*rc = -ENOMEM;
			return;
		}
		kn->waiting = v;
		kn->capwaiting = cap;
	}
	kn->waiting[kn->nwaiting++] = f;
	*rc = 0;
}

/* ------------------------------------------------------------ sending */

struct verdict {
	enum flush_result r;
	size_t nacked;
	const char *code;
	char reason[160];
};

static enum flush_result fail(struct verdict *v, const char *code, const char *reason)
{
	v->r = FLUSH_RETRY;
	v->nacked = 0;
	v->code = code;
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
	return FLUSH_RETRY;
}

static void stamp(struct knative *kn, struct flush *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t *b = f->body.data + f->batches[i].off;

		if ((int64_t)get_be64(b + BATCH_OFF_PRODUCER_ID) == kn->pid &&
		    (int16_t)get_be16(b + BATCH_OFF_PRODUCER_EPOCH) == kn->epoch)
			continue;
		put_be64(b + BATCH_OFF_PRODUCER_ID, (uint64_t)kn->pid);
		put_be16(b + BATCH_OFF_PRODUCER_EPOCH, (uint16_t)kn->epoch);
		batch_update_crc(b, f->batches[i].len);
	}
}

static enum flush_result produce_send(struct knative *kn, struct flush *f, const char *topic,
				      int32_t leader, struct verdict *v)
{
	const struct kp_broker *b = broker_find(kn, leader);
	struct kn_conn *c = b ? kn_conn_get(kn, leader, b->host, b->port) : NULL;
	struct kn_req *r;
	size_t n = 1, len;

	if (!c) {
		kn->meta_stale = true;
		return fail(v, "connection", "cannot connect to the partition's leader");
	}
	/* see the file comment: a possible duplicate goes alone */
	if (!f->batches[0].resent)
		while (n < f->nbatches && !f->batches[n].resent)
			n++;
	stamp(kn, f, n);
	len = f->batches[n - 1].off + f->batches[n - 1].len - f->batches[0].off;
	r = mem_calloc(1, sizeof(*r));
	if (!r)
		return fail(v, "out_of_memory", "out of memory");
	r->corr = ++kn->corr;
	r->api = KP_PRODUCE;
	r->f = f;
	r->nsent = n;
	snprintf(r->topic, sizeof(r->topic), "%s", topic);
	if (kp_produce_req(&c->out, r->corr, -1, kn->timeout_ms, topic, f->partition,
			   f->body.data + f->batches[0].off, len) < 0) {
		mem_free(r);
		return fail(v, "out_of_memory", "request buffer full");
	}
	f->plugin_data = r;
	kn_conn_queue(c, r);
	return FLUSH_ASYNC;
}

/* FLUSH_ASYNC: sent, or waiting for the producer id or the metadata. */
static enum flush_result dispatch(struct knative *kn, struct flush *f, const char *topic,
				  struct verdict *v)
{
	uint64_t now = evloop_now(kn->loop);
	struct kn_topic *t;
	bool ready;
	int rc;

	if (f->nbatches == 0) {
		v->r = FLUSH_OK;
		return FLUSH_OK;
	}
	if (kn->pid < 0) {
		if (!kn->pid_pending) {
			rc = request(kn, KP_INIT_PRODUCER_ID);
			if (rc < 0)
				return fail(v, "connection", "no broker reachable");
			kn->pid_pending = true;
		}
		wait_add(kn, f, &rc);
		return rc < 0 ? fail(v, "out_of_memory", "out of memory") : FLUSH_ASYNC;
	}
	t = topic_get(kn, topic);
	if (!t)
		return fail(v, "out_of_memory", "out of memory");
	ready = f->partition >= 0 && f->partition < t->nparts && t->leaders[f->partition] >= 0 &&
		broker_find(kn, t->leaders[f->partition]);
	if (!ready || kn->meta_stale) {
		if (!kn->meta_pending && now >= kn->meta_next_ms && request(kn, KP_METADATA) == 0) {
			kn->meta_pending = true;
			kn->st.metadata++;
		}
		if (kn->meta_pending) {
			wait_add(kn, f, &rc);
			return rc < 0 ? fail(v, "out_of_memory", "out of memory") : FLUSH_ASYNC;
		}
		if (!ready)
			return fail(v, "metadata", "no leader known for the partition yet");
	}
	return produce_send(kn, f, topic, t->leaders[f->partition], v);
}

/* Waiting flushes again, after the producer id or the metadata came (or did
 * not: then they fail and the pipeline retries them after its backoff). */
static void redispatch(struct knative *kn)
{
	struct flush **list = kn->waiting;
	size_t n = kn->nwaiting;

	kn->waiting = NULL;
	kn->nwaiting = kn->capwaiting = 0;
	for (size_t i = 0; i < n; i++) {
		struct flush *f = list[i];
		struct verdict v = {.r = FLUSH_RETRY};
		char tbuf[512];
		const char *topic = out_kafka_topic_for(kn->ok, f, NULL, tbuf, sizeof(tbuf));

		if (dispatch(kn, f, topic, &v) == FLUSH_ASYNC)
			continue;
		output_flush_done(kn->ok->output, f, v.r, v.r == FLUSH_OK ? f->nbatches : 0, v.code,
				  v.reason, 0);
	}
	mem_free(list);
}

static void fail_waiting(struct knative *kn, const char *code, const char *reason)
{
	struct flush **list = kn->waiting;
	size_t n = kn->nwaiting;

	kn->waiting = NULL;
	kn->nwaiting = kn->capwaiting = 0;
	for (size_t i = 0; i < n; i++)
		output_flush_done(kn->ok->output, list[i], FLUSH_RETRY, 0, code, reason, 0);
	mem_free(list);
}

enum flush_result knative_flush(struct knative *kn, struct flush *f, const char *topic)
{
	struct verdict v = {.r = FLUSH_RETRY};
	enum flush_result r = dispatch(kn, f, topic, &v);

	if (r != FLUSH_ASYNC && r != FLUSH_OK)
		log_write_rl(&kn->rl, 5000, LOG_LVL_WARN, "kafka output %s: %s: %s", kn->id, v.code,
			     v.reason);
	return r;
}

void knative_cancel(struct knative *kn, struct flush *f)
{
	struct kn_req *r = f->plugin_data;

	for (size_t i = 0; i < kn->nwaiting; i++) {
		if (kn->waiting[i] == f) {
			memmove(&kn->waiting[i], &kn->waiting[i + 1],
				(kn->nwaiting - i - 1) * sizeof(kn->waiting[0]));
			kn->nwaiting--;
			return;
		}
	}
	if (r) {
		r->f = NULL;
		f->plugin_data = NULL;
	}
}

int32_t knative_partitions(struct knative *kn, const char *topic)
{
	struct kn_topic *t = topic_get(kn, topic);

	return t && t->nparts > 0 ? t->nparts : 1;
}

/* ------------------------------------------------------------ answers */

static void apply_metadata(struct knative *kn, struct kp_metadata *md)
{
	bool stale = false, changed = false;

	mem_free(kn->brokers);
	kn->brokers = md->brokers;
	kn->nbrokers = md->nbrokers;
	md->brokers = NULL;
	md->nbrokers = 0;
	for (size_t i = 0; i < md->ntopics; i++) {
		const struct kp_topic *mt = &md->topics[i];
		struct kn_topic *t;
		int32_t *leaders;

		if (mt->err != KE_NONE || mt->nparts <= 0)
			continue;
		t = topic_get(kn, mt->name);
		leaders = t ? mem_calloc((size_t)mt->nparts, sizeof(*leaders)) : NULL;
		if (!leaders)
			continue;
		for (int32_t p = 0; p < mt->nparts; p++)
			leaders[p] = -1;
		for (int32_t p = 0; p < mt->nparts; p++) {
			const struct kp_partition *pp = &mt->parts[p];

			if (pp->id >= 0 && pp->id < mt->nparts)
				leaders[pp->id] = pp->err == KE_NONE ? pp->leader : -1;
		}
		if (t->nparts != mt->nparts) {
			if (t->nparts)
				log_info("kafka output %s: topic %s has %d partitions (was %d)",
					 kn->id, t->name, mt->nparts, t->nparts);
			changed = true;
		}
		mem_free(t->leaders);
		t->leaders = leaders;
		t->nparts = mt->nparts;
	}
	for (size_t i = 0; i < kn->ntopics; i++) {
		stale = stale || kn->topics[i].nparts == 0;
		for (int32_t p = 0; p < kn->topics[i].nparts; p++)
			stale = stale || kn->topics[i].leaders[p] < 0;
	}
	kn->meta_stale = stale;
	if (changed)
		topics_store(kn);
}

static void metadata_answer(struct knative *kn, const uint8_t *body, size_t len, const char *why)
{
	struct kp_metadata md;
	uint64_t backoff;
	int rc = body ? kp_metadata_parse(body, len, &md) : -ECONNRESET;

	kn->meta_pending = false;
	if (rc == 0) {
		kn->meta_refreshed_ms = evloop_now(kn->loop);
		apply_metadata(kn, &md);
		kn->meta_failures = kn->meta_stale ? kn->meta_failures + 1 : 0;
	} else {
		kn->meta_stale = true;
		kn->meta_failures++;
		log_write_rl(&kn->rl, 5000, LOG_LVL_WARN, "kafka output %s: metadata: %s", kn->id,
			     why ? why : err_str(rc));
	}
	if (body)
		kp_metadata_release(&md);
	backoff = kn->meta_failures
			  ? (uint64_t)50 << (kn->meta_failures < 5 ? kn->meta_failures : 5)
			  : 0;
	kn->meta_next_ms = evloop_now(kn->loop) +
			   (backoff < META_BACKOFF_MAX_MS ? backoff : META_BACKOFF_MAX_MS);
	redispatch(kn);
}

static void pid_answer(struct knative *kn, const uint8_t *body, size_t len, const char *why)
{
	int16_t e = 0, epoch = 0;
	int64_t pid = -1;
	char reason[160];
	int rc = body ? kp_init_pid_parse(body, len, &e, &pid, &epoch) : -ECONNRESET;

	kn->pid_pending = false;
	if (rc == 0 && e == KE_NONE && pid >= 0) {
		kn->pid = pid;
		kn->epoch = epoch;
		kn->st.pid_inits++;
		pid_store(kn);
		log_info("kafka output %s: producer id %" PRId64 " epoch %d", kn->id, pid, epoch);
	} else {
		char eb[32];

		snprintf(reason, sizeof(reason), "InitProducerId: %s",
			 why      ? why
			 : rc < 0 ? err_str(rc)
				  : kp_err_name(e, eb, sizeof(eb)));
		log_write_rl(&kn->rl, 5000, LOG_LVL_WARN, "kafka output %s: %s", kn->id, reason);
		/* the waiting flushes back to the pipeline, which backs off:
		 * asking again at once could go on at the speed of the network */
		fail_waiting(kn, "producer_id", reason);
		return;
	}
	redispatch(kn);
}

/* The producer id the broker no longer takes: a new one for every flush
 * after this one (others refused for the same id find it dropped already). */
static void pid_reset(struct knative *kn, const struct flush *f, const char *code)
{
	int64_t sent = (int64_t)get_be64(f->body.data + f->batches[0].off + BATCH_OFF_PRODUCER_ID);

	if (sent != kn->pid || kn->pid < 0)
		return;
	log_warn("kafka output %s: %s for producer id %" PRId64 "; asking for a new one", kn->id,
		 code, kn->pid);
	kn->pid = -1;
	kn->st.pid_resets++;
}

static bool is_permanent(int16_t e)
{
	switch (e) {
	case KE_CORRUPT_MESSAGE:
	case KE_INVALID_RECORD:
	case KE_TOPIC_AUTHORIZATION_FAILED:
	case KE_CLUSTER_AUTHORIZATION_FAILED:
	case KE_INVALID_TOPIC:
	case KE_INVALID_TIMESTAMP:
	case KE_UNSUPPORTED_FOR_MESSAGE_FORMAT:
	case KE_INVALID_REQUIRED_ACKS:
	case KE_MESSAGE_TOO_LARGE:
	case KE_RECORD_LIST_TOO_LARGE:
		return true;
	default:
		return false;
	}
}

static void delivered(struct knative *kn, struct flush *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kn->ok->delivered += (uint64_t)f->batches[i].records;
	kn->st.batches += n;
	kn->resets_in_row = 0;
	output_flush_done(kn->ok->output, f, FLUSH_OK, n, NULL, NULL, 0);
}

static void produce_answer(struct knative *kn, struct kn_conn *c, struct kn_req *r,
			   const uint8_t *body, size_t len, const char *why)
{
	struct flush *f = r->f;
	struct output *o = kn->ok->output;
	int16_t e = 0;
	int64_t off = 0;
	char eb[32];
	const char *code;

	if (!f)
		return; /* cancelled */
	f->plugin_data = NULL;
	if (!body || kp_produce_parse(body, len, r->topic, f->partition, &e, &off) < 0) {
		kn->meta_stale = true;
		kn->st.retries++;
		output_flush_done(o, f, FLUSH_RETRY, 0, "connection", why ? why : "bad answer", 0);
		if (body)
			kn_conn_fail(c, "malformed Produce answer");
		return;
	}
	if (e == KE_NONE || e == KE_DUPLICATE_SEQUENCE) {
		kn->st.duplicates += e == KE_DUPLICATE_SEQUENCE;
		delivered(kn, f, r->nsent);
		return;
	}
	code = kp_err_name(e, eb, sizeof(eb));
	if (e == KE_OUT_OF_ORDER_SEQUENCE && r->nsent == 1 && f->batches[0].resent) {
		kn->st.duplicates++; /* older than the broker's window: see the file comment */
		delivered(kn, f, 1);
		return;
	}
	kn->st.retries++;
	if (e == KE_OUT_OF_ORDER_SEQUENCE || e == KE_UNKNOWN_PRODUCER_ID ||
	    e == KE_INVALID_PRODUCER_EPOCH || e == KE_PRODUCER_FENCED) {
		pid_reset(kn, f, code);
		output_flush_done(o, f, FLUSH_RETRY, 0, code, "producer state lost",
				  kn->resets_in_row++ == 0 ? 1 : 0);
		return;
	}
	if (is_permanent(e)) {
		kn->st.refused++;
		if (r->nsent > 1) {
			/* isolate the batch: the next flush carries it alone */
			f->next_max_batches = 1;
			if (e == KE_MESSAGE_TOO_LARGE || e == KE_RECORD_LIST_TOO_LARGE)
				output_limit_request(o, f->body.len / 2);
			output_flush_done(o, f, FLUSH_RETRY, 0, code, "refused", 1);
			return;
		}
		output_flush_done(o, f, FLUSH_ERROR, 0, code, "refused by the broker", 0);
		return;
	}
	/* NOT_LEADER, UNKNOWN_TOPIC_OR_PARTITION, timeouts, NOT_ENOUGH_REPLICAS... */
	kn->meta_stale = true;
	output_flush_done(o, f, FLUSH_RETRY, 0, code, "retriable", 0);
}

static void versions_answer(struct knative *kn, struct kn_conn *c, const uint8_t *body, size_t len)
{
	struct kp_api_range pr, mr, ir;
	int16_t e = 0;

	(void)kn;
	if (!body)
		return;
	if (kp_api_versions_parse(body, len, &e, &pr, &mr, &ir) < 0 || e != KE_NONE) {
		kn_conn_fail(c, "bad ApiVersions answer");
		return;
	}
	if (pr.min > KP_PRODUCE_VERSION || pr.max < KP_PRODUCE_VERSION ||
	    mr.min > KP_METADATA_VERSION || mr.max < KP_METADATA_VERSION ||
	    ir.min > KP_INIT_PRODUCER_ID_VERSION || ir.max < KP_INIT_PRODUCER_ID_VERSION)
		kn_conn_fail(c, "the broker speaks neither Produce v7, Metadata v4 nor "
				"InitProducerId v1 (use client: librdkafka)");
}

void knative_answer(struct knative *kn, struct kn_conn *c, struct kn_req *r, const uint8_t *body,
		    size_t len, const char *why)
{
	switch (r->api) {
	case KP_PRODUCE:
		produce_answer(kn, c, r, body, len, why);
		break;
	case KP_METADATA:
		metadata_answer(kn, body, len, why);
		break;
	case KP_INIT_PRODUCER_ID:
		pid_answer(kn, body, len, why);
		break;
	case KP_SASL_HANDSHAKE:
	case KP_SASL_AUTHENTICATE:
		kn_sasl_answer(c, r->api, body, len);
		break;
	default:
		versions_answer(kn, c, body, len);
		break;
	}
}

/* ------------------------------------------------------------ life */

static void on_tick(struct evloop_timer *t)
{
	struct knative *kn = t->data;
	uint64_t now = evloop_now(kn->loop);
	struct kn_conn *c = kn->conns;

	/* partitions added or leaders moved without an error answer */
	if (now - kn->meta_refreshed_ms > META_REFRESH_MS)
		kn->meta_stale = true;
	while (c) {
		struct kn_conn *next = c->next;

		if (c->connecting && now - c->started_ms > 10000)
			kn_conn_fail(c, "connect timed out");
		else if (c->head && now - c->head->sent_ms > (uint64_t)kn->timeout_ms + 10000)
			kn_conn_fail(c, "no answer in time");
		c = next;
	}
}

/* Blocking, bounded, at start only: one Metadata round trip. */
static int fetch_blocking(struct knative *kn, const char *addr, struct buf *req, struct buf *resp)
{
	struct addrinfo hints, *ai = NULL;
	struct timeval tv = {.tv_sec = START_TIMEOUT_MS / 1000};
	char host[KP_NAME_MAX], port[16];
	int32_t p;
	int fd = -1, rc;
	size_t got = 0, want = 4;

	(void)kn;
	if (kn_split_hostport(addr, host, sizeof(host), &p) < 0)
		return -ERR_INVALID;
	snprintf(port, sizeof(port), "%d", p);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -EHOSTUNREACH;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	rc = fd < 0 ? -errno : 0;
	if (rc == 0) {
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
			rc = -errno;
	}
	freeaddrinfo(ai);
	if (rc == 0)
		rc = fs_write_full(fd, req->data, req->len);
	while (rc == 0 && got < want) {
		ssize_t n;

		if (buf_reserve(resp, want - got) < 0) {
			rc = -ERR_TOO_LARGE;
			break;
		}
		n = recv(fd, resp->data + got, want - got, 0);
		if (n <= 0) {
			rc = n < 0 ? -errno : -ECONNRESET;
			break;
		}
		got += (size_t)n;
		resp->len = got;
		if (got == 4 && want == 4)
			want = 4 + get_be32(resp->data);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

int knative_start(struct knative *kn, const char *const *topics, size_t ntopics)
{
	struct buf req, resp;
	int rc = -ECONNREFUSED;

	evloop_timer_start(kn->loop, &kn->tick, 1000, 1000, on_tick, kn);
	kn->meta_refreshed_ms = evloop_now(kn->loop);
	for (size_t i = 0; i < ntopics; i++)
		if (!topic_get(kn, topics[i]))
			return -ENOMEM;
	if (kn->ssl_ctx || kn->sasl_user) {
		/* no blocking handshake at start: the counts come with the first
		 * answer (sources opened before it stay in partition 0) */
		if (ntopics && request(kn, KP_METADATA) == 0) {
			kn->meta_pending = true;
			kn->st.metadata++;
		}
		return 0;
	}
	buf_init(&req, 1 << 20);
	buf_init(&resp, 16 << 20);
	if (ntopics == 0 || kp_metadata_req(&req, 1, topics, ntopics) < 0)
		goto out;
	for (size_t i = 0; i < kn->nbootstrap && rc < 0; i++) {
		struct kp_metadata md;

		memset(&md, 0, sizeof(md));
		buf_reset(&resp);
		rc = fetch_blocking(kn, kn->bootstrap[i], &req, &resp);
		if (rc == 0)
			rc = kp_metadata_parse(resp.data + 4, resp.len - 4, &md);
		if (rc == 0)
			apply_metadata(kn, &md);
		kp_metadata_release(&md);
	}
	for (size_t i = 0; i < kn->ntopics; i++)
		log_info("kafka output %s: topic %s: %d partitions%s", kn->id, kn->topics[i].name,
			 kn->topics[i].nparts, rc < 0 ? " (cluster unreachable at start)" : "");
out:
	buf_release(&req);
	buf_release(&resp);
	return 0;
}

struct knative *knative_new(struct out_kafka *ok, struct evloop *loop, const char *id,
			    const char *state_dir, char *const *brokers, size_t nbrokers,
			    int32_t timeout_ms)
{
	struct knative *kn = mem_calloc(1, sizeof(*kn));

	if (!kn)
		return NULL;
	kn->reap = mem_calloc(1, sizeof(*kn->reap));
	if (!kn->reap) {
		mem_free(kn);
		return NULL;
	}
	kn->ok = ok;
	kn->loop = loop;
	kn->id = id;
	kn->state_dir = state_dir;
	kn->timeout_ms = timeout_ms;
	kn->pid = -1;
	/* each entry may itself be host:port[,host:port...] */
	for (size_t i = 0; i < nbrokers; i++) {
		const char *p = brokers[i];

		while (*p) {
			size_t len = strcspn(p, ", ");
			char **v;

			if (len && len < KP_NAME_MAX) {
				v = mem_realloc(kn->bootstrap, (kn->nbootstrap + 1) * sizeof(*v));
				if (!v) {
					knative_free(kn);
					return NULL;
				}
				kn->bootstrap = v;
				v[kn->nbootstrap] = mem_calloc(1, len + 1);
				if (!v[kn->nbootstrap]) {
					knative_free(kn);
					return NULL;
				}
				memcpy(v[kn->nbootstrap++], p, len);
			}
			p += len;
			p += strspn(p, ", ");
		}
	}
	pid_load(kn);
	topics_load(kn);
	return kn;
}

void knative_free(struct knative *kn)
{
	if (!kn)
		return;
	evloop_timer_stop(&kn->tick);
	while (kn->conns) {
		struct kn_conn *c = kn->conns;

		kn->conns = c->next;
		kn_conn_free(c);
	}
	while (kn->dead) {
		struct kn_conn *c = kn->dead;

		kn->dead = c->next;
		kn_conn_free(c);
	}
	for (size_t i = 0; i < kn->ntopics; i++) {
		mem_free(kn->topics[i].name);
		mem_free(kn->topics[i].leaders);
	}
	mem_free(kn->topics);
	for (size_t i = 0; i < kn->nbootstrap; i++)
		mem_free(kn->bootstrap[i]);
	mem_free(kn->bootstrap);
	mem_free(kn->brokers);
	mem_free(kn->waiting);
	kn_sec_release(kn);
	if (kn->reap->queued)
		kn->reap->data = NULL;
	else
		mem_free(kn->reap);
	mem_free(kn);
}

size_t knative_metrics(struct knative *kn, struct plugin_metric *m, size_t max)
{
	const struct plugin_metric v[] = {
		{"sluice_agent_kafka_native_requests_total", "counter",
		 "Requests the native producer sent (Produce, Metadata, ...).", kn->st.requests,
		 NULL, NULL},
		{"sluice_agent_kafka_native_batches_total", "counter",
		 "Spooled batches the cluster acknowledged (native producer).", kn->st.batches,
		 NULL, NULL},
		{"sluice_agent_kafka_native_duplicates_total", "counter",
		 "Re-sent batches the cluster already had (counted delivered).", kn->st.duplicates,
		 NULL, NULL},
		{"sluice_agent_kafka_native_retries_total", "counter",
		 "Produce requests answered with a retriable error or lost with their connection.",
		 kn->st.retries, NULL, NULL},
		{"sluice_agent_kafka_native_refused_total", "counter",
		 "Produce requests refused for good (batch quarantined or isolated).",
		 kn->st.refused, NULL, NULL},
		{"sluice_agent_kafka_native_metadata_requests_total", "counter",
		 "Metadata refreshes (start, leader changes, lost connections).", kn->st.metadata,
		 NULL, NULL},
		{"sluice_agent_kafka_native_connection_errors_total", "counter",
		 "Broker connections lost or refused.", kn->st.conn_errors, NULL, NULL},
		{"sluice_agent_kafka_native_auth_failures_total", "counter",
		 "SASL authentications the brokers refused.", kn->auth_failures, NULL, NULL},
		{"sluice_agent_kafka_native_producer_resets_total", "counter",
		 "New producer ids taken after the cluster lost the producer's state.",
		 kn->st.pid_resets, NULL, NULL},
	};
	return plugin_metrics_copy(m, max, v, sizeof(v) / sizeof(v[0]));
}
