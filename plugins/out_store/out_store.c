/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output `store`: ships spooled RecordBatch v2 to sluice-store over its HTTP
 * API (docs/HTTP_API.md): POST /v1/topics/{t}/batches?partition=N with the
 * batches back to back, on the agent's HTTP client (agent/net/http_client.h:
 * keep-alive on the event loop; https:// through libcurl with an optional CA
 * file; bearer token).
 *
 * Exactly once: the output is an idempotent producer.  Its producer id comes
 * from POST /v1/producers and is kept in its spool directory next to the
 * sequences the spool assigned; every batch is stamped with it just before
 * sending (the spool stores batches with producer id -1).  A retry of a
 * batch the store already appended is answered 200 "duplicate" (or 409
 * duplicate when older than the store's window) and both count as delivered;
 * so does 409 out_of_order_sequence for a batch that may already have
 * reached the store (see on_batches_done()).
 *
 * Answers (see classify()): 200 delivered; 409 duplicate delivered;
 * connection errors, 5xx, 503 (Retry-After honoured), 408, 429, 401 and 403
 * retried with backoff (an expired token or a full disk is not the batch's
 * fault); 409 out_of_order_sequence for a batch never sent before, or
 * producer_fenced, start a new producer id once, then quarantine; 403
 * producer_id_not_owned (the id was obtained by another principal: the
 * credential was rotated to a new one, or the store restarted and someone
 * else claimed it first) takes a new producer id and re-sends, never
 * quarantined: nothing of a refused request was written, and the spool's
 * sequences are valid for a new id; 404 unknown_topic creates the topic when
 * create_topics is on; other 4xx quarantine the offending batch.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/plugin.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jdoc.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "plugins/out_store/store_client.h"

/* clang-format off */
static const struct cfg_option out_store_opts[] = {
	{.name = "url", .type = CFG_STRING, .offset = offsetof(struct out_store_conf, url),
	 .flags = CFG_REQUIRED, .check = store_check_url,
	 .help = "the store's HTTP API, e.g. http://logs.internal:8470"},
	{.name = "token_file", .type = CFG_STRING,
	 .offset = offsetof(struct out_store_conf, token_file),
	 .help = "file holding the bearer token (when the store has auth on)"},
	{.name = "ca_file", .type = CFG_STRING, .offset = offsetof(struct out_store_conf, ca_file),
	 .help = "CA bundle for https:// URLs (default: the system's)"},
	{.name = "cert", .type = CFG_STRING, .offset = offsetof(struct out_store_conf, cert),
	 .help = "client certificate (PEM) for a store with http.tls.client_auth (mTLS)"},
	{.name = "key", .type = CFG_STRING, .offset = offsetof(struct out_store_conf, key),
	 .help = "private key of cert (PEM)"},
	{.name = "tls_verify", .type = CFG_BOOL, .offset = offsetof(struct out_store_conf, tls_verify),
	 .def = "true", .help = "check the store's certificate and host name"},
	{.name = "timeout", .type = CFG_DURATION, .offset = offsetof(struct out_store_conf, timeout),
	 .def = "60s", .min = 100, .max = 3600000, .help = "one request, from connect to answer"},
	{.name = "connect_timeout", .type = CFG_DURATION,
	 .offset = offsetof(struct out_store_conf, connect_timeout), .def = "5s", .min = 10,
	 .max = 600000},
	{.name = "create_topics", .type = CFG_BOOL,
	 .offset = offsetof(struct out_store_conf, create_topics), .def = "true",
	 .help = "create missing topics (PUT /v1/topics/{t})"},
	{.name = "partitions", .type = CFG_INT, .offset = offsetof(struct out_store_conf, partitions),
	 .def = "0", .min = 0, .max = 100000,
	 .help = "partitions of topics it creates (0: the store's default)"},
	CFG_OPT_END,
};
/* clang-format on */

/* ------------------------------------------------------------ answers */

enum verdict {
	V_OK,
	V_DUPLICATE,
	V_RETRY,
	V_FATAL,
	V_RESET_PRODUCER,
	V_NOT_OWNED,
	V_CREATE_TOPIC,
	V_SPLIT
};

struct answer {
	long status;
	enum verdict v;
	char code[48];
	char reason[256];
	size_t acked;   /* batches the store appended before stopping */
	int64_t failed; /* index of the batch it refused, -1 unknown */
	int64_t retry_after_ms;
};

static void parse_answer(const struct buf *body, size_t nbatches, struct answer *a)
{
	struct jdoc *d = NULL;
	const struct jnode *root, *n;

	a->acked = 0;
	a->failed = -1;
	if (body->len == 0 || jdoc_parse(body->data, body->len, &d, NULL) < 0) {
		snprintf(a->code, sizeof(a->code), "http_%ld", a->status);
		snprintf(a->reason, sizeof(a->reason), "%.*s",
			 (int)(body->len < 200 ? body->len : 200),
			 body->len ? (const char *)body->data : "");
		return;
	}
	root = jdoc_root(d);
	n = jnode_get(root, "batches");
	if (n && n->type == JARR)
		a->acked = n->n < nbatches ? n->n : nbatches;
	n = jnode_get(root, "error");
	if (jnode_str(n))
		snprintf(a->code, sizeof(a->code), "%s", jnode_str(n));
	else if (a->status != 200)
		snprintf(a->code, sizeof(a->code), "http_%ld", a->status);
	n = jnode_get(root, "message");
	if (jnode_str(n))
		snprintf(a->reason, sizeof(a->reason), "%s", jnode_str(n));
	if (jnode_i64(jnode_get(root, "failed_batch"), &a->failed) < 0 &&
	    jnode_i64(jnode_get(root, "batch"), &a->failed) < 0)
		a->failed = -1;
	jdoc_free(d);
}

static void classify(struct answer *a, size_t nbatches)
{
	const char *c = a->code;

	if (a->status == 200) {
		a->v = V_OK;
		if (a->acked == 0)
			a->acked = nbatches; /* an answer without the list: all of it */
		return;
	}
	if (a->failed >= 0 && (size_t)a->failed > a->acked)
		a->acked = (size_t)a->failed; /* refused batch k: 0..k-1 were appended */
	if (a->status == 409 && strcmp(c, "duplicate") == 0) {
		a->v = V_DUPLICATE;
		return;
	}
	if (a->status == 409 &&
	    (strcmp(c, "out_of_order_sequence") == 0 || strcmp(c, "producer_fenced") == 0)) {
		a->v = V_RESET_PRODUCER;
		return;
	}
	if (a->status == 403 && strcmp(c, "producer_id_not_owned") == 0) {
		a->v = V_NOT_OWNED;
		return;
	}
	if (a->status == 404 && strcmp(c, "unknown_topic") == 0) {
		a->v = V_CREATE_TOPIC;
		return;
	}
	if (a->status == 413 && a->failed < 0 && nbatches > 1) {
		a->v = V_SPLIT; /* the body, not one batch, was too large */
		return;
	}
	if (a->status >= 500 || a->status == 408 || a->status == 429 || a->status == 401 ||
	    a->status == 403) {
		a->v = V_RETRY;
		return;
	}
	a->v = a->status >= 400 ? V_FATAL : V_RETRY;
}

/* ------------------------------------------------------------ sending */

static void stamp(struct out_store *s, struct flush *f)
{
	for (size_t i = 0; i < f->nbatches; i++) {
		uint8_t *b = f->body.data + f->batches[i].off;

		if ((int64_t)get_be64(b + BATCH_OFF_PRODUCER_ID) == s->producer_id &&
		    (int16_t)get_be16(b + BATCH_OFF_PRODUCER_EPOCH) == s->producer_epoch)
			continue;
		put_be64(b + BATCH_OFF_PRODUCER_ID, (uint64_t)s->producer_id);
		put_be16(b + BATCH_OFF_PRODUCER_EPOCH, (uint16_t)s->producer_epoch);
		batch_update_crc(b, f->batches[i].len);
	}
}

static void on_batches_done(struct store_req *r, long status, const char *err);

static void send_flush(struct out_store *s, struct flush *f)
{
	struct store_req *r;
	char path[512];
	int rc;

	stamp(s, f);
	snprintf(path, sizeof(path), "/v1/topics/%s/batches?partition=%d", f->topic, f->partition);
	r = store_req_new(s, REQ_BATCHES, "POST", path, f->body.data, f->body.len,
			  "application/vnd.kafka.recordbatch.v2", on_batches_done);
	if (!r) {
		output_flush_done(s->output, f, FLUSH_RETRY, 0, "out_of_memory", NULL, 0);
		return;
	}
	r->flush = f;
	f->plugin_data = r;
	s->st.requests++;
	rc = store_req_start(r);
	if (rc < 0) {
		f->plugin_data = NULL;
		store_req_free(r);
		output_flush_done(s->output, f, FLUSH_RETRY, 0, "request", err_str(rc), 0);
	}
}

static void fail_waiting(struct out_store *s, const char *code, const char *why)
{
	while (s->nwaiting) {
		struct flush *f = s->waiting[--s->nwaiting];

		output_flush_done(s->output, f, FLUSH_RETRY, 0, code, why, 0);
	}
}

static void send_waiting(struct out_store *s)
{
	size_t n = s->nwaiting;

	s->nwaiting = 0;
	for (size_t i = 0; i < n; i++)
		send_flush(s, s->waiting[i]);
}

static void on_producer(struct out_store *s, int rc, const char *why)
{
	if (rc == 0)
		send_waiting(s);
	else
		fail_waiting(s, "producer_id", why);
}

/* 403 producer_id_not_owned: the request wrote nothing.  Drop the id the
 * flush carried (other partitions' flushes refused for the same id find it
 * dropped already) and send again as soon as a new one is ours; a new id
 * refused again (it cannot be, short of a store bug) backs off. */
static void not_owned(struct out_store *s, struct flush *f, const struct answer *a)
{
	int64_t sent = f->nbatches ? (int64_t)get_be64(f->body.data + f->batches[0].off +
						       BATCH_OFF_PRODUCER_ID)
				   : -1;

	s->st.not_owned++;
	if (sent == s->producer_id && s->producer_id >= 0) {
		log_warn("store output %s: producer id %" PRId64
			 " belongs to another principal (%s: %s); asking for a new one",
			 s->id, s->producer_id, a->code, a->reason);
		s->st.producer_resets++;
		store_producer_reset(s);
	}
	output_flush_done(s->output, f, FLUSH_RETRY, a->acked, a->code, a->reason,
			  s->resets_in_row++ == 0 ? 1 : 0);
}

static void on_batches_done(struct store_req *r, long status, const char *err)
{
	struct out_store *s = r->s;
	struct flush *f = r->flush;
	struct answer a;
	size_t n = f->nbatches;

	f->plugin_data = NULL;
	memset(&a, 0, sizeof(a));
	a.status = status;
	a.retry_after_ms = r->retry_after_ms;
	if (err) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		s->st.conn_errors++;
		store_req_free(r);
		output_flush_done(s->output, f, FLUSH_RETRY, 0, "connection", why, 0);
		return;
	}
	parse_answer(store_req_body(r), n, &a);
	store_req_free(r);
	classify(&a, n);
	switch (a.v) {
	case V_OK:
		s->resets_in_row = 0;
		output_flush_done(s->output, f, FLUSH_OK, a.acked, NULL, NULL, 0);
		return;
	case V_DUPLICATE:
		/* Older than the store's window, but in its log: delivered. */
		s->st.duplicates++;
		output_flush_done(s->output, f, FLUSH_OK, a.acked + 1, NULL, NULL, 0);
		return;
	case V_RESET_PRODUCER:
		if (strcmp(a.code, "out_of_order_sequence") == 0 && a.acked < n &&
		    f->batches[a.acked].resent) {
			/* The store appends a producer's batches only in sequence,
			 * and every batch before this one was delivered: refused
			 * as out of order, a batch that may already have reached
			 * it (an answer lost, a restart) is one it already has,
			 * older than its de-duplication window. */
			s->st.duplicates++;
			output_flush_done(s->output, f, FLUSH_OK, a.acked + 1, NULL, NULL, 0);
			return;
		}
		if (s->resets_in_row++ == 0) {
			log_warn("store output %s: %s (%s); asking for a new producer id", s->id,
				 a.code, a.reason);
			s->st.producer_resets++;
			store_producer_reset(s);
			output_flush_done(s->output, f, FLUSH_RETRY, a.acked, a.code, a.reason, 1);
			return;
		}
		f->next_max_batches = a.acked ? 0 : 1;
		output_flush_done(s->output, f, a.acked ? FLUSH_RETRY : FLUSH_ERROR, a.acked,
				  a.code, a.reason, 0);
		return;
	case V_NOT_OWNED:
		not_owned(s, f, &a);
		return;
	case V_CREATE_TOPIC:
		if (s->conf->create_topics) {
			store_topic_create(s, f->topic);
			output_flush_done(s->output, f, FLUSH_RETRY, a.acked, a.code, a.reason, 1);
		} else {
			output_flush_done(s->output, f, FLUSH_ERROR, a.acked, a.code, a.reason, 0);
		}
		return;
	case V_SPLIT:
		f->next_max_batches = n / 2 ? n / 2 : 1;
		output_limit_request(s->output, f->body.len / 2);
		output_flush_done(s->output, f, FLUSH_RETRY, a.acked, a.code, a.reason, 1);
		return;
	case V_RETRY:
		output_flush_done(s->output, f, FLUSH_RETRY, a.acked, a.code, a.reason,
				  a.retry_after_ms);
		return;
	case V_FATAL:
		if (a.failed > (int64_t)a.acked || (a.failed < 0 && a.acked == 0 && n > 1)) {
			/* Not the first batch, or unknown which: isolate it first. */
			f->next_max_batches =
				a.failed > (int64_t)a.acked ? (size_t)a.failed - a.acked : 1;
			output_flush_done(s->output, f, FLUSH_RETRY, a.acked, a.code, a.reason, 1);
			return;
		}
		output_flush_done(s->output, f, FLUSH_ERROR, a.acked, a.code, a.reason, 0);
		return;
	}
}

