/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Store output plumbing: HTTP requests, the producer id and partition
 * counts.
 *
 * The producer id is persisted in the output's spool directory ("producer"),
 * next to the sequences it numbers: deleting the spool resets both together,
 * which is what idempotence needs.  Partition counts are learned at start
 * (GET /v1/topics/{t}, PUT to create a missing topic) with a short blocking
 * request before any input reads, and kept in "topics" so a restart while
 * the store is down places records where the previous run did.  A topic
 * whose count is unknown gets partition 0 until it is learned.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jdoc.h"
#include "lib/mem.h"
#include "plugins/out_store/store_client.h"

#define RESP_MAX (1 << 20)
#define STARTUP_TIMEOUT_MS 3000
#define TOKEN_MAX 4096

int store_check_url(const char *v, char *why, size_t whylen)
{
	if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
		snprintf(why, whylen, "'%s': expected an http:// or https:// URL", v);
		return -1;
	}
	if (strchr(v, '?') || strchr(v, '#') || strchr(v, ' ')) {
		snprintf(why, whylen, "'%s': the URL must not hold a query, fragment or space", v);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ requests */

/* Off the output's list of running requests. */
static void reqs_unlink(struct store_req *r)
{
	struct store_req **pp = &r->s->reqs;

	while (*pp && *pp != r)
		pp = &(*pp)->next;
	if (*pp)
		*pp = r->next;
	r->running = false;
}

static void on_http_done(struct http_client_req *h, void *arg)
{
	struct store_req *r = arg;
	int rc = http_client_req_result(h);

	reqs_unlink(r);
	r->retry_after_ms = http_client_req_retry_after_ms(h);
	if (rc < 0)
		r->done(r, 0, http_client_req_error(h));
	else
		r->done(r, http_client_req_status(h), NULL);
}

struct store_req *store_req_new(struct out_store *s, enum store_req_kind kind, const char *method,
				const char *path, const void *body, size_t len, const char *ctype,
				store_req_done done)
{
	struct store_req *r = mem_calloc(1, sizeof(*r));
	struct buf hdrs;

	if (!r)
		return NULL;
	r->s = s;
	r->kind = kind;
	r->done = done;
	r->method = method;
	r->body = body;
	r->len = len;
	r->retry_after_ms = -1;
	buf_init(&hdrs, 8192);
	r->path = mem_strdup(path);
	if (!r->path ||
	    buf_printf(&hdrs, "Content-Type: %s\r\n%s", ctype ? ctype : "application/json",
		       s->auth ? s->auth : "") < 0 ||
	    buf_cstr(&hdrs) < 0) {
		buf_release(&hdrs);
		store_req_free(r);
		return NULL;
	}
	r->headers = (char *)hdrs.data; /* the buffer's memory is the string now */
	return r;
}

int store_req_start(struct store_req *r)
{
	r->h = http_request(r->s->http, r->method, r->path, r->headers, r->body, r->len,
			    on_http_done, r);
	if (!r->h)
		return -ENOMEM;
	r->running = true;
	r->next = r->s->reqs;
	r->s->reqs = r;
	return 0;
}

const struct buf *store_req_body(const struct store_req *r)
{
	static const struct buf empty;

	return r->h ? http_client_req_body(r->h) : &empty;
}

void store_req_free(struct store_req *r)
{
	if (!r)
		return;
	if (r->running)
		reqs_unlink(r);
	http_client_req_free(r->h); /* abandons it when still running */
	mem_free(r->headers);
	mem_free(r->path);
	mem_free(r->topic);
	mem_free(r);
}

/* ------------------------------------------------------------ producer */

static int producer_load(struct out_store *s)
{
	char path[4096];
	struct buf b;
	int64_t id, ep;
	char *end;
	int rc;

	buf_init(&b, 256);
	snprintf(path, sizeof(path), "%s/producer", s->state_dir);
	rc = fs_read_file(path, &b);
	if (rc == 0 && buf_cstr(&b) == 0) {
		errno = 0;
		id = strtoll((const char *)b.data, &end, 10);
		ep = errno == 0 && *end == ' ' ? strtoll(end + 1, &end, 10) : -1;
		if (errno == 0 && id >= 0 && ep >= 0 && ep <= INT16_MAX &&
		    (*end == '\n' || !*end)) {
			s->producer_id = id;
			s->producer_epoch = (int16_t)ep;
		} else {
			log_warn("store output %s: %s is damaged; asking for a new producer id",
				 s->id, path);
		}
	}
	buf_release(&b);
	return rc == -ENOENT ? 0 : rc;
}

static int producer_store(struct out_store *s)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%" PRId64 " %d\n", s->producer_id, s->producer_epoch);

	return fs_write_atomic(s->state_dir, "producer", line, (size_t)n);
}

