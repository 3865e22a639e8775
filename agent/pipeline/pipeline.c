/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pipeline: construction and recovery, the input-side plugin API, routing
 * of events to the outputs' batchers, job completion (positions become
 * durable, committed ordinals move), and pause control.
 */
#include <inttypes.h>
#include <string.h>

#include "agent/pipeline/pipeline_int.h"
#include "agent/spool/spool_entry.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/mem.h"

#define TICK_MS 250

static uint64_t key_hash(const char *input, const char *ident)
{
	uint64_t h = hmap_hash(HMAP_SEED, input, strlen(input));

	h = hmap_hash(h, "\0", 1);
	return hmap_hash(h, ident, strlen(ident));
}

/* ------------------------------------------------------------ resume */

static struct resume_ent *resume_find(const struct pipeline *pl, const char *input,
				      const char *ident)
{
	uint64_t h = key_hash(input, ident);

	for (struct hmap_node *n = hmap_first(&pl->resume, h); n; n = hmap_next(n, h)) {
		struct resume_ent *e = hmap_entry(n, struct resume_ent, node);

		if (strcmp(e->input, input) == 0 && strcmp(e->ident, ident) == 0)
			return e;
	}
	return NULL;
}

static void resume_free(struct resume_ent *e)
{
	mem_free(e->input);
	mem_free(e->ident);
	mem_free(e->meta);
	mem_free(e->known);
	mem_free(e->ordinal);
	mem_free(e);
}

static struct input *input_by_id(const struct pipeline *pl, const char *id)
{
	for (size_t i = 0; i < pl->ninputs; i++)
		if (strcmp(pl->inputs[i]->conf->id, id) == 0)
			return pl->inputs[i];
	return NULL;
}

static bool routes(const struct input *in, size_t oi)
{
	for (size_t r = 0; r < in->nroutes; r++)
		if (in->routes[r] == oi)
			return true;
	return false;
}

/* Collect every output's view of every source of the configured inputs. */
static int resume_collect(struct pipeline *pl)
{
	for (size_t oi = 0; oi < pl->noutputs; oi++) {
		const struct spool_table *t = spool_table(pl->outputs[oi]->spool);
		struct hmap_iter it;
		struct hmap_node *n;

		hmap_iter_init(&t->pos, &it);
		while ((n = hmap_iter_next(&t->pos, &it)) != NULL) {
			const struct spool_tpos *p = hmap_entry(n, struct spool_tpos, node);
			struct input *in = input_by_id(pl, p->input);
			struct resume_ent *e;

			if (!in || !routes(in, oi))
				continue;
			e = resume_find(pl, p->input, p->ident);
			if (!e) {
				e = mem_calloc(1, sizeof(*e));
				if (!e)
					return -ENOMEM;
				e->input = mem_strdup(p->input);
				e->ident = mem_strdup(p->ident);
				e->known = mem_calloc(pl->noutputs, sizeof(*e->known));
				e->ordinal = mem_calloc(pl->noutputs, sizeof(*e->ordinal));
				e->r.finished = true;
				e->r.ordinal = UINT64_MAX;
				if (!e->input || !e->ident || !e->known || !e->ordinal ||
				    hmap_insert(&pl->resume, &e->node,
						key_hash(p->input, p->ident)) < 0) {
					resume_free(e);
					return -ENOMEM;
				}
			}
			e->known[oi] = true;
			e->ordinal[oi] = p->ordinal;
			e->origin = p->origin;
			if (!(p->flags & SPOOL_POS_FINISHED))
				e->r.finished = false;
			/* The meta recorded with the smallest ordinal is where the
			 * input resumes. */
			if (p->ordinal < e->r.ordinal || !e->meta) {
				uint8_t *m = p->meta_len ? mem_alloc(p->meta_len) : NULL;

				if (p->meta_len && !m)
					return -ENOMEM;
				if (m)
					memcpy(m, p->meta, p->meta_len);
				mem_free(e->meta);
				e->meta = m;
				e->r.meta = m;
				e->r.meta_len = p->meta_len;
			}
			if (p->ordinal < e->r.ordinal)
				e->r.ordinal = p->ordinal;
		}
	}
	return 0;
}

