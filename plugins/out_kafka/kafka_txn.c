/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transactions of the kafka output (exactly_once): see kafka_txn.h for the
 * protocol.  Only this file calls librdkafka's transactional API.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "plugins/out_kafka/kafka_txn.h"

#define TXN_TIMEOUT_MS 15000

/* Producer-only properties left out of the read-back consumer's copy (a
 * consumer warns about each). */
static const char *producer_only[] = {
	"acks",
	"enable.idempotence",
	"message.timeout",
	"partitioner",
	"linger.ms",
	"queue.buffering",
	"compression.",
	"transaction",
	"dr_msg_cb",
	"client.id",
	"batch.",
	"sticky.",
	"retries",
	"retry.",
	"request.required",
	"queuing.strategy",
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int kafka_txn_configure(struct kafka_txn *t, rd_kafka_conf_t *kc, const char *id, const char *topic,
			char *why, size_t whylen)
{
	static const struct {
		const char *k;
		const char *v;
	} props[] = {
		/* a message may not outlive its transaction */
		{"transaction.timeout.ms", "60000"},
		{"message.timeout.ms", "50000"},
	};
	char e[256];

	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(t->group, sizeof(t->group), "sluice-agent.%s", id);
	snprintf(t->topic, sizeof(t->topic), "%s", topic);
	if (rd_kafka_conf_set(kc, "transactional.id", t->id, e, sizeof(e)) != RD_KAFKA_CONF_OK)
		goto bad;
	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
		if (rd_kafka_conf_set(kc, props[i].k, props[i].v, e, sizeof(e)) != RD_KAFKA_CONF_OK)
			goto bad;
	if (!t->cconf) {
		size_t nf = sizeof(producer_only) / sizeof(producer_only[0]);

		t->cconf = rd_kafka_conf_dup_filter(kc, nf, producer_only);
		if (!t->cconf || rd_kafka_conf_set(t->cconf, "group.id", t->group, e, sizeof(e)) ||
		    rd_kafka_conf_set(t->cconf, "enable.auto.commit", "false", e, sizeof(e)) ||
		    rd_kafka_conf_set(t->cconf, "isolation.level", "read_committed", e, sizeof(e)))
			goto bad;
	}
	return 0;
bad:
	snprintf(why, whylen, "exactly_once: %s", t->cconf ? e : "out of memory");
	return -ERR_INVALID;
}

int kafka_txn_instance(struct kafka_txn *t, const char *dir, const char *who)
{
	char path[4096];
	struct buf b;
	uint8_t r[8];
	int rc;

	buf_init(&b, 64);
	snprintf(path, sizeof(path), "%s/%s", dir, EO_INSTANCE_FILE);
	rc = fs_read_file(path, &b);
	if (rc == 0 && b.len >= 16 && b.len < sizeof(t->instance)) {
		memcpy(t->instance, b.data, b.len);
		t->instance[strcspn(t->instance, "\n")] = '\0';
		buf_release(&b);
		return 0;
	}
	buf_release(&b);
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -errno;
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(t->instance + 2 * i, 3, "%02x", r[i]);
	rc = fs_write_atomic(dir, EO_INSTANCE_FILE, t->instance, strlen(t->instance));
	if (rc < 0)
		log_error("output %s: exactly_once: cannot store %s/%s: %s", who, dir,
			  EO_INSTANCE_FILE, err_str(rc));
	return rc;
}

/* Positions from the carrier's metadata: "sluice-eo <instance>\n" then
 * marks lines; another instance's are not ours. */
static void txn_parse(struct kafka_txn *t, const char *md, size_t len, const char *who)
{
	char head[64];
	size_t n = (size_t)snprintf(head, sizeof(head), "sluice-eo %s\n", t->instance);

	if (len < n || memcmp(md, head, n) != 0) {
		log_warn("output %s: exactly_once: group %s holds positions of another spool "
			 "(data directory replaced?): not used",
			 who, t->group);
		return;
	}
	if (marks_parse(&t->committed, md + n, len - n) > 0)
		log_warn("output %s: exactly_once: malformed positions in group %s", who, t->group);
}

void kafka_txn_reset(struct kafka_txn *t)
{
	t->inited = false;
	t->loaded = false;
	t->open = false;
}

/* A transactional call's error: logged, freed; the caller's next step. */
static int txn_error(rd_kafka_error_t *err, const char *what, const char *who)
{
	int rc = -EAGAIN;

	if (rd_kafka_error_is_fatal(err))
		rc = -EPIPE;
	log_warn("output %s: %s: %s%s", who, what, rd_kafka_error_string(err),
		 rc == -EPIPE ? " (fatal: a new producer takes over)" : "");
	rd_kafka_error_destroy(err);
	return rc;
}

/* The positions committed by the last transaction of this id, read with a
 * consumer of the synthetic group. */
static int txn_load(struct kafka_txn *t, const char *who)
{
	rd_kafka_conf_t *cc = rd_kafka_conf_dup_filter(t->cconf, 0, NULL);
	rd_kafka_topic_partition_list_t *l = NULL;
	rd_kafka_resp_err_t e;
	rd_kafka_t *rk;
	char es[256];
	int rc = -EAGAIN;

	if (!cc)
		return -EAGAIN;
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, cc, es, sizeof(es));
	if (!rk) {
		rd_kafka_conf_destroy(cc);
		log_warn("output %s: exactly_once: read-back consumer: %s", who, es);
		return -EAGAIN;
	}
	l = rd_kafka_topic_partition_list_new(1);
	if (!l)
		goto out;
	rd_kafka_topic_partition_list_add(l, t->topic, 0);
	e = rd_kafka_committed(rk, l, TXN_TIMEOUT_MS);
	if (!e)
		e = l->elems[0].err;
	if (e && e != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
		log_warn("output %s: exactly_once: reading the committed spool positions: %s", who,
			 rd_kafka_err2str(e));
		goto out;
	}
	marks_release(&t->committed);
	if (!e && l->elems[0].metadata_size > 0)
		txn_parse(t, l->elems[0].metadata, l->elems[0].metadata_size, who);
	for (size_t i = 0; i < t->committed.n; i++)
		log_info("output %s: exactly_once: %s/%d committed up to entry %" PRIu64, who,
			 t->committed.v[i].topic, t->committed.v[i].partition,
			 t->committed.v[i].last);
	rc = 0;
out:
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_destroy(rk);
	return rc;
}