/* ------------------------------------------------------------ plugin */

static enum flush_result out_store_flush(void *ctx, struct flush *f)
{
	struct out_store *s = ctx;

	if (s->producer_id < 0) {
		struct flush **v;

		if (s->nwaiting == s->capwaiting) {
			size_t cap = s->capwaiting ? s->capwaiting * 2 : 8;

			v = mem_realloc(s->waiting, cap * sizeof(*v));
			if (!v)
				return FLUSH_RETRY;
			s->waiting = v;
			s->capwaiting = cap;
		}
		s->waiting[s->nwaiting++] = f;
		store_producer_fetch(s, on_producer);
		return FLUSH_ASYNC;
	}
	send_flush(s, f);
	return FLUSH_ASYNC;
}

static void out_store_cancel(void *ctx, struct flush *f)
{
	struct out_store *s = ctx;
	struct store_req *r = f->plugin_data;

	for (size_t i = 0; i < s->nwaiting; i++) {
		if (s->waiting[i] == f) {
			memmove(&s->waiting[i], &s->waiting[i + 1],
				(s->nwaiting - i - 1) * sizeof(s->waiting[0]));
			s->nwaiting--;
			return;
		}
	}
	if (r) {
		f->plugin_data = NULL;
		store_req_free(r); /* removes the transfer; no callback */
	}
}

