/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output delivery engine.  Entries read from the spool join a FIFO window
 * (for the acknowledged watermark: everything before the first undelivered
 * entry) and, when they hold a batch, the queue of their (topic, partition)
 * lane.  A lane has at most one flush in flight so producer sequences arrive
 * in order; lanes run in parallel up to max_in_flight.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "agent/pipeline/output.h"
#include "lib/clock.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/mem.h"

#define WINDOW_MAX 4096
#define FLUSH_MAX_BATCHES 512

struct lane;

struct went {
	struct went *next;  /* window FIFO */
	struct went *lnext; /* lane queue */
	uint64_t id;
	struct spool_loc loc;
	int32_t records;
	int32_t base_seq;
	bool done;
	bool resent; /* see struct flush_batch */
};

struct oflush {
	struct flush f;
	struct went **w;
	struct lane *lane;
	bool async;
};

struct lane {
	struct hmap_node node;
	struct output *o;
	char *topic;
	int32_t partition;
	struct went *qhead;
	struct went *qtail;
	struct oflush *inflight;
	unsigned attempt;
	struct evloop_timer backoff;
	bool backing_off;
	size_t max_batches; /* cap for the next flush (0: none) */
};

static void pump(struct output *o);

static void on_kick(struct evloop_timer *t)
{
	pump(t->data);
}

/* A zero-delay timer rather than a deferred call: it can be cancelled when
 * the output is freed with a kick still pending. */
void output_kick(struct output *o)
{
	if (!o->kick.active)
		evloop_timer_start(o->loop, &o->kick, 0, 0, on_kick, o);
}

void output_wake(struct output *o)
{
	output_kick(o);
}

const char *output_id(const struct output *o)
{
	return o->conf->id;
}

void output_limit_request(struct output *o, size_t max_bytes)
{
	if (max_bytes < 4096)
		max_bytes = 4096;
	if (max_bytes < o->max_request) {
		log_warn("output %s: lowering the request size to %zu bytes", o->conf->id,
			 max_bytes);
		o->max_request = max_bytes;
	}
}

size_t output_topic_count(const struct output *o)
{
	return o->ntopics;
}

const char *output_topic_at(const struct output *o, size_t i)
{
	return i < o->ntopics ? o->topics[i] : NULL;
}

void output_add_topic(struct output *o, const char *topic)
{
	char **v;

	for (size_t i = 0; i < o->ntopics; i++)
		if (strcmp(o->topics[i], topic) == 0)
			return;
	v = mem_realloc(o->topics, (o->ntopics + 1) * sizeof(*v));
	if (!v)
		return;
	o->topics = v;
	o->topics[o->ntopics] = mem_strdup(topic);
	if (o->topics[o->ntopics])
		o->ntopics++;
}

const struct output_errors *output_errors(const struct output *o)
{
	return &o->errs;
}

static void count_error(struct output *o, const char *code)
{
	size_t i;

	if (!code || !*code)
		code = "unknown";
	for (i = 0; i < o->errs.n; i++)
		if (strcmp(o->errs.code[i], code) == 0)
			break;
	if (i == o->errs.n) {
		if (o->errs.n == OUTPUT_MAX_CODES)
			i = OUTPUT_MAX_CODES - 1; /* the last bucket absorbs the rest */
		else
			snprintf(o->errs.code[o->errs.n++], sizeof(o->errs.code[0]), "%s", code);
	}
	o->errs.count[i]++;
}

/* ------------------------------------------------------------ lanes */

static struct lane *lane_get(struct output *o, const char *topic, size_t tl, int32_t partition)
{
	uint64_t h = hmap_hash_u64(hmap_hash(HMAP_SEED, topic, tl), (uint32_t)partition);
	struct lane *l;

	for (struct hmap_node *n = hmap_first(&o->lanes, h); n; n = hmap_next(n, h)) {
		l = hmap_entry(n, struct lane, node);
		if (l->partition == partition && strlen(l->topic) == tl &&
		    memcmp(l->topic, topic, tl) == 0)
			return l;
	}
	l = mem_calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->o = o;
	l->partition = partition;
	l->topic = mem_strndup(topic, tl);
	if (!l->topic || hmap_insert(&o->lanes, &l->node, h) < 0) {
		mem_free(l->topic);
		mem_free(l);
		return NULL;
	}
	return l;
}

static void on_backoff(struct evloop_timer *t)
{
	struct lane *l = t->data;

	l->backing_off = false;
	pump(l->o);
}

