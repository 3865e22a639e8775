/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output `http`: POSTs the records of spooled batches to an HTTP endpoint
 * (a search stack's ingest API, a webhook) in one of four body formats
 * (plugins/out_http/http_body.h): ndjson, json_array, elasticsearch_bulk,
 * loki_push; optionally gzip- or zstd-compressed (Content-Encoding).  One
 * request per flush (the batches of one topic-partition, up to the output's
 * max_request_bytes), on libcurl's multi interface driven by the agent's
 * event loop (agent/net/curl_loop.h): keep-alive, TLS with a CA file or client
 * certificate, basic or bearer auth, extra headers.
 *
 * Answers, like the store output's:
 *   2xx                        delivered (for elasticsearch_bulk: when every
 *                              item is 2xx or 409 "already indexed")
 *   connection errors, 408,    retried with exponential backoff and jitter;
 *   429, 5xx                   Retry-After honoured
 *   401, 403                   retried too (a token being rotated is not the
 *                              batch's fault), logged loudly
 *   other 4xx                  the request is cut down to one batch to find
 *                              the culprit, which is quarantined to
 *                              data_dir/dead-letter/<output>/ with the status
 *                              and the first bytes of the answer
 * A retry resends whole batches; receivers that cannot recognise a resent
 * document may then hold it twice (elasticsearch_bulk can: its document ids
 * are stable, see http_body.h).  After a crash of the agent, spooled batches
 * a 2xx already answered are not sent again: the output keeps delivered
 * marks (agent/spool/marks.h) that the spool's once-a-second acknowledgement lags.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/net/curl_loop.h"
#include "agent/spool/marks.h"
#include "agent/plugin.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "plugins/out_http/http_body.h"

struct out_http_conf {
	char *url;
	int format;
	struct cfg_kv headers;
	char *user;
	char *password;
	char *token_file;
	char *ca_file;
	char *cert_file;
	char *key_file;
	bool tls_verify;
	int64_t timeout;
	int64_t connect_timeout;
	char *index;
};

static const char *const http_formats[] = {"ndjson", "json_array", "elasticsearch_bulk",
					   "loki_push", NULL};
/* The output-wide `compression` key (the spool's codec, plugin_args.codec)
 * also sets the body's: Content-Encoding gzip or zstd for those two codecs,
 * an uncompressed body for any other. */

static int check_url(const char *v, char *why, size_t whylen)
{
	if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) {
		snprintf(why, whylen, "must start with http:// or https://");
		return -1;
	}
	return 0;
}

/* clang-format off */
static const struct cfg_option out_http_opts[] = {
	{.name = "url",
	 .type = CFG_STRING,
	 .offset = offsetof(struct out_http_conf, url),
	 .flags = CFG_REQUIRED,
	 .check = check_url,
	 .help = "endpoint to POST to, e.g. http://es:9200/_bulk or http://loki:3100/loki/api/v1/push"},
	{.name = "format",
	 .type = CFG_ENUM,
	 .offset = offsetof(struct out_http_conf, format),
	 .def = "ndjson",
	 .choices = http_formats,
	 .help = "request body: ndjson, json_array, elasticsearch_bulk or loki_push"},
	{.name = "headers",
	 .type = CFG_MAP,
	 .offset = offsetof(struct out_http_conf, headers),
	 .help = "extra request headers, name: value"},
	{.name = "user",
	 .type = CFG_STRING,
	 .offset = offsetof(struct out_http_conf, user),
	 .help = "basic auth user"},
	{.name = "password",
	 .type = CFG_STRING,
	 .offset = offsetof(struct out_http_conf, password),
	 .help = "basic auth password (use ${ENV})"},
	{.name = "token_file",
	 .type = CFG_STRING,
	 .offset = offsetof(struct out_http_conf, token_file),
	 .help = "file holding a bearer token (Authorization: Bearer)"},
	{.name = "ca_file",
	 .type = CFG_STRING,
	 .offset = offsetof(struct out_http_conf, ca_file),
	 .help = "CA bundle for https:// (default: the system's)"},
	{.name = "cert_file",
	 .type = CFG_STRING,
	 .offset = offsetof(struct out_http_conf, cert_file),
	 .help = "client certificate (PEM) for mutual TLS"},
	{.name = "key_file",
	 .type = CFG_STRING,
	 .offset = offsetof(struct out_http_conf, key_file),
	 .help = "client key (PEM)"},
	{.name = "tls_verify",
	 .type = CFG_BOOL,
	 .offset = offsetof(struct out_http_conf, tls_verify),
	 .def = "true",
	 .help = "check the server's certificate and host name"},
	{.name = "timeout",
	 .type = CFG_DURATION,
	 .offset = offsetof(struct out_http_conf, timeout),
	 .def = "60s",
	 .min = 100,
	 .max = 3600000,
	 .help = "one request, from connect to answer"},
	{.name = "connect_timeout",
	 .type = CFG_DURATION,
	 .offset = offsetof(struct out_http_conf, connect_timeout),
	 .def = "5s",
	 .min = 10,
	 .max = 600000},
	{.name = "index",
	 .type = CFG_STRING,
	 .offset = offsetof(struct out_http_conf, index),
	 .help = "elasticsearch_bulk: target index (default: the topic)"},
	CFG_OPT_END,
};
/* clang-format on */

struct out_http;

struct hreq {
	struct out_http *h;
	struct flush *f;
	CURL *easy;
	struct curl_slist *hdrs;
	struct buf body;   /* what is sent */
	struct buf answer; /* first bytes of the answer */
	size_t nbatches;   /* batches in this request */
	size_t skip;       /* leading batches delivered before a restart */
};

struct out_http {
	const struct out_http_conf *conf;
	struct output *output;
	char id[64];
	char id_prefix[192];
	struct evloop *loop;
	struct curl_loop *cl;
	struct codec_ctx *cc;
	char *auth;      /* "Authorization: ..." header or NULL */
	int codec;       /* CODEC_* of the body, 0 = none */
	int level;       /* its level (the output's compression_level) */
	char *state_dir; /* delivered marks (agent/spool/marks.h); NULL: none */
	struct marks marks;
	uint64_t requests, records, bytes, retries, refused, status_4xx, status_5xx, skipped;
};

static size_t on_answer(char *p, size_t sz, size_t n, void *arg)
{
	struct hreq *r = arg;
	size_t len = sz * n;

	/* keep up to the buffer's bound; the rest is read and dropped */
	if (r->answer.len < r->answer.max) {
		size_t take = r->answer.max - r->answer.len;

		SLUICE_IGNORE(buf_append(&r->answer, p, len < take ? len : take));
	}
	return len;
}

static void hreq_free(struct hreq *r)
{
	if (!r)
		return;
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	buf_release(&r->body);
	buf_release(&r->answer);
	mem_free(r);
}

static void on_done(CURL *easy, CURLcode cc, void *arg)
{
	struct hreq *r = arg;
	struct out_http *h = r->h;
	struct flush *f = r->f;
	size_t skip = r->skip; /* reported delivered whatever the answer */
	long status = 0;
	curl_off_t ra = 0;
	int64_t retry_ms = 0;
	char why[320];

	f->plugin_data = NULL;
	if (cc != CURLE_OK) {
		h->retries++;
		snprintf(why, sizeof(why), "%s", curl_easy_strerror(cc));
		hreq_free(r);
		output_flush_done(h->output, f, FLUSH_RETRY, skip, "connection", why, 0);
		return;
	}
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
		retry_ms = (int64_t)ra * 1000;
	if (buf_cstr(&r->answer) < 0 && r->answer.len > 0)
		r->answer.data[--r->answer.len] = '\0'; /* full: the last byte gives way */
	if (status >= 200 && status < 300) {
		if (h->conf->format == HTTP_FMT_ES_BULK) {
			size_t bad;
			enum bulk_verdict v = http_bulk_verdict(r->answer.data, r->answer.len, &bad,
								why, sizeof(why));

			if (v == BULK_RETRY) {
				h->retries++;
				hreq_free(r);
				output_flush_done(h->output, f, FLUSH_RETRY, skip,
						  "bulk_item_retry", why, 0);
				return;
			}
			if (v == BULK_REFUSED || v == BULK_INVALID) {
				if (r->nbatches > 1) {
					/* find the batch: one per request until it fails */
					f->next_max_batches = 1;
					hreq_free(r);
					output_flush_done(h->output, f, FLUSH_RETRY, skip,
							  "bulk_item_refused", why, 1);
					return;
				}
				h->refused++;
				hreq_free(r);
				output_flush_done(h->output, f, FLUSH_ERROR, skip,
						  v == BULK_REFUSED ? "bulk_item_refused"
								    : "bulk_answer",
						  why, 0);
				return;
			}
		}
		h->requests++;
		size_t n = skip + r->nbatches;

		hreq_free(r);
		if (h->state_dir)
			marks_advance(&h->marks, h->state_dir, h->id, f->topic, f->partition,
				      f->batches[n - 1].entry_id);
		output_flush_done(h->output, f, FLUSH_OK, n, NULL, NULL, 0);
		return;
	}
	snprintf(why, sizeof(why), "HTTP %ld: %.256s", status, (const char *)r->answer.data);
	if (status >= 500 || status == 408 || status == 429 || status == 401 || status == 403) {
		if (status >= 500)
			h->status_5xx++;
		else
			h->status_4xx++;
		h->retries++;
		if (status == 401 || status == 403)
			log_error("output %s: %s (check the credentials; retrying)", h->id, why);
		hreq_free(r);
		output_flush_done(h->output, f, FLUSH_RETRY, skip, "http_status", why, retry_ms);
		return;
	}
	h->status_4xx++;
	if (r->nbatches > 1) {
		f->next_max_batches = 1;
		hreq_free(r);
		output_flush_done(h->output, f, FLUSH_RETRY, skip, "http_status", why, 1);
		return;
	}
	h->refused++;
	{
		char code[32];

		snprintf(code, sizeof(code), "http_%ld", status);
		hreq_free(r);
		output_flush_done(h->output, f, FLUSH_ERROR, skip, code, why, 0);
	}
}

/* The body in one pass: records become JSON in a small buffer that is
 * compressed into the request body each time it fills, so neither the
 * uncompressed body nor a tree of it is ever held (uncompressed bodies are
 * written straight into the request body). */
#define BODY_CHUNK ((size_t)256 << 10)

static int build_body(struct out_http *h, struct flush *f, struct hreq *r)
{
	struct http_body b;
	int rc = 0;

	http_body_init(&b, (enum http_format)h->conf->format, f->topic, h->conf->index,
		       h->id_prefix, (size_t)1 << 30);
	b.partition = f->partition;
	if (h->codec)
		rc = codec_stream_begin(h->cc, h->codec, h->level);
	for (size_t i = r->skip; i < f->nbatches && rc >= 0; i++) {
		rc = http_body_add_batch(&b, h->cc, f->batches[i].entry_id,
					 f->body.data + f->batches[i].off, f->batches[i].len);
		r->nbatches++;
		if (rc >= 0 && h->codec && b.out.len >= BODY_CHUNK) {
			rc = codec_stream_write(h->cc, b.out.data, b.out.len, &r->body);
			b.out.len = 0;
		}
	}
	if (rc >= 0)
		rc = http_body_finish(&b);
	if (rc >= 0 && h->codec) {
		rc = codec_stream_write(h->cc, b.out.data, b.out.len, &r->body);
		if (rc >= 0)
			rc = codec_stream_end(h->cc, &r->body);
	} else if (rc >= 0) {
		/* the body is the JSON buffer itself: hand it over */
		buf_release(&r->body);
		r->body = b.out;
		buf_init(&b.out, 0);
	}
	if (h->codec)
		codec_stream_abort(h->cc);
	h->records += b.records;
	http_body_release(&b);
	return rc < 0 ? rc : 0;
}

static enum flush_result out_http_flush(void *ctx, struct flush *f)
{
	struct out_http *h = ctx;
	struct hreq *r = mem_calloc(1, sizeof(*r));
	char hdr[512];
	int rc = 0;

	if (!r)
		return FLUSH_RETRY;
	{
		/* Delivered before a restart, acknowledged to the spool too late
		 * (agent/spool/marks.h): not sent again. */
		const struct mark *m = marks_find(&h->marks, f->topic, f->partition, false);

		while (m && r->skip < f->nbatches && f->batches[r->skip].resent &&
		       f->batches[r->skip].entry_id <= m->last)
			r->skip++;
		h->skipped += r->skip;
		if (r->skip == f->nbatches) {
			mem_free(r);
			return FLUSH_OK;
		}
	}
	r->h = h;
	r->f = f;
	/* an _bulk answer has an item per document: a 4 KiB bound cut
	 * answers of more than ~80 documents and refused them as not JSON */
	buf_init(&r->answer, (size_t)16 << 20);
	buf_init(&r->body, (size_t)1 << 30);
	rc = build_body(h, f, r);
	if (rc < 0) {
		log_error("output %s: cannot build the request body: %s", h->id, err_str(rc));
		hreq_free(r);
		return rc == -ENOMEM ? FLUSH_RETRY : FLUSH_ERROR;
	}
	r->easy = curl_easy_init();
	if (!r->easy) {
		hreq_free(r);
		return FLUSH_RETRY;
	}
	snprintf(hdr, sizeof(hdr), "Content-Type: %s",
		 http_format_content_type((enum http_format)h->conf->format));
	r->hdrs = curl_slist_append(r->hdrs, hdr);
	r->hdrs = curl_slist_append(r->hdrs, "Expect:");
	if (h->codec == CODEC_GZIP)
		r->hdrs = curl_slist_append(r->hdrs, "Content-Encoding: gzip");
	else if (h->codec == CODEC_ZSTD)
		r->hdrs = curl_slist_append(r->hdrs, "Content-Encoding: zstd");
	if (h->auth)
		r->hdrs = curl_slist_append(r->hdrs, h->auth);
	for (size_t i = 0; i < h->conf->headers.n; i++) {
		snprintf(hdr, sizeof(hdr), "%.200s: %.300s", h->conf->headers.keys[i],
			 h->conf->headers.vals[i]);
		r->hdrs = curl_slist_append(r->hdrs, hdr);
	}
	curl_easy_setopt(r->easy, CURLOPT_URL, h->conf->url);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(r->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body.data ? (char *)r->body.data : "");
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)h->conf->timeout);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)h->conf->connect_timeout);
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "sluice-agent/0.1");
	if (h->conf->user) {
		curl_easy_setopt(r->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(r->easy, CURLOPT_USERNAME, h->conf->user);
		curl_easy_setopt(r->easy, CURLOPT_PASSWORD,
				 h->conf->password ? h->conf->password : "");
	}
	if (h->conf->ca_file)
		curl_easy_setopt(r->easy, CURLOPT_CAINFO, h->conf->ca_file);
	if (h->conf->cert_file)
		curl_easy_setopt(r->easy, CURLOPT_SSLCERT, h->conf->cert_file);
	if (h->conf->key_file)
		curl_easy_setopt(r->easy, CURLOPT_SSLKEY, h->conf->key_file);
	if (!h->conf->tls_verify) {
		curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	h->bytes += r->body.len;
	f->plugin_data = r;
	if (curl_loop_add(h->cl, r->easy, on_done, r) < 0) {
		f->plugin_data = NULL;
		hreq_free(r);
		return FLUSH_RETRY;
	}
	return FLUSH_ASYNC;
}

static void out_http_cancel(void *ctx, struct flush *f)
{
	struct out_http *h = ctx;
	struct hreq *r = f->plugin_data;

	if (!r)
		return;
	curl_loop_remove(h->cl, r->easy);
	f->plugin_data = NULL;
	hreq_free(r);
}

static int read_token(const char *path, char **auth, struct cfg_error *err)
{
	struct buf b;
	int rc;

	buf_init(&b, 16384);
	rc = fs_read_file(path, &b);
	if (rc < 0) {
		snprintf(err->msg, sizeof(err->msg), "token_file %.200s: %s", path, err_str(rc));
		buf_release(&b);
		return rc;
	}
	while (b.len &&
	       (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r' || b.data[b.len - 1] == ' '))
		b.len--;
	*auth = mem_alloc(b.len + 32);
	if (!*auth) {
		buf_release(&b);
		return -ENOMEM;
	}
	snprintf(*auth, b.len + 32, "Authorization: Bearer %.*s", (int)b.len, (const char *)b.data);
	buf_release(&b);
	return 0;
}

static int out_http_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct out_http *h = mem_calloc(1, sizeof(*h));
	const struct out_http_conf *c = a->conf;
	int rc;

	if (!h)
		return -ENOMEM;
	*ctx = h;
	h->conf = c;
	h->output = a->output;
	h->loop = a->loop;
	snprintf(h->id, sizeof(h->id), "%s", a->id);
	snprintf(h->id_prefix, sizeof(h->id_prefix), "%.100s-%.60s", a->host ? a->host : "", a->id);
	h->codec = a->codec == CODEC_GZIP || a->codec == CODEC_ZSTD ? a->codec : 0;
	h->level = a->codec_level;
	if (c->token_file && c->user) {
		snprintf(err->msg, sizeof(err->msg),
			 "output %s: token_file and user exclude each "
			 "other",
			 a->id);
		return -ERR_CONFIG;
	}
	if (c->token_file && !a->check_only) {
		rc = read_token(c->token_file, &h->auth, err);
		if (rc < 0)
			return rc;
	}
	if (a->check_only)
		return 0;
	h->cc = codec_ctx_new();
	if (!h->cc)
		return -ENOMEM;
	if (a->state_dir) {
		h->state_dir = mem_strdup(a->state_dir);
		if (!h->state_dir)
			return -ENOMEM;
		marks_load(&h->marks, h->state_dir, h->id);
	}
	return curl_loop_new(a->loop, &h->cl);
}

static size_t out_http_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct out_http *h = ctx;
	const struct plugin_metric all[] = {
		{"sluice_agent_http_requests_ok_total", "counter", "Requests answered 2xx.",
		 h->requests, NULL, NULL},
		{"sluice_agent_http_records_total", "counter", "Records put in request bodies.",
		 h->records, NULL, NULL},
		{"sluice_agent_http_body_bytes_total", "counter", "Request body bytes (as sent).",
		 h->bytes, NULL, NULL},
		{"sluice_agent_http_retries_total", "counter",
		 "Requests retried (connection errors, 408, 429, 5xx, 401/403, bulk item retries).",
		 h->retries, NULL, NULL},
		{"sluice_agent_http_refused_total", "counter",
		 "Batches refused for good (quarantined to dead-letter).", h->refused, NULL, NULL},
		{"sluice_agent_http_status_4xx_total", "counter", "Answers 4xx.", h->status_4xx,
		 NULL, NULL},
		{"sluice_agent_http_status_5xx_total", "counter", "Answers 5xx.", h->status_5xx,
		 NULL, NULL},
		{"sluice_agent_http_batches_skipped_total", "counter",
		 "Spooled batches re-sent after a restart that were delivered before (not sent "
		 "again).",
		 h->skipped, NULL, NULL},
	};
	return plugin_metrics_copy(m, max, all, sizeof(all) / sizeof(all[0]));
}

static void out_http_exit(void *ctx)
{
	struct out_http *h = ctx;

	if (!h)
		return;
	curl_loop_free(h->cl);
	codec_ctx_free(h->cc);
	mem_free(h->auth);
	marks_release(&h->marks);
	mem_free(h->state_dir);
	mem_free(h);
}

const struct plugin out_http_plugin = {
	.name = "http",
	.kind = PLUGIN_OUTPUT,
	.description = "POST records to an HTTP endpoint as NDJSON, a JSON array, an "
		       "Elasticsearch _bulk or a Loki push body",
	.options = out_http_opts,
	.conf_size = sizeof(struct out_http_conf),
	.init = out_http_init,
	.flush = out_http_flush,
	.cancel = out_http_cancel,
	.metrics = out_http_metrics,
	.exit = out_http_exit,
};