static int32_t out_store_partitions(void *ctx, const char *topic)
{
	return store_topic_partitions(ctx, topic);
}

static size_t out_store_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct out_store *s = ctx;
	const struct plugin_metric v[] = {
		{"sluice_agent_store_requests_total", "counter", "HTTP requests to the store.",
		 s->st.requests, NULL, NULL},
		{"sluice_agent_store_connection_errors_total", "counter",
		 "Requests that failed before an HTTP answer.", s->st.conn_errors, NULL, NULL},
		{"sluice_agent_store_duplicates_total", "counter",
		 "Batches the store already had (409 duplicate): acknowledged, not sent again.",
		 s->st.duplicates, NULL, NULL},
		{"sluice_agent_store_producer_resets_total", "counter",
		 "New producer ids taken after the store lost the producer state.",
		 s->st.producer_resets, NULL, NULL},
		{"sluice_agent_store_producer_not_owned_total", "counter",
		 "Requests refused 403 producer_id_not_owned (a new producer id follows).",
		 s->st.not_owned, NULL, NULL},
		{"sluice_agent_store_producer_id", "gauge", "The output's idempotent producer id.",
		 s->producer_id < 0 ? 0 : (uint64_t)s->producer_id, NULL, NULL},
	};
	return plugin_metrics_copy(m, max, v, sizeof(v) / sizeof(v[0]));
}

const struct plugin out_store_plugin = {
	.name = "store",
	.kind = PLUGIN_OUTPUT,
	.description = "ship batches to sluice-store over HTTP, exactly once (idempotent producer)",
	.options = out_store_opts,
	.conf_size = sizeof(struct out_store_conf),
	.init = store_init,
	.start = store_start,
	.flush = out_store_flush,
	.cancel = out_store_cancel,
	.sends_batches = true,
	.partitions = out_store_partitions,
	.metrics = out_store_metrics,
	.exit = store_exit,
};
