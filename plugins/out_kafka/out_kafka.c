/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output `kafka`: produces the records of spooled batches to an Apache
 * Kafka, Redpanda or sluice-store cluster with librdkafka (one producer per
 * output instance).  The producer is idempotent (enable.idempotence), acks
 * all, compresses with zstd, and never gives up on a message by itself
 * (message.timeout.ms 0): librdkafka retries against the brokers, and the
 * brokers drop the duplicates its retries cause.
 *
 * The spool drives delivery: a flush is the spooled batches of one
 * (topic, partition); every record of every batch is handed to
 * rd_kafka_producev() (key, value, headers and timestamp as spooled; the
 * partition is chosen by librdkafka's murmur2 partitioner, as Java clients
 * choose it), and the flush is reported done only when a delivery report
 * came for each record: FLUSH_OK when all succeeded, FLUSH_ERROR for a
 * batch the cluster refused for good (too large, invalid, corrupt) and
 * FLUSH_RETRY otherwise, with the leading fully-delivered batches counted as
 * delivered.  Delivery reports are served on the agent's event loop: the
 * main queue signals a pipe (rd_kafka_queue_io_event_enable) that the loop
 * watches, so nothing blocks and nothing polls in a busy loop.
 *
 * What can duplicate: a batch re-produced after a FLUSH_RETRY, or after a
 * crash of the agent between the cluster's acknowledgement and the agent
 * taking note of it, is a new message to the cluster (a new producer
 * session), so records delivered before are delivered again.  The spool
 * persists its acknowledged watermark at most once a second, so the output
 * keeps its own note: as delivery reports come it records, per
 * (topic, partition), the last spool entry whose records (and every earlier
 * entry's) were all delivered (agent/spool/marks.h; file
 * `delivered` in its state directory, replaced atomically,
 * not fsynced: it is for crashes of the agent, which leave the page cache
 * alone), and after a restart re-sent entries up to that mark are
 * acknowledged without producing them again.  What remains is the batch in
 * flight at the crash: its records acknowledged by the broker whose
 * delivery reports were served, and those whose reports were not yet.  A broker restart, a lost connection or a slow broker do not
 * duplicate: those are librdkafka's own retries, de-duplicated by the
 * idempotent producer (docs/AGENT.md, "Kafka output").
 *
 * With exactly_once the producer is transactional instead and each flush is
 * one transaction that also commits the spool position (kafka_txn.h):
 * flushes run one at a time (others wait in eo_queue), the delivered marks
 * are not used, and a restart resumes after the last committed flush.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "agent/spool/marks.h"
#include "agent/plugin.h"
#include "plugins/out_kafka/out_kafka.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

static const char *const security_protocols[] = {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl",
						 NULL};
static const char *const sasl_mechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", NULL};
static const char *const clients[] = {"auto", "native", "librdkafka", NULL};

static int check_topic_template(const char *v, char *why, size_t whylen)
{
	for (const char *p = strstr(v, "${"); p; p = strstr(p + 2, "${")) {
		if (strncmp(p, "${input}", 8) && strncmp(p, "${host}", 7) &&
		    strncmp(p, "${topic}", 8)) {
			snprintf(why, whylen,
				 "unknown variable in topic template (known: ${input}, "
				 "${host}, ${topic})");
			return -1;
		}
	}
	return 0;
}

#define KOPT(n, f, h)                                                                        \
	{                                                                                    \
		.name = n, .type = CFG_STRING, .offset = offsetof(struct out_kafka_conf, f), \
		.help = h                                                                    \
	}