static void on_producer_done(struct store_req *r, long status, const char *err)
{
	struct out_store *s = r->s;
	void (*cb)(struct out_store *, int, const char *) = s->producer_cb;
	struct jdoc *d = NULL;
	int64_t id = -1, ep = -1;
	char why[160] = "";
	int rc = -EIO;

	s->producer_pending = false;
	if (err) {
		snprintf(why, sizeof(why), "%s", err);
	} else if (status != 200 && status != 201) {
		snprintf(why, sizeof(why), "POST /v1/producers answered %ld", status);
	} else if (jdoc_parse(store_req_body(r)->data, store_req_body(r)->len, &d, NULL) == 0 &&
		   jnode_i64(jnode_get(jdoc_root(d), "producer_id"), &id) == 0 &&
		   jnode_i64(jnode_get(jdoc_root(d), "producer_epoch"), &ep) == 0 && id >= 0 &&
		   ep >= 0 && ep <= INT16_MAX) {
		s->producer_id = id;
		s->producer_epoch = (int16_t)ep;
		rc = producer_store(s);
		if (rc < 0) {
			/* Unpersisted, a restart would number from 0 under a new
			 * id: harmless, but say it. */
			log_warn("store output %s: cannot save the producer id: %s", s->id,
				 err_str(rc));
			rc = 0;
		}
		log_info("store output %s: producer id %" PRId64 " epoch %" PRId64, s->id, id, ep);
	} else {
		snprintf(why, sizeof(why), "unexpected answer to POST /v1/producers");
	}
	jdoc_free(d);
	store_req_free(r);
	if (cb)
		cb(s, rc, why);
}

void store_producer_fetch(struct out_store *s, void (*cb)(struct out_store *, int, const char *))
{
	struct store_req *r;

	s->producer_cb = cb;
	if (s->producer_pending)
		return;
	r = store_req_new(s, REQ_PRODUCER, "POST", "/v1/producers", "{}", 2, NULL,
			  on_producer_done);
	if (!r || store_req_start(r) < 0) {
		store_req_free(r);
		if (cb)
			cb(s, -ENOMEM, "cannot start a request");
		return;
	}
	s->producer_pending = true;
}

void store_producer_reset(struct out_store *s)
{
	char path[4096];

	s->producer_id = -1;
	s->producer_epoch = -1;
	snprintf(path, sizeof(path), "%s/producer", s->state_dir);
	unlink(path);
}

/* ------------------------------------------------------------ topics */

static struct store_topic *topic_find(struct out_store *s, const char *name)
{
	for (size_t i = 0; i < s->ntopics; i++)
		if (strcmp(s->topics[i].name, name) == 0)
			return &s->topics[i];
	return NULL;
}

static struct store_topic *topic_get(struct out_store *s, const char *name)
{
	struct store_topic *t = topic_find(s, name), *v;

	if (t)
		return t;
	v = mem_realloc(s->topics, (s->ntopics + 1) * sizeof(*v));
	if (!v)
		return NULL;
	s->topics = v;
	t = &s->topics[s->ntopics];
	memset(t, 0, sizeof(*t));
	t->name = mem_strdup(name);
	if (!t->name)
		return NULL;
	s->ntopics++;
	return t;
}

int32_t store_topic_partitions(struct out_store *s, const char *topic)
{
	struct store_topic *t = topic_find(s, topic);

	return t && t->partitions > 0 ? t->partitions : 1;
}