static uint64_t backoff_ms(struct output *o, struct lane *l, int64_t retry_after_ms)
{
	uint64_t base = (uint64_t)o->conf->retry.initial_delay,
		 cap = (uint64_t)o->conf->retry.max_delay;
	unsigned shift = l->attempt < 30 ? l->attempt : 30;
	uint64_t d = base << shift, r = 0;

	if (d > cap || d >> shift != base)
		d = cap;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = clock_mono_ns();
	/* Half fixed, half random: agents restarted together spread out. */
	d = d / 2 + (d / 2 ? r % (d / 2 + 1) : 0);
	if (retry_after_ms > 0 && (uint64_t)retry_after_ms > d)
		d = (uint64_t)retry_after_ms;
	return d;
}

/* ------------------------------------------------------------ dead letters */

static void dead_letter(struct output *o, struct oflush *of, size_t i, const char *code,
			const char *reason)
{
	const struct flush_batch *fb = &of->f.batches[i];
	struct buf note;
	char name[64];
	bool first = true;
	int rc;

	buf_init(&note, 1 << 16);
	rc = fs_mkdirs(o->dead_dir, 0750);
	snprintf(name, sizeof(name), "%020" PRIu64 ".batch", fb->entry_id);
	if (rc == 0)
		rc = fs_write_atomic(o->dead_dir, name, of->f.body.data + fb->off, fb->len);
	rc = err_first(rc, buf_append_str(&note, "{"));
	rc = err_first(rc, json_key(&note, &first, "output"));
	rc = err_first(rc, json_cstr(&note, o->conf->id));
	rc = err_first(rc, json_key(&note, &first, "topic"));
	rc = err_first(rc, json_cstr(&note, of->f.topic));
	rc = err_first(rc, json_key(&note, &first, "partition"));
	rc = err_first(rc, json_i64(&note, of->f.partition));
	rc = err_first(rc, json_key(&note, &first, "entry_id"));
	rc = err_first(rc, json_i64(&note, (int64_t)fb->entry_id));
	rc = err_first(rc, json_key(&note, &first, "records"));
	rc = err_first(rc, json_i64(&note, fb->records));
	rc = err_first(rc, json_key(&note, &first, "base_sequence"));
	rc = err_first(rc, json_i64(&note, fb->base_sequence));
	rc = err_first(rc, json_key(&note, &first, "code"));
	rc = err_first(rc, json_cstr(&note, code ? code : "unknown"));
	rc = err_first(rc, json_key(&note, &first, "reason"));
	rc = err_first(rc, json_cstr(&note, reason ? reason : ""));
	rc = err_first(rc, json_key(&note, &first, "time_ms"));
	rc = err_first(rc, json_i64(&note, clock_wall_ms()));
	rc = err_first(rc, buf_append_str(&note, "}\n"));
	snprintf(name, sizeof(name), "%020" PRIu64 ".json", fb->entry_id);
	if (rc == 0)
		rc = fs_write_atomic(o->dead_dir, name, note.data, note.len);
	buf_release(&note);
	o->st.dead_letters++;
	o->st.dead_records += (uint64_t)fb->records;
	if (rc < 0)
		log_error("output %s: %d records of %s/%d REJECTED (%s: %s) and could not be saved "
			  "to %s: %s",
			  o->conf->id, fb->records, of->f.topic, of->f.partition, code ? code : "?",
			  reason ? reason : "", o->dead_dir, err_str(rc));
	else
		log_error(
			"output %s: %d records of %s/%d rejected (%s: %s); saved in %s/%020" PRIu64
			".batch",
			o->conf->id, fb->records, of->f.topic, of->f.partition, code ? code : "?",
			reason ? reason : "", o->dead_dir, fb->entry_id);
}

/* ------------------------------------------------------------ flushes */

static void oflush_free(struct oflush *of)
{
	if (!of)
		return;
	buf_release(&of->f.body);
	mem_free(of->f.batches);
	mem_free(of->w);
	mem_free(of);
}

static void requeue_front(struct lane *l, struct went **w, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		w[i]->resent = true;
		w[i]->lnext = l->qhead;
		l->qhead = w[i];
		if (!l->qtail)
			l->qtail = w[i];
	}
}