/* clang-format off */
static const struct cfg_option out_kafka_opts[] = {
	{.name = "brokers", .type = CFG_LIST, .offset = offsetof(struct out_kafka_conf, brokers),
	 .flags = CFG_REQUIRED,
	 .help = "bootstrap brokers: a list of host:port, or one host:port[,host:port...]"},
	{.name = "topic", .type = CFG_STRING, .offset = offsetof(struct out_kafka_conf, topic),
	 .check = check_topic_template,
	 .help = "destination topic; may use ${input}, ${host}, ${topic} (default: the input's "
		 "topic)"},
	{.name = "security_protocol", .type = CFG_ENUM,
	 .offset = offsetof(struct out_kafka_conf, security_protocol), .def = "plaintext",
	 .choices = security_protocols, .help = "security.protocol"},
	{.name = "sasl_mechanism", .type = CFG_ENUM,
	 .offset = offsetof(struct out_kafka_conf, sasl_mechanism), .def = "PLAIN",
	 .choices = sasl_mechanisms, .help = "sasl.mechanism (with sasl_* security protocols)"},
	KOPT("sasl_username", sasl_username, "sasl.username"),
	KOPT("sasl_password", sasl_password, "sasl.password (use ${ENV} to keep it out of the file)"),
	KOPT("ssl_ca_location", ssl_ca_location, "ssl.ca.location: CA bundle"),
	KOPT("ssl_certificate_location", ssl_certificate_location,
	     "ssl.certificate.location: client certificate"),
	KOPT("ssl_key_location", ssl_key_location, "ssl.key.location: client key"),
	KOPT("ssl_key_password", ssl_key_password, "ssl.key.password"),
	{.name = "exactly_once", .type = CFG_BOOL,
	 .offset = offsetof(struct out_kafka_conf, exactly_once),
	 .help = "transactional producer: each flush and its spool position in one "
		 "transaction; read_committed consumers see each event once (static topic only)"},
	KOPT("transactional_id", transactional_id,
	     "exactly_once: transactional.id (default sluice.<agent name>.<output id>); "
	     "must stay the same across restarts and be unique per agent"),
	{.name = "client", .type = CFG_ENUM, .offset = offsetof(struct out_kafka_conf, client),
	 .def = "auto", .choices = clients,
	 .help = "native: send the spooled batches as they are (plaintext, no exactly_once, no "
		 "librdkafka properties, a topic without ${input}/${host}); librdkafka; auto: "
		 "native when it can serve the configuration"},
	{.name = "request_timeout", .type = CFG_DURATION,
	 .offset = offsetof(struct out_kafka_conf, request_timeout), .def = "30s", .min = 100,
	 .max = 600000, .help = "native client: the brokers' Produce timeout (acks=all)"},
	{.name = "librdkafka", .type = CFG_MAP, .offset = offsetof(struct out_kafka_conf, librdkafka),
	 .help = "any other librdkafka producer property (CONFIGURATION.md), applied last"},
	CFG_OPT_END,
};
/* clang-format on */

/* ------------------------------------------------------------ state: out_kafka.h */

/* ------------------------------------------------------------ helpers */