int kafka_txn_ready(struct kafka_txn *t, rd_kafka_t *rk, const char *who)
{
	rd_kafka_error_t *err;

	if (!t->inited) {
		/* fences the previous producer of this id, aborts its transaction */
		err = rd_kafka_init_transactions(rk, TXN_TIMEOUT_MS);
		if (err)
			return txn_error(err, "init_transactions", who);
		t->inited = true;
		t->inits++;
	}
	if (!t->loaded) {
		if (txn_load(t, who) < 0)
			return -EAGAIN;
		t->loaded = true;
	}
	return 0;
}

uint64_t kafka_txn_position(struct kafka_txn *t, const char *topic, int32_t partition)
{
	const struct mark *m = marks_find(&t->committed, topic, partition, false);

	return m ? m->last : 0;
}

int kafka_txn_begin(struct kafka_txn *t, rd_kafka_t *rk, const char *who)
{
	rd_kafka_error_t *err;

	if (t->open)
		return 0;
	err = rd_kafka_begin_transaction(rk);
	if (err)
		return txn_error(err, "begin_transaction", who);
	t->open = true;
	return 0;
}

int kafka_txn_abort(struct kafka_txn *t, rd_kafka_t *rk, const char *who)
{
	rd_kafka_error_t *err;

	if (!t->open)
		return 0;
	t->open = false;
	t->aborts++;
	err = rd_kafka_abort_transaction(rk, TXN_TIMEOUT_MS);
	if (err) {
		txn_error(err, "abort_transaction", who);
		return -EPIPE;
	}
	return 0;
}

/* The carrier offset: every position, the one of this flush raised. */
static rd_kafka_topic_partition_list_t *txn_offsets(struct kafka_txn *t, const char *topic,
						    int32_t partition, uint64_t last, uint64_t *old)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_topic_partition_t *p;
	struct mark *m = marks_find(&t->committed, topic, partition, true);
	struct buf b;

	if (!m)
		return NULL;
	/* Kafka's offset.metadata.max.bytes defaults to 4096 */
	buf_init(&b, 4096);
	*old = m->last;
	m->last = last;
	if (buf_printf(&b, "sluice-eo %s\n", t->instance) < 0 ||
	    marks_format(&t->committed, &b) < 0) {
		m->last = *old;
		buf_release(&b);
		return NULL;
	}
	l = rd_kafka_topic_partition_list_new(1);
	p = l ? rd_kafka_topic_partition_list_add(l, t->topic, 0) : NULL;
	if (p) {
		/* librdkafka frees the metadata with free() */
		p->metadata = malloc(b.len ? b.len : 1);
		if (p->metadata) {
			memcpy(p->metadata, b.data, b.len);
			p->metadata_size = b.len;
		}
		p->offset = (int64_t)(last & INT64_MAX);
	}
	buf_release(&b);
	if (!p || !p->metadata) {
		rd_kafka_topic_partition_list_destroy(l);
		return NULL;
	}
	return l;
}

int kafka_txn_commit(struct kafka_txn *t, rd_kafka_t *rk, const char *topic, int32_t partition,
		     uint64_t last, const char *who)
{
	rd_kafka_consumer_group_metadata_t *g = rd_kafka_consumer_group_metadata_new(t->group);
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_error_t *err = NULL;
	uint64_t old = 0, t0 = now_ms();
	const char *what = "send_offsets_to_transaction";

	l = g ? txn_offsets(t, topic, partition, last, &old) : NULL;
	if (!l) {
		log_warn("output %s: exactly_once: the spool positions do not fit the offset "
			 "metadata (4096 bytes) or memory ran out",
			 who);
		rd_kafka_consumer_group_metadata_destroy(g);
		kafka_txn_abort(t, rk, who);
		return -EAGAIN;
	}
	err = rd_kafka_send_offsets_to_transaction(rk, l, g, TXN_TIMEOUT_MS);
	if (!err) {
		what = "commit_transaction";
		err = rd_kafka_commit_transaction(rk, TXN_TIMEOUT_MS);
	}
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_consumer_group_metadata_destroy(g);
	t->commit_ms += now_ms() - t0;
	if (!err) {
		t->open = false;
		t->commits++;
		return 0;
	}
	/* not committed, or not known to be: the position stays where it was
	 * (the read-back after a new producer corrects it either way) */
	marks_find(&t->committed, topic, partition, true)->last = old;
	if (rd_kafka_error_txn_requires_abort(err)) {
		txn_error(err, what, who);
		return kafka_txn_abort(t, rk, who) < 0 ? -EPIPE : -EAGAIN;
	}
	txn_error(err, what, who);
	t->open = false;
	return -EPIPE;
}

void kafka_txn_release(struct kafka_txn *t)
{
	if (t->cconf)
		rd_kafka_conf_destroy(t->cconf);
	t->cconf = NULL;
	marks_release(&t->committed);
}