static void complete(struct output *o, struct oflush *of, enum flush_result r, size_t nacked,
		     const char *code, const char *reason, int64_t retry_after_ms)
{
	struct lane *l = of->lane;
	size_t n = of->f.nbatches, from;

	if (l->inflight == of) {
		l->inflight = NULL;
		o->inflight--;
	}
	if (nacked > n)
		nacked = n;
	l->max_batches = of->f.next_max_batches;
	for (size_t i = 0; i < nacked; i++) {
		of->w[i]->done = true;
		o->st.batches++;
		o->st.records += (uint64_t)of->f.batches[i].records;
		o->st.bytes += of->f.batches[i].len;
	}
	from = nacked;
	if (r == FLUSH_ERROR && nacked < n) {
		count_error(o, code);
		dead_letter(o, of, nacked, code, reason);
		of->w[nacked]->done = true;
		from = nacked + 1;
		l->attempt = 0;
	} else if (r == FLUSH_RETRY || r == FLUSH_ASYNC) {
		count_error(o, code);
		o->st.retries++;
		if (!o->stopping) {
			uint64_t d = backoff_ms(o, l, retry_after_ms);

			log_write_rl(&o->rl, 10000, LOG_LVL_WARN,
				     "output %s: %s/%d: %s%s%s; retrying in %" PRIu64
				     " ms (attempt %u)",
				     o->conf->id, of->f.topic, of->f.partition,
				     code ? code : "error", reason && *reason ? ": " : "",
				     reason ? reason : "", d, l->attempt + 1);
			l->attempt++;
			l->backing_off = true;
			evloop_timer_start(o->loop, &l->backoff, d, 0, on_backoff, l);
		}
	} else {
		l->attempt = 0;
	}
	requeue_front(l, of->w + from, n - from);
	oflush_free(of);
	output_kick(o);
}

void output_flush_done(struct output *o, struct flush *f, enum flush_result r, size_t nacked,
		       const char *code, const char *reason, int64_t retry_after_ms)
{
	complete(o, (struct oflush *)f, r, nacked, code, reason, retry_after_ms);
}

static void start_flush(struct output *o, struct lane *l)
{
	struct oflush *of = mem_calloc(1, sizeof(*of));
	size_t cap = 0, n = 0;
	enum flush_result r;

	if (!of)
		return;
	for (struct went *w = l->qhead; w && cap < FLUSH_MAX_BATCHES; w = w->lnext)
		cap++;
	if (l->max_batches && cap > l->max_batches)
		cap = l->max_batches;
	l->max_batches = 0;
	of->w = mem_calloc(cap, sizeof(*of->w));
	of->f.batches = mem_calloc(cap, sizeof(*of->f.batches));
	buf_init(&of->f.body, BATCH_MAX_SIZE + o->max_request);
	if (!of->w || !of->f.batches) {
		oflush_free(of);
		return;
	}
	of->lane = l;
	of->f.topic = l->topic;
	of->f.partition = l->partition;
	of->f.attempt = l->attempt;
	while (l->qhead && n < cap) {
		struct went *w = l->qhead;
		size_t off = of->f.body.len;
		struct batch_info bi;
		int rc;

		if (n > 0 && off + w->loc.len > o->max_request)
			break;
		l->qhead = w->lnext;
		if (!l->qhead)
			l->qtail = NULL;
		w->lnext = NULL;
		rc = spool_read_batch(o->spool, &w->loc, &of->f.body);
		/* the batch builder wrote these records; the CRC over them is
		 * what tells whether the disk returned what it was given */
		if (rc == 0)
			rc = batch_validate_head(of->f.body.data + off, w->loc.len, &bi);
		if (rc < 0) {
			/* The spool entry's CRC was fine when it was written:
			 * this is the disk failing.  The bytes are unusable;
			 * say so loudly and move on. */
			log_error("output %s: spool entry %" PRIu64 " of %s/%d unreadable (%s); %d "
				  "records lost",
				  o->conf->id, w->id, l->topic, l->partition, err_str(rc),
				  w->records);
			of->f.body.len = off;
			o->st.lost_entries++;
			w->done = true;
			continue;
		}
		of->w[n] = w;
		of->f.batches[n].off = off;
		of->f.batches[n].len = w->loc.len;
		of->f.batches[n].records = bi.count;
		of->f.batches[n].base_sequence = bi.base_sequence;
		of->f.batches[n].entry_id = w->id;
		of->f.batches[n].resent = w->resent;
		n++;
	}
	of->f.nbatches = n;
	if (n == 0) {
		oflush_free(of);
		output_kick(o);
		return;
	}
	l->inflight = of;
	o->inflight++;
	o->st.flushes++;
	of->async = true;
	r = o->plugin->flush(o->ctx, &of->f);
	/* ASYNC: of may already be completed and freed by the plugin. */
	if (r != FLUSH_ASYNC) {
		of->async = false;
		complete(o, of, r, r == FLUSH_OK ? of->f.nbatches : 0,
			 r == FLUSH_OK ? NULL : "flush_failed", NULL, 0);
	}
}