static void topics_store(struct out_store *s)
{
	struct buf b;
	int rc = 0;

	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < s->ntopics && rc == 0; i++)
		if (s->topics[i].partitions > 0)
			rc = buf_printf(&b, "%s %d\n", s->topics[i].name, s->topics[i].partitions);
	if (rc == 0)
		rc = fs_write_atomic(s->state_dir, "topics", b.data ? b.data : (const uint8_t *)"",
				     b.len);
	if (rc < 0)
		log_warn("store output %s: cannot save partition counts: %s", s->id, err_str(rc));
	buf_release(&b);
}

static void topics_load(struct out_store *s)
{
	char path[4096];
	struct buf b;

	buf_init(&b, 1 << 20);
	snprintf(path, sizeof(path), "%s/topics", s->state_dir);
	if (fs_read_file(path, &b) == 0 && buf_cstr(&b) == 0) {
		char *line = (char *)b.data, *end = line + b.len;

		while (line < end) {
			char *nl = memchr(line, '\n', (size_t)(end - line));
			char *sp;
			int64_t n;
			struct store_topic *t;

			if (nl)
				*nl = '\0';
			sp = strchr(line, ' ');
			if (sp) {
				*sp = '\0';
				if (cfg_parse_int(sp + 1, &n) == 0 && n >= 1 && n <= INT32_MAX) {
					t = topic_get(s, line);
					if (t)
						t->partitions = (int32_t)n;
				}
			}
			line = nl ? nl + 1 : end;
		}
	}
	buf_release(&b);
}

static int32_t topic_count_from(const struct buf *resp)
{
	struct jdoc *d = NULL;
	int64_t n = 0;

	if (jdoc_parse(resp->data, resp->len, &d, NULL) == 0 &&
	    jnode_i64(jnode_get(jdoc_root(d), "partition_count"), &n) < 0)
		n = 0;
	jdoc_free(d);
	return n > 0 && n <= INT32_MAX ? (int32_t)n : 0;
}

static void topic_body(struct out_store *s, char *body, size_t cap)
{
	if (s->conf->partitions > 0)
		snprintf(body, cap, "{\"partitions\":%" PRId64 "}", s->conf->partitions);
	else
		snprintf(body, cap, "{}");
}

static void on_topic_put(struct store_req *r, long status, const char *err)
{
	struct out_store *s = r->s;
	struct store_topic *t = topic_find(s, r->topic);

	if (t) {
		t->creating = false;
		if (!err && (status == 200 || status == 201)) {
			int32_t n = topic_count_from(store_req_body(r));

			log_info("store output %s: topic %s ready (%d partitions)", s->id, r->topic,
				 n);
			if (n > 0 && n != t->partitions) {
				t->partitions = n;
				topics_store(s);
			}
		}
	}
	store_req_free(r);
	output_kick(s->output);
}

void store_topic_create(struct out_store *s, const char *topic)
{
	struct store_topic *t = topic_get(s, topic);
	struct store_req *r;
	char path[512], body[64];

	if (!t || t->creating)
		return;
	topic_body(s, body, sizeof(body));
	snprintf(path, sizeof(path), "/v1/topics/%s", topic);
	r = store_req_new(s, REQ_TOPIC_PUT, "PUT", path, body, strlen(body), NULL, on_topic_put);
	if (!r)
		return;
	r->topic = mem_strdup(topic);
	if (!r->topic || store_req_start(r) < 0) {
		store_req_free(r);
		return;
	}
	t->creating = true;
}

/* Blocking, at start only (no input reads yet): learn or create a topic. */
static void topic_learn(struct out_store *s, struct store_topic *t)
{
	char path[512], body[64], hdrs[TOKEN_MAX + 64];
	int status = 0;

	snprintf(path, sizeof(path), "/v1/topics/%s", t->name);
	snprintf(hdrs, sizeof(hdrs), "Content-Type: application/json\r\n%s",
		 s->auth ? s->auth : "");
	for (int attempt = 0; attempt < 2; attempt++) {
		bool create = attempt == 1;
		struct buf resp;
		char why[192];
		int rc;

		if (create)
			topic_body(s, body, sizeof(body));
		buf_init(&resp, RESP_MAX);
		rc = http_fetch(s->base, &s->hopts, create ? "PUT" : "GET", path, hdrs,
				create ? body : NULL, create ? strlen(body) : 0, STARTUP_TIMEOUT_MS,
				&status, &resp, why, sizeof(why));
		if (rc < 0) {
			log_warn(
				"store output %s: store unreachable at start (%s); topic %s keeps %s",
				s->id, why, t->name,
				t->partitions ? "its saved partition count" : "partition 0");
			buf_release(&resp);
			return;
		}
		if (status == 200 || status == 201) {
			int32_t n = topic_count_from(&resp);

			if (n > 0)
				t->partitions = n;
			buf_release(&resp);
			return;
		}
		buf_release(&resp);
		if (status != 404 || !s->conf->create_topics)
			break;
	}
	if (status >= 400)
		log_warn("store output %s: topic %s: HTTP %d at start", s->id, t->name, status);
}