static int set_prop(rd_kafka_conf_t *c, const char *k, const char *v, struct cfg_error *err,
		    const char *id)
{
	char e[256];

	if (!v || !*v)
		return 0;
	if (rd_kafka_conf_set(c, k, v, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
		snprintf(err->msg, sizeof(err->msg),
			 "output %.64s: librdkafka property %.100s: %.300s", id, k, e);
		return -ERR_INVALID;
	}
	return 0;
}

bool out_kafka_is_permanent(rd_kafka_resp_err_t e)
{
	switch (e) {
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_INVALID_MSG:
	case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
	case RD_KAFKA_RESP_ERR_INVALID_RECORD:
	case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
	case RD_KAFKA_RESP_ERR__INVALID_ARG:
		return true;
	default:
		return false;
	}
}

/* Expand the topic template for one record (headers give input and host). */
/* One record to librdkafka, copied (RD_KAFKA_MSG_F_COPY); the headers are
 * librdkafka's on success.  rd_kafka_produceva(), the array form, rather than
 * the variadic rd_kafka_producev(): the agent loads librdkafka on first use
 * (agent/dl/) and a forwarding function cannot pass a variadic list on. */
static rd_kafka_resp_err_t produce(rd_kafka_t *rk, const char *topic, const struct record *r,
				   rd_kafka_headers_t *hdrs, void *opaque)
{
	rd_kafka_vu_t vu[7];
	rd_kafka_error_t *err;
	rd_kafka_resp_err_t e;

	memset(vu, 0, sizeof(vu));
	vu[0].vtype = RD_KAFKA_VTYPE_TOPIC;
	vu[0].u.cstr = topic;
	vu[1].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
	vu[1].u.i = RD_KAFKA_MSG_F_COPY;
	vu[2].vtype = RD_KAFKA_VTYPE_KEY;
	vu[2].u.mem.ptr = (void *)r->key;
	vu[2].u.mem.size = r->key_len < 0 ? 0 : (size_t)r->key_len;
	vu[3].vtype = RD_KAFKA_VTYPE_VALUE;
	vu[3].u.mem.ptr = (void *)r->value;
	vu[3].u.mem.size = r->value_len < 0 ? 0 : (size_t)r->value_len;
	vu[4].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
	vu[4].u.i64 = r->timestamp;
	vu[5].vtype = RD_KAFKA_VTYPE_HEADERS;
	vu[5].u.headers = hdrs;
	vu[6].vtype = RD_KAFKA_VTYPE_OPAQUE;
	vu[6].u.ptr = opaque;
	err = rd_kafka_produceva(rk, vu, 7);
	if (!err)
		return RD_KAFKA_RESP_ERR_NO_ERROR;
	e = rd_kafka_error_code(err);
	rd_kafka_error_destroy(err);
	return e;
}

const char *out_kafka_topic_for(struct out_kafka *ok, const struct flush *f, const struct record *r,
				char *out, size_t outlen)
{
	const char *t = ok->conf->topic;
	char input[256] = "", host[256] = "";
	size_t n = 0;

	if (!t || !*t)
		return f->topic;
	if (r && !ok->topic_static) {
		struct record_header_iter it;
		struct record_header h;

		record_header_iter_init(&it, r);
		while (record_header_iter_next(&it, &h) == 1) {
			char *dst = NULL;

			if (h.key_len == 5 && !memcmp(h.key, "input", 5))
				dst = input;
			else if (h.key_len == 4 && !memcmp(h.key, "host", 4))
				dst = host;
			if (dst && h.value_len > 0 && (size_t)h.value_len < sizeof(input)) {
				memcpy(dst, h.value, (size_t)h.value_len);
				dst[h.value_len] = '\0';
			}
		}
	}
	if (!*host)
		snprintf(host, sizeof(host), "%s", ok->host);
	while (*t && n + 1 < outlen) {
		const char *v = NULL;
		size_t skip = 0;

		if (!strncmp(t, "${input}", 8)) {
			v = input;
			skip = 8;
		} else if (!strncmp(t, "${host}", 7)) {
			v = host;
			skip = 7;
		} else if (!strncmp(t, "${topic}", 8)) {
			v = f->topic;
			skip = 8;
		}
		if (v) {
			/* Kafka topic names: [a-zA-Z0-9._-]; anything else becomes '_' */
			for (; *v && n + 1 < outlen; v++)
				out[n++] = (strchr("._-", *v) || (*v >= '0' && *v <= '9') ||
					    (*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z'))
						   ? *v
						   : '_';
			t += skip;
		} else {
			out[n++] = *t++;
		}
	}
	out[n] = '\0';
	return out;
}

/* ------------------------------------------------------------ completion */

void kflush_free(struct kflush *kf)
{
	mem_free(kf->b);
	mem_free(kf);
}

/* Entries of f's (topic, partition) up to last are delivered. */
static void mark_set(struct out_kafka *ok, const struct flush *f, uint64_t last)
{
	if (ok->state_dir && !ok->eo)
		marks_advance(&ok->marks, ok->state_dir, ok->id, f->topic, f->partition, last);
}

/* The mark moves as soon as the next batch of the flush is all handed over
 * and all delivered, not only when the whole flush is: a crash meanwhile
 * then repeats at most the batches still in flight. */
static void mark_progress(struct kflush *kf)
{
	size_t i = kf->marked;

	if (!kf->f)
		return;
	while (i < kf->next_batch && kf->b[i].failed == 0 && kf->b[i].ok == kf->b[i].total)
		i++;
	if (i == kf->marked)
		return;
	kf->marked = i;
	mark_set(kf->ok, kf->f, kf->f->batches[i - 1].entry_id);
}

/* Every record has its delivery report: tell the pipeline. */
void kflush_complete(struct kflush *kf)
{
	struct out_kafka *ok = kf->ok;
	struct flush *f = kf->f;
	size_t nacked = 0;
	rd_kafka_resp_err_t e;
	char reason[256];

	if (ok->eo && kf == ok->eo_current) {
		/* may be inside rd_kafka_poll(): commit from the loop */
		if (!kf->eo_done.queued)
			evloop_defer(ok->loop, &kf->eo_done, out_kafka_eo_finish, kf);
		return;
	}
	if (!f) {
		kflush_free(kf);
		return;
	}
	while (nacked < kf->nb && kf->b[nacked].failed == 0)
		nacked++;
	if (nacked > 0)
		mark_set(ok, f, f->batches[nacked - 1].entry_id);
	if (nacked >= kf->nb) {
		kflush_free(kf);
		output_flush_done(ok->output, f, FLUSH_OK, nacked, NULL, NULL, 0);
		return;
	}
	e = kf->b[nacked].err;
	snprintf(reason, sizeof(reason), "%d of %d records refused: %s", kf->b[nacked].failed,
		 kf->b[nacked].total, rd_kafka_err2str(e));
	kflush_free(kf);
	if (out_kafka_is_permanent(e)) {
		output_flush_done(ok->output, f, FLUSH_ERROR, nacked, rd_kafka_err2name(e), reason,
				  0);
	} else {
		ok->flushes_retried++;
		output_flush_done(ok->output, f, FLUSH_RETRY, nacked, rd_kafka_err2name(e), reason,
				  0);
	}
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kbatch *kb = m->_private;
	struct kflush *kf;
	struct out_kafka *ok = opaque;

	(void)rk;
	if (!kb)
		return;
	kf = kb->kf;
	if (m->err) {
		ok->failed++;
		if (kb->failed++ == 0)
			kb->err = m->err;
		if (kf->f)
			log_debug("output %s: delivery failed: %s", ok->id,
				  rd_kafka_err2str(m->err));
	} else {
		ok->delivered++;
		kb->ok++;
		if (kb->ok == kb->total)
			mark_progress(kf);
	}
	kf->outstanding--;
	if (kf->outstanding == 0 && !kf->producing)
		kflush_complete(kf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct out_kafka *ok = opaque;
	char buf[512];

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, buf, sizeof(buf));
		log_error("output %s: fatal producer error: %s; a new producer takes over", ok->id,
			  buf);
		ok->fatal = true;
		ok->fatal_errors++;
		return;
	}
	/* transport errors (broker down) come often while the cluster is away */
	ok->broker_errors++;
	log_warn("output %s: %s", ok->id, reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *msg)
{
	struct out_kafka *ok = rd_kafka_opaque(rk);

	if (level <= 3)
		log_error("output %s: librdkafka %s: %s", ok ? ok->id : "kafka", fac, msg);
	else if (level <= 4)
		log_warn("output %s: librdkafka %s: %s", ok ? ok->id : "kafka", fac, msg);
	else
		log_debug("output %s: librdkafka %s: %s", ok ? ok->id : "kafka", fac, msg);
}

static void serve(struct out_kafka *ok)
{
	/* Bounded: a report may start new flushes that produce more. */
	for (int i = 0; i < 64 && rd_kafka_poll(ok->rk, 0) > 0; i++)
		;
}

static void on_pipe(struct evloop_io *io, uint32_t revents)
{
	struct out_kafka *ok = io->data;
	char b[64];

	(void)revents;
	while (read(ok->pipefd[0], b, sizeof(b)) > 0)
		;
	serve(ok);
}

static void on_poll_timer(struct evloop_timer *t)
{
	struct out_kafka *ok = t->data;

	serve(ok);
}

/* ------------------------------------------------------------ producing */

static void on_resume(struct evloop_timer *t);

/* Hand records of kf over from its position; stops at a full local queue.
 * Returns 0 (all handed over or waiting) or a negative code for a batch
 * that cannot be read (the spool verified it: only ENOMEM in practice). */
int kflush_produce(struct kflush *kf)
{
	struct out_kafka *ok = kf->ok;
	struct flush *f = kf->f;
	char tbuf[512];

	while (kf->next_batch < kf->nb) {
		const struct flush_batch *fb = &f->batches[kf->next_batch];
		struct kbatch *kb = &kf->b[kf->next_batch];
		struct batch_iter it;
		struct record r;
		int32_t idx = 0;
		int rc;

		rc = batch_iter_init(&it, f->body.data + fb->off, fb->len, ok->cc,
				     (size_t)256 << 20, false);
		if (rc < 0) {
			batch_iter_release(&it);
			return rc;
		}
		while ((rc = batch_iter_next(&it, &r)) == 1) {
			rd_kafka_headers_t *hdrs = NULL;
			rd_kafka_resp_err_t e;
			const char *topic;

			if (idx++ < kf->next_record)
				continue;
			{
				struct record_header_iter hi;
				struct record_header h;

				hdrs = rd_kafka_headers_new(
					r.header_count > 0 ? (size_t)r.header_count : 1);
				record_header_iter_init(&hi, &r);
				while (record_header_iter_next(&hi, &h) == 1)
					rd_kafka_header_add(hdrs, (const char *)h.key, h.key_len,
							    h.value,
							    h.value_len < 0 ? 0 : h.value_len);
			}
			topic = out_kafka_topic_for(ok, f, &r, tbuf, sizeof(tbuf));
			e = produce(ok->rk, topic, &r, hdrs, kb);
			if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
				rd_kafka_headers_destroy(hdrs);
				ok->queue_full++;
				batch_iter_release(&it);
				kf->next_waiting = ok->waiting;
				ok->waiting = kf;
				if (!ok->resume_timer.active)
					evloop_timer_start(ok->loop, &ok->resume_timer, 5, 0,
							   on_resume, ok);
				return 0;
			}
			if (e) {
				/* refused before sending (too large, bad topic): a report
				 * of our own */
				rd_kafka_headers_destroy(hdrs);
				ok->failed++;
				if (kb->failed++ == 0)
					kb->err = e;
			} else {
				ok->produced++;
				kf->outstanding++;
			}
			kb->total++;
			kf->next_record++;
		}
		batch_iter_release(&it);
		if (rc < 0)
			return rc;
		kf->next_batch++;
		kf->next_record = 0;
	}
	kf->producing = false;
	return 0;
}

static void on_resume(struct evloop_timer *t)
{
	struct out_kafka *ok = t->data;
	struct kflush *list = ok->waiting;

	ok->waiting = NULL;
	serve(ok);
	while (list) {
		struct kflush *kf = list;

		list = kf->next_waiting;
		kf->next_waiting = NULL;
		if (!kf->f) { /* cancelled while waiting */
			if (kf->outstanding == 0 && ok->eo && kf == ok->eo_current) {
				kf->producing = false;
				kflush_complete(kf); /* aborts the transaction */
			} else if (kf->outstanding == 0) {
				kflush_free(kf);
			} else
				kf->producing = false;
			continue;
		}
		if (kflush_produce(kf) < 0) {
			kf->producing = false;
			kf->b[kf->next_batch].failed++;
			kf->b[kf->next_batch].err = RD_KAFKA_RESP_ERR__BAD_MSG;
		}
		if (!kf->producing && kf->outstanding == 0)
			kflush_complete(kf);
	}
}

/* ------------------------------------------------------------ producer */

/* Build the configuration; then the handle (not when only checking: a
 * handle connects to the bootstrap brokers at once). */
static int producer_new(struct out_kafka *ok, struct cfg_error *err, bool check_only)
{
	const struct out_kafka_conf *c = ok->conf;
	rd_kafka_conf_t *kc;
	char e[512], level[16], brokers[4096];
	size_t bn = 0;
	int rc = 0;

	brokers[0] = '\0';
	for (size_t i = 0; i < c->brokers.n; i++) {
		int k = snprintf(brokers + bn, sizeof(brokers) - bn, "%s%s", i ? "," : "",
				 c->brokers.v[i]);

		if (k < 0 || (size_t)k >= sizeof(brokers) - bn) {
			snprintf(err->msg, sizeof(err->msg),
				 "output %s: brokers: longer than %zu bytes", ok->id,
				 sizeof(brokers) - 1);
			return -ERR_INVALID;
		}
		bn += (size_t)k;
	}
	/* librdkafka compresses again what it produces: at the output's
	 * compression_level (default 1, as the spool), not zstd's default 3,
	 * which cost 25% more CPU per GB here (bench/RESULTS.md) */
	snprintf(level, sizeof(level), "%d", ok->level);
	kc = rd_kafka_conf_new();

	rd_kafka_conf_set_opaque(kc, ok);
	rd_kafka_conf_set_dr_msg_cb(kc, on_delivery);
	rd_kafka_conf_set_error_cb(kc, on_error);
	rd_kafka_conf_set_log_cb(kc, on_log);
	if (set_prop(kc, "bootstrap.servers", brokers, err, ok->id) ||
	    set_prop(kc, "client.id", "sluice-agent", err, ok->id) ||
	    set_prop(kc, "enable.idempotence", "true", err, ok->id) ||
	    set_prop(kc, "acks", "all", err, ok->id) ||
	    set_prop(kc, "message.timeout.ms", "0", err, ok->id) ||
	    set_prop(kc, "partitioner", "murmur2_random", err, ok->id) ||
	    set_prop(kc, "linger.ms", "5", err, ok->id) ||
	    set_prop(kc, "queue.buffering.max.kbytes", "65536", err, ok->id) ||
	    set_prop(kc, "compression.type", "zstd", err, ok->id) ||
	    (ok->level != 0 && set_prop(kc, "compression.level", level, err, ok->id)) ||
	    set_prop(kc, "security.protocol", security_protocols[c->security_protocol], err,
		     ok->id) ||
	    (!strncmp(security_protocols[c->security_protocol], "sasl", 4) &&
	     set_prop(kc, "sasl.mechanism", sasl_mechanisms[c->sasl_mechanism], err, ok->id)) ||
	    set_prop(kc, "sasl.username", c->sasl_username, err, ok->id) ||
	    set_prop(kc, "sasl.password", c->sasl_password, err, ok->id) ||
	    set_prop(kc, "ssl.ca.location", c->ssl_ca_location, err, ok->id) ||
	    set_prop(kc, "ssl.certificate.location", c->ssl_certificate_location, err, ok->id) ||
	    set_prop(kc, "ssl.key.location", c->ssl_key_location, err, ok->id) ||
	    set_prop(kc, "ssl.key.password", c->ssl_key_password, err, ok->id)) {
		rd_kafka_conf_destroy(kc);
		return -ERR_INVALID;
	}
	if (ok->eo && out_kafka_eo_setup(ok, kc, err) < 0) {
		rd_kafka_conf_destroy(kc);
		return -ERR_INVALID;
	}
	for (size_t i = 0; i < c->librdkafka.n; i++) {
		if (set_prop(kc, c->librdkafka.keys[i], c->librdkafka.vals[i], err, ok->id)) {
			rd_kafka_conf_destroy(kc);
			return -ERR_INVALID;
		}
	}
	if (check_only) {
		rd_kafka_conf_destroy(kc);
		return 0;
	}
	ok->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, e, sizeof(e));
	if (!ok->rk) {
		rd_kafka_conf_destroy(kc);
		snprintf(err->msg, sizeof(err->msg),
			 "output %s: cannot create the producer: %.300s", ok->id, e);
		return -ERR_INVALID;
	}
	if (ok->pipefd[1] >= 0) {
		rd_kafka_queue_t *q = rd_kafka_queue_get_main(ok->rk);

		rd_kafka_queue_io_event_enable(q, ok->pipefd[1], "x", 1);
		rd_kafka_queue_destroy(q);
	}
	return rc;
}

int out_kafka_producer_new(struct out_kafka *ok, struct cfg_error *err)
{
	return producer_new(ok, err, false);
}

const char *out_kafka_security_protocol(const struct out_kafka_conf *c)
{
	return security_protocols[c->security_protocol];
}

static void producer_free(struct out_kafka *ok)
{
	if (!ok->rk)
		return;
	/* Whatever is still queued or in flight is abandoned: the spool still
	 * has it and sends it again (see the file comment). */
	rd_kafka_purge(ok->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_poll(ok->rk, 0);
	rd_kafka_flush(ok->rk, 1000);
	rd_kafka_destroy(ok->rk);
	ok->rk = NULL;
}

/* ------------------------------------------------------------ plugin */

static int out_kafka_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct out_kafka *ok = mem_calloc(1, sizeof(*ok));
	int rc;

	if (!ok)
		return -ENOMEM;
	*ctx = ok;
	ok->conf = a->conf;
	ok->output = a->output;
	ok->loop = a->loop;
	ok->pipefd[0] = ok->pipefd[1] = -1;
	ok->level = a->codec_level;
	snprintf(ok->id, sizeof(ok->id), "%s", a->id);
	snprintf(ok->host, sizeof(ok->host), "%s", a->host ? a->host : "");
	ok->eo = ok->conf->exactly_once;
	ok->topic_static = !ok->conf->topic || (!strstr(ok->conf->topic, "${input}") &&
						!strstr(ok->conf->topic, "${host}"));
	if (!a->check_only && pipe2(ok->pipefd, O_NONBLOCK | O_CLOEXEC) < 0) {
		snprintf(err->msg, sizeof(err->msg), "output %s: pipe: %s", a->id, err_str(-errno));
		return -errno;
	}
	rc = out_kafka_choose_client(ok, err);
	if (rc < 0)
		return rc;
	/* --check builds the producer configuration too: bad properties are
	 * configuration errors */
	/* the native client does not load librdkafka at all (its memory) */
	rc = ok->native ? 0 : producer_new(ok, err, a->check_only);
	if (rc < 0 || a->check_only)
		return rc;
	ok->cc = codec_ctx_new();
	if (!ok->cc)
		return -ENOMEM;
	if (a->state_dir) {
		ok->state_dir = mem_strdup(a->state_dir);
		if (!ok->state_dir)
			return -ENOMEM;
		marks_load(&ok->marks, ok->state_dir, ok->id);
		if (ok->eo) {
			rc = kafka_txn_instance(&ok->txn, ok->state_dir, ok->id);
			if (rc < 0) {
				snprintf(err->msg, sizeof(err->msg),
					 "output %s: exactly_once: "
					 "cannot keep the spool instance id: %s",
					 ok->id, err_str(rc));
				return rc;
			}
		}
	}
	return 0;
}

static int out_kafka_start(void *ctx)
{
	struct out_kafka *ok = ctx;
	int rc;

	if (ok->native) {
		rc = out_kafka_native_start(ok);
		if (rc <= 0)
			return rc;
	}
	rc = evloop_io_start(ok->loop, &ok->io, ok->pipefd[0], EVLOOP_READ, on_pipe, ok);
	if (rc < 0)
		return rc;
	/* Safety net: librdkafka only signals the pipe when its queue goes from
	 * empty to non-empty. */
	evloop_timer_start(ok->loop, &ok->poll_timer, 100, 100, on_poll_timer, ok);
	return 0;
}

static void on_refused(struct evloop_defer *d)
{
	kflush_complete(d->data);
}

static enum flush_result out_kafka_flush(void *ctx, struct flush *f)
{
	struct out_kafka *ok = ctx;
	struct kflush *kf;

	if (ok->native) {
		char tbuf[512];

		return knative_flush(ok->kn, f,
				     out_kafka_topic_for(ok, f, NULL, tbuf, sizeof(tbuf)));
	}
	if (ok->fatal && !ok->eo_current && !ok->eo_head) {
		struct cfg_error err;

		/* a fenced or broken idempotent producer: start a new one */
		producer_free(ok);
		ok->fatal = false;
		if (producer_new(ok, &err, false) < 0) {
			log_error("%s", err.msg);
			return FLUSH_RETRY;
		}
	}
	kf = mem_calloc(1, sizeof(*kf));
	if (!kf)
		return FLUSH_RETRY;
	kf->b = mem_calloc(f->nbatches ? f->nbatches : 1, sizeof(*kf->b));
	if (!kf->b) {
		mem_free(kf);
		return FLUSH_RETRY;
	}
	kf->ok = ok;
	kf->f = f;
	kf->nb = f->nbatches;
	kf->producing = true;
	for (size_t i = 0; i < kf->nb; i++)
		kf->b[i].kf = kf;
	if (ok->eo)
		return out_kafka_eo_flush(ok, kf);
	{
		/* Delivered before a restart, acknowledged to the spool too late:
		 * counted as delivered with nothing produced. */
		const struct mark *m = marks_find(&ok->marks, f->topic, f->partition, false);

		while (m && kf->next_batch < kf->nb && f->batches[kf->next_batch].resent &&
		       f->batches[kf->next_batch].entry_id <= m->last) {
			kf->next_batch++;
			ok->skipped++;
		}
	}
	f->plugin_data = kf;
	if (kflush_produce(kf) < 0) {
		/* the spool checked these batches: only memory can fail here */
		kf->f = NULL;
		kf->producing = false;
		if (kf->outstanding == 0)
			kflush_free(kf);
		return FLUSH_RETRY;
	}
	if (!kf->producing && kf->outstanding == 0)
		/* every record refused before sending: report after this call */
		evloop_defer(ok->loop, &kf->done, on_refused, kf);
	return FLUSH_ASYNC;
}

static void out_kafka_cancel(void *ctx, struct flush *f)
{
	struct kflush *kf = f->plugin_data;
	struct out_kafka *ok = ctx;

	if (ok->native) {
		knative_cancel(ok->kn, f);
		return;
	}
	if (!kf)
		return;
	kf->f = NULL;
	f->plugin_data = NULL;
	/* freed by the last delivery report, the resume timer, on_refused or
	 * (exactly_once) eo_finish and eo_next */
	if (kf->outstanding == 0 && !kf->producing && !kf->done.queued && !kf->eo_done.queued &&
	    kf != ok->eo_current)
		kflush_free(kf);
}

static size_t out_kafka_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct out_kafka *ok = ctx;
	const struct plugin_metric all[] = {
		{"sluice_agent_kafka_records_produced_total", "counter",
		 "Records handed to librdkafka.", ok->produced, NULL, NULL},
		{"sluice_agent_kafka_records_delivered_total", "counter",
		 "Records the cluster acknowledged (delivery reports).", ok->delivered, NULL, NULL},
		{"sluice_agent_kafka_records_failed_total", "counter",
		 "Records whose delivery failed (their batches are retried or quarantined).",
		 ok->failed, NULL, NULL},
		{"sluice_agent_kafka_queue_full_total", "counter",
		 "Times librdkafka's local queue was full (production waited).", ok->queue_full,
		 NULL, NULL},
		{"sluice_agent_kafka_fatal_errors_total", "counter",
		 "Fatal producer errors (a new producer was started).", ok->fatal_errors, NULL,
		 NULL},
		{"sluice_agent_kafka_batches_skipped_total", "counter",
		 "Spooled batches re-sent after a restart that were delivered before (not produced "
		 "again).",
		 ok->skipped, NULL, NULL},
		{"sluice_agent_kafka_broker_errors_total", "counter",
		 "Errors librdkafka reported for brokers (down, unreachable, failovers); it "
		 "retries them.",
		 ok->broker_errors, NULL, NULL},
		{"sluice_agent_kafka_transactions_committed_total", "counter",
		 "exactly_once: transactions committed (one per flush).", ok->txn.commits, NULL,
		 NULL},
		{"sluice_agent_kafka_transactions_aborted_total", "counter",
		 "exactly_once: transactions aborted (their flush is produced again).",
		 ok->txn.aborts, NULL, NULL},
		{"sluice_agent_kafka_transaction_commit_ms_total", "counter",
		 "exactly_once: milliseconds spent committing (offsets + EndTxn).",
		 ok->txn.commit_ms, NULL, NULL},
		{"sluice_agent_kafka_producer_inits_total", "counter",
		 "exactly_once: init_transactions() calls (start, and after a fatal error).",
		 ok->txn.inits, NULL, NULL},
		{"sluice_agent_kafka_outq_messages", "gauge",
		 "Messages in librdkafka's queues now.",
		 ok->rk ? (uint64_t)rd_kafka_outq_len(ok->rk) : 0, NULL, NULL},
	};
	size_t n = plugin_metrics_copy(m, max, all, sizeof(all) / sizeof(all[0]));

	return ok->kn ? n + knative_metrics(ok->kn, m + n, max - n) : n;
}