/* ------------------------------------------------------------ pump */

static void read_ahead(struct output *o)
{
	struct spool_entry e;
	struct spool_loc loc;

	while (o->wcount < WINDOW_MAX) {
		struct spool_cursor save = o->cur;
		struct went *w;
		struct lane *l = NULL;
		int rc = spool_read(o->spool, &o->cur, &o->scratch, &e, &loc, true);

		if (rc == 0)
			break;
		if (rc == -ERR_CORRUPT) {
			o->st.lost_entries++;
			continue;
		}
		if (rc < 0) {
			log_write_rl(&o->rl, 10000, LOG_LVL_ERROR,
				     "output %s: reading the spool: %s", o->conf->id, err_str(rc));
			break;
		}
		if (e.type == SPOOL_BATCH) {
			l = lane_get(o, e.topic, e.topic_len, e.partition);
			if (!l) {
				o->cur = save; /* read it again later */
				break;
			}
		}
		w = mem_calloc(1, sizeof(*w));
		if (!w) {
			o->cur = save;
			break;
		}
		w->id = e.id;
		w->loc = loc;
		w->done = e.type != SPOOL_BATCH;
		w->resent = e.id < o->first_new_id;
		if (l) {
			struct batch_info bi;

			if (batch_header_parse(e.batch, e.batch_len, &bi) == 0) {
				w->records = bi.count;
				w->base_seq = bi.base_sequence;
			}
			if (l->qtail)
				l->qtail->lnext = w;
			else
				l->qhead = w;
			l->qtail = w;
		}
		if (o->wtail)
			o->wtail->next = w;
		else
			o->whead = w;
		o->wtail = w;
		o->wcount++;
	}
}

static void advance_ack(struct output *o)
{
	uint64_t upto;

	while (o->whead && o->whead->done) {
		struct went *w = o->whead;

		o->whead = w->next;
		if (!o->whead)
			o->wtail = NULL;
		o->wcount--;
		mem_free(w);
	}
	upto = o->whead ? o->whead->id : o->cur.id;
	spool_ack(o->spool, upto);
}

static void pump(struct output *o)
{
	struct hmap_iter it;
	struct hmap_node *n;

	if (!o->started)
		return;
	if (!o->stopping) {
		read_ahead(o);
		hmap_iter_init(&o->lanes, &it);
		while ((n = hmap_iter_next(&o->lanes, &it)) != NULL &&
		       o->inflight < (size_t)o->conf->max_in_flight) {
			struct lane *l = hmap_entry(n, struct lane, node);

			if (!l->inflight && !l->backing_off && l->qhead)
				start_flush(o, l);
		}
	}
	advance_ack(o);
	o->st.in_flight = o->inflight;
}

/* ------------------------------------------------------------ lifecycle */

int output_new(const struct agent_config *c, size_t idx, struct evloop *loop, bool check_only,
	       bool reload, struct output **out, struct cfg_error *err)
{
	const struct output_conf *oc = &c->outputs[idx];
	struct output *o = mem_calloc(1, sizeof(*o));
	struct plugin_args a;
	char path[4096];
	int rc;

	*out = NULL;
	if (!o)
		return -ENOMEM;
	o->idx = idx;
	o->conf = oc;
	o->plugin = oc->plugin;
	o->loop = loop;
	o->max_request = oc->max_request_bytes;
	o->cap = c->agent.buffer.max_bytes;
	hmap_init(&o->lanes);
	buf_init(&o->scratch, SPOOL_MAX_ENTRY);
	snprintf(path, sizeof(path), "%s/spool/%s", c->agent.data_dir, oc->id);
	o->spool_dir = mem_strdup(path);
	snprintf(path, sizeof(path), "%s/dead-letter/%s", c->agent.data_dir, oc->id);
	o->dead_dir = mem_strdup(path);
	if (!o->spool_dir || !o->dead_dir) {
		rc = -ENOMEM;
		goto fail;
	}
	if (!check_only) {
		struct spool_opts so = {.segment_bytes = agent_settings_segment_bytes(&c->agent)};

		rc = spool_open(o->spool_dir, &so, &o->spool, &o->spool_fresh);
		if (rc < 0) {
			cfg_error_at(err, oc->node, "outputs[%zu]: cannot open the spool %s: %s",
				     idx, o->spool_dir, err_str(rc));
			goto fail;
		}
		spool_cursor_start(o->spool, &o->cur);
		o->first_new_id = spool_durable_id(o->spool);
	}
	memset(&a, 0, sizeof(a));
	a.id = oc->id;
	a.conf = oc->pconf;
	a.loop = loop;
	a.host = c->agent.name;
	a.data_dir = c->agent.data_dir;
	a.state_dir = o->spool_dir;
	a.output = o;
	a.codec = oc->compression;
	a.codec_level = (int)oc->compression_level;
	a.check_only = check_only;
	a.reload = reload;
	rc = oc->plugin->init(&a, &o->ctx, err);
	if (rc < 0) {
		if (!err->msg[0])
			cfg_error_at(err, oc->node, "outputs[%zu]: %s: %s", idx, oc->type,
				     err_str(rc));
		goto fail;
	}
	*out = o;
	return 0;
fail:
	output_free(o);
	return rc;
}