/* An output that took the input before but lacks a source never made its
 * registration durable: it needs the source from where it was picked up. */
static int resume_finish(struct pipeline *pl)
{
	struct hmap_iter it;
	struct hmap_node *n;

	hmap_iter_init(&pl->resume, &it);
	while ((n = hmap_iter_next(&pl->resume, &it)) != NULL) {
		struct resume_ent *e = hmap_entry(n, struct resume_ent, node);
		struct input *in = input_by_id(pl, e->input);
		struct resume_ent **v;

		for (size_t r = 0; r < in->nroutes; r++) {
			struct output *o = pl->outputs[in->routes[r]];

			if (e->known[o->idx] || o->spool_fresh ||
			    !spool_table_routes_input(spool_table(o->spool), e->input))
				continue;
			if (e->origin < e->r.ordinal)
				e->r.ordinal = e->origin;
			e->r.finished = false;
		}
		v = mem_realloc(in->resumes, (in->nresumes + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		in->resumes = v;
		in->resumes[in->nresumes++] = e;
	}
	return 0;
}

/* Write a ROUTES entry where the output's recorded inputs differ from the
 * configuration, durably, before any source of a new route is read. */
static int write_routes(struct pipeline *pl, struct output *o)
{
	const struct spool_table *t = spool_table(o->spool);
	struct buf items;
	uint32_t n = 0;
	bool same = t->have_routes;
	uint64_t id;
	int rc = 0;

	buf_init(&items, 1 << 20);
	for (size_t i = 0; i < pl->ninputs; i++) {
		const struct input *in = pl->inputs[i];

		if (!routes(in, o->idx))
			continue;
		if (!spool_table_routes_input(t, in->conf->id))
			same = false;
		rc = spool_route_encode(&items, in->conf->id, strlen(in->conf->id));
		if (rc < 0)
			goto out;
		n++;
	}
	if (same && n == t->nroutes)
		goto out;
	rc = spool_append(o->spool, SPOOL_ROUTES, NULL, 0, items.data, items.len, n, NULL, 0, &id);
	while (rc == 0 && spool_dirty(o->spool))
		rc = spool_sync(o->spool, true) < 0 ? -EIO : 0;
out:
	buf_release(&items);
	return rc;
}

/* ------------------------------------------------------------ jobs */

static void update_pause(struct pipeline *pl);
static size_t mem_in_use(const struct pipeline *pl);
static void on_progress(void *arg);

static void recompute_committed(struct source *s)
{
	uint64_t c = UINT64_MAX;
	struct input *in = s->in;

	for (size_t i = 0; i < s->nout; i++)
		if (s->out[i].routed && s->out[i].durable < c)
			c = s->out[i].durable;
	if (c == UINT64_MAX || c <= s->committed)
		return;
	s->committed = c;
	if (s->open && in && in->started && !in->exited && in->plugin->committed)
		in->plugin->committed(in->ctx, s, c);
}

static void job_done(struct job *j, void *arg)
{
	struct pipeline *pl = arg;
	struct output *o = j->owner;

	o->pending_jobs--;
	o->pending_bytes -= j->spool_mem;
	for (size_t i = 0; i < j->nsrcs; i++) {
		struct source *s = j->srcs[i].src;
		struct source_out *so = &s->out[o->idx];

		if (j->rc == 0 && j->srcs[i].ordinal > so->durable) {
			so->durable = j->srcs[i].ordinal;
			recompute_committed(s);
		}
		source_unref(s);
	}
	j->nsrcs = 0;
	if (j->rc == 0)
		output_wake(o);
	else
		pl->jobs_cancelled++;
	job_free(j);
	/* The spool grew: check its cap now rather than at the next tick, so
	 * it overshoots by at most what is queued. */
	if (!o->full && spool_bytes(o->spool) + o->pending_bytes >= o->cap)
		update_pause(pl);
}

static size_t mem_in_use(const struct pipeline *pl)
{
	size_t m = pl->writer ? writer_queued(pl->writer) : 0;

	for (size_t i = 0; i < pl->noutputs; i++)
		if (pl->outputs[i]->bt)
			m += batcher_mem(pl->outputs[i]->bt);
	return m;
}

static void on_progress(void *arg)
{
	update_pause(arg);
}

static void job_submit(struct job *j, void *arg)
{
	struct pipeline *pl = arg;
	struct output *o = j->owner;

	o->pending_jobs++;
	j->spool_mem = j->mem + j->items.len;
	o->pending_bytes += j->spool_mem;
	writer_submit(pl->writer, j);
	if ((!pl->mem_paused && writer_queued(pl->writer) >= pl->mem_high) ||
	    (!o->full && spool_bytes(o->spool) + o->pending_bytes >= o->cap))
		update_pause(pl);
}

/* ------------------------------------------------------------ pause */

static void set_pause(struct input *in, unsigned reasons)
{
	bool want = reasons != 0;

	in->pause = reasons;
	if (!in->started || in->exited || want == in->plugin_paused)
		return;
	in->plugin_paused = want;
	if (want) {
		in->pauses++;
		in->paused_since_ms = evloop_now(in->pl->loop);
		if (in->plugin->pause)
			in->plugin->pause(in->ctx);
	} else if (in->plugin->resume) {
		in->plugin->resume(in->ctx);
	}
}

static void update_pause(struct pipeline *pl)
{
	size_t mem = mem_in_use(pl);

	if (pl->mem_paused && mem <= pl->mem_low) {
		pl->mem_paused = false;
	} else if (!pl->mem_paused && mem >= pl->mem_high) {
		pl->mem_paused = true;
		pl->mem_pauses++;
		log_write_rl(&pl->rl_mem, 60000, LOG_LVL_DEBUG,
			     "inputs paused: %zu bytes of batches waiting to be compressed "
			     "(buffer.max_memory)",
			     mem);
	}
	if (pl->mem_paused && pl->writer)
		writer_want_progress(pl->writer, pl->mem_low);
	for (size_t oi = 0; oi < pl->noutputs; oi++) {
		struct output *o = pl->outputs[oi];
		struct spool_stats st;
		uint64_t used;

		spool_get_stats(o->spool, &st);
		/* What is queued for it lands there next: count it now. */
		used = st.bytes + o->pending_bytes;
		/* Hysteresis of half a segment: space frees a segment at a time.
		 * With nothing left to deliver the spool cannot shrink further
		 * (its last segment stays): it is not full then, whatever its
		 * size, or a tiny cap could pause the inputs for good. */
		if (o->full && st.entries_pending == 0) {
			o->full = false;
			log_info("output %s: spool delivered; inputs resume", o->conf->id);
		} else if (!o->full && used >= o->cap &&
			   (st.entries_pending > 0 || o->pending_jobs > 0)) {
			o->full = true;
			log_write_rl(&pl->rl_full, 30000, LOG_LVL_WARN,
				     "output %s: spool full (%" PRIu64
				     " bytes, buffer.max_bytes); the "
				     "inputs feeding it pause until it drains",
				     o->conf->id, used);
		} else if (o->full &&
			   used + agent_settings_segment_bytes(&pl->conf->agent) / 2 <= o->cap) {
			o->full = false;
			log_info("output %s: spool below its cap again; inputs resume",
				 o->conf->id);
		}
	}
	for (size_t i = 0; i < pl->ninputs; i++) {
		struct input *in = pl->inputs[i];
		unsigned r = 0;

		if (pl->stopping)
			r |= PAUSE_STOP;
		if (pl->mem_paused)
			r |= PAUSE_MEMORY;
		for (size_t k = 0; k < in->nroutes; k++)
			if (pl->outputs[in->routes[k]]->full)
				r |= PAUSE_SPOOL;
		set_pause(in, r);
	}
}

static void on_tick(struct evloop_timer *t)
{
	update_pause(t->data);
	pipeline_health_update(t->data);
}

/* ------------------------------------------------------------ input API */

const char *input_id(const struct input *in)
{
	return in->conf->id;
}

const char *input_topic(const struct input *in)
{
	return in->conf->topic;
}

bool input_paused(const struct input *in)
{
	return in->pause != 0;
}

const struct source_resume *input_resume_find(const struct input *in, const char *ident)
{
	const struct resume_ent *e = resume_find(in->pl, in->conf->id, ident);

	return e ? &e->r : NULL;
}

const struct source_resume *input_resume_at(const struct input *in, size_t i, const char **ident)
{
	if (i >= in->nresumes)
		return NULL;
	*ident = in->resumes[i]->ident;
	return &in->resumes[i]->r;
}

static struct source *open_find(const struct pipeline *pl, const char *input, const char *ident)
{
	uint64_t h = key_hash(input, ident);

	for (struct hmap_node *n = hmap_first(&pl->sources, h); n; n = hmap_next(n, h)) {
		struct source *s = hmap_entry(n, struct source, node);

		if (strcmp(s->input_id, input) == 0 && strcmp(s->ident, ident) == 0)
			return s;
	}
	return NULL;
}

struct source *input_source_open(struct input *in, const struct source_desc *d)
{
	struct pipeline *pl = in->pl;
	const struct resume_ent *e = resume_find(pl, in->conf->id, d->ident);
	struct source *s;

	if (open_find(pl, in->conf->id, d->ident)) {
		log_error("input %s: source %s opened twice", in->conf->id, d->ident);
		return NULL;
	}
	s = source_new(in, in->conf->id, pl->conf->agent.name, d->ident, d->name, pl->noutputs);
	if (!s)
		return NULL;
	if (source_set_meta(s, d->meta, d->meta_len) < 0 ||
	    hmap_insert(&pl->sources, &s->node, key_hash(in->conf->id, d->ident)) < 0) {
		source_unref(s);
		return NULL;
	}
	s->open = true;
	s->ordinal = d->ordinal;
	s->origin = e ? e->origin : d->ordinal;
	s->committed = d->ordinal;
	for (size_t r = 0; r < in->nroutes; r++) {
		struct output *o = pl->outputs[in->routes[r]];
		struct source_out *so = &s->out[o->idx];

		so->routed = true;
		if (e && e->known[o->idx]) {
			so->known = true;
			so->skip = so->durable = so->pos = e->ordinal[o->idx];
		} else {
			/* Register it, so a restart knows where it began. */
			so->durable = so->pos = d->ordinal;
			if (batcher_register(o->bt, s, d->ordinal) < 0)
				log_error("input %s: cannot register %s: out of memory",
					  in->conf->id, d->ident);
		}
	}
	s->committed = UINT64_MAX;
	for (size_t r = 0; r < in->nroutes; r++) {
		uint64_t du = s->out[in->routes[r]].durable;

		if (du < s->committed)
			s->committed = du;
	}
	if (s->committed == UINT64_MAX)
		s->committed = d->ordinal;
	in->sources_open++;
	return s;
}

int input_source_meta(struct input *in, struct source *s, const void *meta, size_t len)
{
	(void)in;
	return source_set_meta(s, meta, len);
}

static void advance(struct input *in, struct source *s, uint64_t ordinal, const void *meta,
		    size_t meta_len);

static int run_filters(struct input *in, struct source *s, struct event *ev)
{
	buf_reset(&in->scratch);
	for (size_t i = 0; i < in->nfilters; i++) {
		struct filter_inst *f = &in->filters[i];

		if (f->conf->plugin->filter(f->ctx, ev, &in->scratch) == FILTER_DROP) {
			f->dropped++;
			in->dropped++;
			advance(in, s, ev->ordinal, ev->meta, ev->meta_len);
			return 1;
		}
	}
	return 0;
}

int input_emit(struct input *in, struct source *s, const struct event *ev)
{
	struct pipeline *pl = in->pl;
	struct event fev;
	int rc = 0;

	if (in->nfilters) {
		fev = *ev;
		fev.source = s;
		if (run_filters(in, s, &fev) > 0)
			return 0;
		ev = &fev;
	}
	for (size_t r = 0; r < in->nroutes; r++) {
		struct output *o = pl->outputs[in->routes[r]];
		int orc;

		if (ev->ordinal <= s->out[o->idx].skip)
			continue; /* this output spooled it before the restart */
		orc = batcher_add(o->bt, s, in->conf->topic, ev);
		if (orc < 0) {
			in->errors++;
			rc = orc;
			log_write_rl(
				&in->rl, 10000, LOG_LVL_ERROR,
				"input %s: cannot batch a record of %zu bytes from %s for %s: %s",
				in->conf->id, ev->value_len, s->name, o->conf->id, err_str(orc));
		}
	}
	if (ev->ordinal > s->ordinal)
		s->ordinal = ev->ordinal;
	in->records++;
	in->bytes += ev->value_len;
	return rc;
}

static void advance(struct input *in, struct source *s, uint64_t ordinal, const void *meta,
		    size_t meta_len)
{
	struct pipeline *pl = in->pl;

	for (size_t r = 0; r < in->nroutes; r++) {
		struct output *o = pl->outputs[in->routes[r]];

		if (ordinal <= s->out[o->idx].skip)
			continue;
		if (batcher_position_meta(o->bt, s, ordinal, 0, meta, meta_len) < 0)
			in->errors++;
	}
	if (ordinal > s->ordinal)
		s->ordinal = ordinal;
}

void input_source_advance(struct input *in, struct source *s, uint64_t ordinal)
{
	advance(in, s, ordinal, NULL, 0);
}

static void on_done(struct evloop_timer *t)
{
	struct pipeline *pl = t->data;

	if (pl->done_cb && !pl->stopping)
		pl->done_cb(pl->done_arg);
}

void input_done(struct input *in)
{
	struct pipeline *pl = in->pl;

	in->done = true;
	for (size_t i = 0; i < pl->ninputs; i++)
		if (!pl->inputs[i]->done)
			return;
	if (pl->loop && !pl->done_timer.active)
		evloop_timer_start(pl->loop, &pl->done_timer, 0, 0, on_done, pl);
}

void pipeline_on_inputs_done(struct pipeline *pl, void (*cb)(void *arg), void *arg)
{
	pl->done_cb = cb;
	pl->done_arg = arg;
}

static void source_close(struct pipeline *pl, struct source *s)
{
	if (!s->open)
		return;
	s->open = false;
	s->in->sources_open--;
	hmap_remove(&pl->sources, &s->node);
	source_unref(s);
}

void input_source_finish(struct input *in, struct source *s)
{
	struct pipeline *pl = in->pl;

	for (size_t r = 0; r < in->nroutes; r++) {
		struct output *o = pl->outputs[in->routes[r]];
		uint64_t at = s->ordinal > s->out[o->idx].skip ? s->ordinal : s->out[o->idx].skip;

		if (batcher_position(o->bt, s, at, SPOOL_POS_FINISHED) < 0)
			in->errors++;
	}
	source_close(pl, s);
}

void input_forget(struct input *in, const char *ident)
{
	struct pipeline *pl = in->pl;

	if (open_find(pl, in->conf->id, ident))
		return; /* still open: forgetting it would lose its position */
	for (size_t r = 0; r < in->nroutes; r++) {
		struct output *o = pl->outputs[in->routes[r]];

		if (batcher_forget(o->bt, in->conf->id, ident) < 0)
			in->errors++;
	}
}

uint64_t source_ordinal(const struct source *s)
{
	return s->ordinal;
}

uint64_t source_committed(const struct source *s)
{
	return s->committed;
}

const char *source_ident(const struct source *s)
{
	return s->ident;
}

const char *source_name(const struct source *s)
{
	return s->name;
}

/* ------------------------------------------------------------ lifecycle */

static int input_new(struct pipeline *pl, size_t idx, bool check_only, struct input **out,
		     struct cfg_error *err)
{
	const struct input_conf *ic = &pl->conf->inputs[idx];
	struct input *in = mem_calloc(1, sizeof(*in));
	struct plugin_args a;
	int rc;

	*out = in;
	if (!in)
		return -ENOMEM;
	in->pl = pl;
	in->idx = idx;
	in->conf = ic;
	in->plugin = ic->plugin;
	buf_init(&in->scratch, 64 << 20);
	in->routes = mem_calloc(pl->conf->noutputs ? pl->conf->noutputs : 1, sizeof(*in->routes));
	in->filters = mem_calloc(ic->nfilters ? ic->nfilters : 1, sizeof(*in->filters));
	if (!in->routes || !in->filters)
		return -ENOMEM;
	for (size_t oi = 0; oi < pl->conf->noutputs; oi++)
		if (output_conf_takes(&pl->conf->outputs[oi], ic->id))
			in->routes[in->nroutes++] = oi;
	memset(&a, 0, sizeof(a));
	a.loop = pl->loop;
	a.host = pl->conf->agent.name;
	a.data_dir = pl->conf->agent.data_dir;
	a.input = in;
	a.check_only = check_only;
	a.reload = pl->reload;
	for (size_t i = 0; i < ic->nfilters; i++) {
		struct filter_inst *f = &in->filters[i];

		f->conf = &ic->filters[i];
		a.id = ic->id;
		a.conf = f->conf->pconf;
		rc = f->conf->plugin->init(&a, &f->ctx, err);
		in->nfilters = i + 1;
		if (rc < 0) {
			/* Point at the filter's own mapping in the file. */
			char why[sizeof(err->msg)];
			const char *w = err->msg[0] ? err->msg : err_str(rc);
			size_t fi = i - (ic->filters[0].plugin->kind == PLUGIN_PARSER ? 1 : 0);

			if (strncmp(w, "config: ", 8) == 0)
				w += 8;
			snprintf(why, sizeof(why), "%s", w);
			if (f->conf->plugin->kind == PLUGIN_PARSER)
				cfg_error_at(err, f->conf->node, "inputs[%zu].parser: %s", idx,
					     why);
			else
				cfg_error_at(err, f->conf->node, "inputs[%zu].filters[%zu]: %s",
					     idx, fi, why);
			return rc;
		}
	}
	a.id = ic->id;
	a.conf = ic->pconf;
	rc = ic->plugin->init(&a, &in->ctx, err);
	if (rc < 0 && !err->msg[0])
		cfg_error_at(err, ic->node, "inputs[%zu]: %s: %s", idx, ic->type, err_str(rc));
	return rc;
}

static void input_exit(struct pipeline *pl, struct input *in)
{
	struct hmap_iter it;
	struct hmap_node *n;

	if (in->exited)
		return;
	in->exited = true;
	if (in->ctx && in->plugin->exit)
		in->plugin->exit(in->ctx);
	in->ctx = NULL;
	for (size_t i = 0; i < in->nfilters; i++) {
		if (in->filters[i].ctx && in->filters[i].conf->plugin->exit)
			in->filters[i].conf->plugin->exit(in->filters[i].ctx);
		in->filters[i].ctx = NULL;
	}
	/* Sources the input still held close without moving: they resume from
	 * their committed ordinal. */
	hmap_iter_init(&pl->sources, &it);
	while ((n = hmap_iter_next(&pl->sources, &it)) != NULL) {
		struct source *s = hmap_entry(n, struct source, node);

		if (s->in == in)
			source_close(pl, s);
	}
}

static void input_free(struct input *in)
{
	if (!in)
		return;
	mem_free(in->routes);
	mem_free(in->filters);
	mem_free(in->resumes);
	buf_release(&in->scratch);
	mem_free(in);
}

int pipeline_check(const struct agent_config *c, struct cfg_error *err)
{
	struct pipeline pl;
	int rc = 0;

	memset(&pl, 0, sizeof(pl));
	pl.conf = c;
	for (size_t i = 0; i < c->ninputs && rc == 0; i++) {
		struct input *in = NULL;

		rc = input_new(&pl, i, true, &in, err);
		if (in) {
			input_exit(&pl, in);
			input_free(in);
		}
	}
	for (size_t i = 0; i < c->noutputs && rc == 0; i++) {
		struct output *o = NULL;

		rc = output_new(c, i, NULL, true, false, &o, err);
		output_free(o);
	}
	return rc;
}

int pipeline_new(const struct agent_config *c, struct evloop *loop, bool reload,
		 struct pipeline **out, struct cfg_error *err)
{
	struct pipeline *pl = mem_calloc(1, sizeof(*pl));
	int rc = -ENOMEM;

	*out = NULL;
	if (!pl)
		return -ENOMEM;
	pl->conf = c;
	pl->loop = loop;
	pl->reload = reload;
	pl->mem_high = c->agent.buffer.max_memory / 4;
	pl->mem_low = pl->mem_high / 2;
	hmap_init(&pl->sources);
	hmap_init(&pl->resume);
	pl->inputs = mem_calloc(c->ninputs, sizeof(*pl->inputs));
	pl->outputs = mem_calloc(c->noutputs, sizeof(*pl->outputs));
	if (!pl->inputs || !pl->outputs)
		goto fail;
	for (size_t i = 0; i < c->noutputs; i++) {
		rc = output_new(c, i, loop, false, reload, &pl->outputs[i], err);
		if (rc < 0)
			goto fail;
		pl->noutputs = i + 1;
	}
	for (size_t i = 0; i < c->ninputs; i++) {
		rc = input_new(pl, i, false, &pl->inputs[i], err);
		pl->ninputs = i + 1;
		if (rc < 0)
			goto fail;
		for (size_t r = 0; r < pl->inputs[i]->nroutes; r++)
			output_add_topic(pl->outputs[pl->inputs[i]->routes[r]], c->inputs[i].topic);
	}
	rc = resume_collect(pl);
	if (rc == 0)
		rc = resume_finish(pl);
	for (size_t i = 0; i < pl->noutputs && rc == 0; i++) {
		rc = write_routes(pl, pl->outputs[i]);
		if (rc < 0)
			cfg_error_at(err, NULL, "output %s: cannot write its spool: %s",
				     c->outputs[i].id, err_str(rc));
	}
	if (rc < 0)
		goto fail;
	rc = writer_new(loop, (int)c->agent.workers, job_done, on_progress, pl, &pl->writer);
	for (size_t i = 0; i < pl->noutputs && rc == 0; i++) {
		rc = writer_attach(pl->writer, pl->outputs[i]->spool);
		if (rc == 0)
			rc = output_attach(pl->outputs[i], pl->writer, job_submit, pl);
	}
	if (rc < 0) {
		cfg_error_at(err, NULL, "pipeline: %s", err_str(rc));
		goto fail;
	}
	*out = pl;
	return 0;
fail:
	if (rc == -ENOMEM && !err->msg[0])
		cfg_error_at(err, NULL, "pipeline: out of memory");
	pipeline_free(pl);
	return rc;
}

int pipeline_start(struct pipeline *pl)
{
	int rc;

	for (size_t i = 0; i < pl->noutputs; i++) {
		rc = output_start(pl->outputs[i]);
		if (rc < 0) {
			log_error("output %s: cannot start: %s", pl->outputs[i]->conf->id,
				  err_str(rc));
			return rc;
		}
	}
	for (size_t i = 0; i < pl->ninputs; i++) {
		struct input *in = pl->inputs[i];

		for (size_t k = 0; k < in->nfilters; k++) {
			const struct plugin *fp = in->filters[k].conf->plugin;

			rc = fp->start ? fp->start(in->filters[k].ctx) : 0;
			if (rc < 0)
				return rc;
		}
		in->started = true;
		rc = in->plugin->start ? in->plugin->start(in->ctx) : 0;
		if (rc < 0) {
			log_error("input %s: cannot start: %s", in->conf->id, err_str(rc));
			return rc;
		}
	}
	pl->started = true;
	evloop_timer_start(pl->loop, &pl->tick, TICK_MS, TICK_MS, on_tick, pl);
	update_pause(pl);
	return 0;
}

void pipeline_shutdown(struct pipeline *pl)
{
	if (pl->stopping)
		return;
	pl->stopping = true;
	for (size_t i = 0; i < pl->ninputs; i++) {
		struct input *in = pl->inputs[i];

		/* exited by pipeline_free(), once the writer has drained */
		if (in->plugin->drain_before_exit && in->started)
			set_pause(in, in->pause | PAUSE_STOP);
		else
			input_exit(pl, in);
	}
	for (size_t i = 0; i < pl->noutputs; i++)
		if (pl->outputs[i]->bt)
			batcher_flush(pl->outputs[i]->bt);
}

bool pipeline_flushed(const struct pipeline *pl)
{
	return !pl->writer || writer_pending(pl->writer) == 0;
}

bool pipeline_drained(const struct pipeline *pl)
{
	for (size_t i = 0; i < pl->noutputs; i++)
		if (!output_drained(pl->outputs[i]))
			return false;
	return pipeline_flushed(pl);
}

void pipeline_free(struct pipeline *pl)
{
	struct hmap_iter it;
	struct hmap_node *n;

	if (!pl)
		return;
	if (pl->tick.active)
		evloop_timer_stop(&pl->tick);
	if (pl->done_timer.active)
		evloop_timer_stop(&pl->done_timer);
	for (size_t i = 0; i < pl->ninputs; i++)
		if (pl->inputs[i])
			input_exit(pl, pl->inputs[i]);
	for (size_t i = 0; i < pl->noutputs; i++)
		if (pl->outputs[i] && pl->outputs[i]->started)
			output_stop(pl->outputs[i]);
	/* Jobs still in the writer come back (durable or cancelled) before the
	 * outputs and their spools go. */
	writer_free(pl->writer);
	for (size_t i = 0; i < pl->noutputs; i++)
		output_free(pl->outputs[i]);
	for (size_t i = 0; i < pl->ninputs; i++)
		input_free(pl->inputs[i]);
	hmap_iter_init(&pl->sources, &it);
	while ((n = hmap_iter_next(&pl->sources, &it)) != NULL) {
		hmap_remove(&pl->sources, n);
		source_unref(hmap_entry(n, struct source, node));
	}
	hmap_iter_init(&pl->resume, &it);
	while ((n = hmap_iter_next(&pl->resume, &it)) != NULL) {
		hmap_remove(&pl->resume, n);
		resume_free(hmap_entry(n, struct resume_ent, node));
	}
	hmap_release(&pl->sources);
	hmap_release(&pl->resume);
	mem_free(pl->inputs);
	mem_free(pl->outputs);
	mem_free(pl);
}