/* ------------------------------------------------------------ lifecycle */

static int load_token(struct out_store *s, struct cfg_error *err)
{
	struct buf b;
	size_t n;
	int rc;

	buf_init(&b, TOKEN_MAX);
	rc = fs_read_file(s->conf->token_file, &b);
	if (rc < 0) {
		cfg_error_at(err, NULL, "store output %s: token_file %s: %s", s->id,
			     s->conf->token_file, err_str(rc));
		goto out;
	}
	n = b.len;
	while (n && isspace(b.data[n - 1]))
		n--;
	for (size_t i = 0; i < n; i++) {
		if (b.data[i] <= ' ' || b.data[i] > '~') {
			cfg_error_at(err, NULL,
				     "store output %s: token_file %s must hold one token", s->id,
				     s->conf->token_file);
			rc = -ERR_CONFIG;
			goto out;
		}
	}
	s->auth = mem_alloc(n + 32);
	if (!s->auth) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(s->auth, n + 32, "Authorization: Bearer %.*s\r\n", (int)n, (const char *)b.data);
out:
	buf_release(&b);
	return rc;
}

int store_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct out_store *s = mem_calloc(1, sizeof(*s));
	size_t n;
	int rc = 0;

	*ctx = s;
	if (!s)
		return -ENOMEM;
	s->conf = a->conf;
	s->output = a->output;
	s->loop = a->loop;
	s->id = a->id;
	s->producer_id = -1;
	s->producer_epoch = -1;
	n = strlen(s->conf->url);
	while (n && s->conf->url[n - 1] == '/')
		n--;
	s->base = mem_strndup(s->conf->url, n);
	if (!s->base)
		return -ENOMEM;
	if (s->conf->token_file && *s->conf->token_file)
		rc = load_token(s, err);
	if (rc < 0 || a->check_only)
		return rc;
	s->state_dir = mem_strdup(a->state_dir);
	if (!s->state_dir)
		return -ENOMEM;
	s->hopts.timeout_ms = s->conf->timeout;
	s->hopts.connect_timeout_ms = s->conf->connect_timeout;
	s->hopts.max_body = RESP_MAX;
	s->hopts.ca_file = s->conf->ca_file;
	s->hopts.tls_verify = s->conf->tls_verify;
	s->hopts.cert = s->conf->cert;
	s->hopts.key = s->conf->key;
	s->hopts.user_agent = "sluice-agent/0.1";
	return http_client_new(s->loop, s->base, &s->hopts, &s->http);
}

int store_start(void *ctx)
{
	struct out_store *s = ctx;
	bool learned = false;
	int rc = producer_load(s);

	if (rc < 0)
		return rc;
	topics_load(s);
	for (size_t i = 0; i < output_topic_count(s->output); i++) {
		struct store_topic *t = topic_get(s, output_topic_at(s->output, i));
		int32_t before;

		if (!t)
			return -ENOMEM;
		before = t->partitions;
		topic_learn(s, t);
		learned |= t->partitions != before;
	}
	if (learned)
		topics_store(s);
	return 0;
}

void store_exit(void *ctx)
{
	struct out_store *s = ctx;

	if (!s)
		return;
	while (s->reqs)
		store_req_free(s->reqs);
	http_client_free(s->http);
	for (size_t i = 0; i < s->ntopics; i++)
		mem_free(s->topics[i].name);
	mem_free(s->topics);
	mem_free(s->waiting);
	mem_free(s->auth);
	mem_free(s->base);
	mem_free(s->state_dir);
	mem_free(s);
}