/* The spool's codec and level (spool_compression, see struct plugin's
 * sends_batches). */
static int spool_codec(const struct output_conf *oc, int *level)
{
	int codec;

	if (oc->spool_compression > 0)
		codec = oc->spool_compression - 1;
	else if (oc->plugin->sends_batches || oc->compression == CODEC_NONE)
		codec = oc->compression;
	else
		codec = CODEC_LZ4;
	*level = codec == oc->compression ? (int)oc->compression_level : 0;
	return codec;
}

static int32_t partitions_cb(void *arg, const char *topic)
{
	struct output *o = arg;
	int32_t n = o->plugin->partitions ? o->plugin->partitions(o->ctx, topic) : 1;

	return n > 0 ? n : 1;
}

int output_attach(struct output *o, struct writer *w, void (*submit)(struct job *, void *),
		  void *arg)
{
	const struct output_conf *oc = o->conf;
	int level;
	int codec = spool_codec(oc, &level);
	struct batcher_opts bo = {
		.max_bytes = oc->batch.max_bytes,
		.max_records = oc->batch.max_records,
		.max_delay_ms = oc->batch.max_delay_ms,
		.codec = codec,
		.level = level,
		.out_idx = o->idx,
		.owner = o,
		.spool = o->spool,
		.partitions = partitions_cb,
		.partitions_arg = o,
		.submit = submit,
		.submit_arg = arg,
		.writer = w,
	};

	return batcher_new(o->loop, &bo, spool_table(o->spool), &o->bt);
}

int output_start(struct output *o)
{
	int rc = o->plugin->start ? o->plugin->start(o->ctx) : 0;

	if (rc < 0)
		return rc;
	o->started = true;
	output_kick(o);
	return 0;
}

void output_stop(struct output *o)
{
	struct hmap_iter it;
	struct hmap_node *n;

	if (o->stopping)
		return;
	o->stopping = true;
	hmap_iter_init(&o->lanes, &it);
	while ((n = hmap_iter_next(&o->lanes, &it)) != NULL) {
		struct lane *l = hmap_entry(n, struct lane, node);

		if (l->backing_off) {
			evloop_timer_stop(&l->backoff);
			l->backing_off = false;
		}
		if (l->inflight) {
			struct oflush *of = l->inflight;

			if (of->async && o->plugin->cancel)
				o->plugin->cancel(o->ctx, &of->f);
			complete(o, of, FLUSH_RETRY, 0, "cancelled", "shutting down", 0);
		}
	}
}

bool output_drained(struct output *o)
{
	return o->inflight == 0 && o->pending_jobs == 0 && !o->whead &&
	       o->cur.id >= spool_durable_id(o->spool);
}

void output_free(struct output *o)
{
	struct hmap_iter it;
	struct hmap_node *n;

	if (!o)
		return;
	if (o->started)
		output_stop(o);
	if (o->kick.active)
		evloop_timer_stop(&o->kick);
	if (o->ctx && o->plugin->exit)
		o->plugin->exit(o->ctx);
	hmap_iter_init(&o->lanes, &it);
	while ((n = hmap_iter_next(&o->lanes, &it)) != NULL) {
		struct lane *l = hmap_entry(n, struct lane, node);

		hmap_remove(&o->lanes, n);
		if (l->backing_off)
			evloop_timer_stop(&l->backoff);
		mem_free(l->topic);
		mem_free(l);
	}
	hmap_release(&o->lanes);
	while (o->whead) {
		struct went *w = o->whead;

		o->whead = w->next;
		mem_free(w);
	}
	batcher_free(o->bt);
	spool_free(o->spool);
	buf_release(&o->scratch);
	for (size_t i = 0; i < o->ntopics; i++)
		mem_free(o->topics[i]);
	mem_free(o->topics);
	mem_free(o->spool_dir);
	mem_free(o->dead_dir);
	mem_free(o);
}