/* native: murmur2 placement over the destination topic's partitions (the
 * librdkafka client partitions per record itself: 1). */
static int32_t out_kafka_partitions(void *ctx, const char *topic)
{
	struct out_kafka *ok = ctx;
	struct flush f = {.topic = topic};
	char tbuf[512];

	if (!ok->kn)
		return 1;
	return knative_partitions(ok->kn, out_kafka_topic_for(ok, &f, NULL, tbuf, sizeof(tbuf)));
}

static void out_kafka_exit(void *ctx)
{
	struct out_kafka *ok = ctx;

	if (!ok)
		return;
	evloop_timer_stop(&ok->poll_timer);
	evloop_timer_stop(&ok->resume_timer);
	if (ok->io.active)
		evloop_io_stop(&ok->io);
	while (ok->eo_head) {
		struct kflush *kf = ok->eo_head;

		ok->eo_head = kf->next_eo;
		kflush_free(kf);
	}
	if (ok->eo_current) {
		/* the open transaction dies with the producer (the next one's init
		 * aborts it); the purge's reports must not defer a commit */
		struct kflush *kf = ok->eo_current;

		ok->eo_current = NULL;
		ok->eo = false;
		kf->f = NULL;
		if (kf->eo_done.queued)
			kflush_free(kf);
	}
	/* Flushes waiting for queue space were cancelled by the pipeline. */
	while (ok->waiting) {
		struct kflush *kf = ok->waiting;

		ok->waiting = kf->next_waiting;
		kf->producing = false;
		if (kf->outstanding == 0)
			kflush_free(kf);
	}
	producer_free(ok);
	knative_free(ok->kn);
	if (ok->pipefd[0] >= 0)
		close(ok->pipefd[0]);
	if (ok->pipefd[1] >= 0)
		close(ok->pipefd[1]);
	codec_ctx_free(ok->cc);
	marks_release(&ok->marks);
	kafka_txn_release(&ok->txn);
	mem_free(ok->state_dir);
	mem_free(ok);
}

const struct plugin out_kafka_plugin = {
	.name = "kafka",
	.kind = PLUGIN_OUTPUT,
	.description = "produce to Apache Kafka, Redpanda or sluice-store: the spooled batches "
		       "as they are (native client) or with librdkafka (idempotent, acks=all)",
	.options = out_kafka_opts,
	.conf_size = sizeof(struct out_kafka_conf),
	.init = out_kafka_init,
	.start = out_kafka_start,
	.flush = out_kafka_flush,
	.cancel = out_kafka_cancel,
	.partitions = out_kafka_partitions,
	.metrics = out_kafka_metrics,
	.exit = out_kafka_exit,
	/* the native client sends the spooled batches as they are, so the spool
	 * uses `compression` (zstd by default) and that is what the broker
	 * stores; the librdkafka client decodes them, at the cost of the same
	 * codec */
	.sends_batches = true,
};
