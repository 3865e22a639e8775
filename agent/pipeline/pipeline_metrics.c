/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pipeline's Prometheus families and its health answer.  Prometheus text
 * wants each family's HELP/TYPE once with all its samples together, so every
 * family is written by walking all instances; plugin samples are collected
 * from every instance first and then grouped by name.
 */
#include <inttypes.h>
#include <string.h>

#include "agent/pipeline/pipeline_int.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "lib/prom.h"

typedef uint64_t (*in_get)(const struct input *in);
typedef uint64_t (*out_get)(struct output *o);

/* clang-format off */
static uint64_t in_records(const struct input *in) { return in->records; }
static uint64_t in_bytes(const struct input *in) { return in->bytes; }
static uint64_t in_dropped(const struct input *in) { return in->dropped; }
static uint64_t in_errors(const struct input *in) { return in->errors; }
static uint64_t in_sources(const struct input *in) { return in->sources_open; }
static uint64_t in_paused(const struct input *in) { return in->pause != 0; }
static uint64_t in_pauses(const struct input *in) { return in->pauses; }

static uint64_t out_records(struct output *o) { return o->st.records; }
static uint64_t out_bytes(struct output *o) { return o->st.bytes; }
static uint64_t out_batches(struct output *o) { return o->st.batches; }
static uint64_t out_flushes(struct output *o) { return o->st.flushes; }
static uint64_t out_retries(struct output *o) { return o->st.retries; }
static uint64_t out_dead(struct output *o) { return o->st.dead_letters; }
static uint64_t out_dead_rec(struct output *o) { return o->st.dead_records; }
static uint64_t out_lost(struct output *o) { return o->st.lost_entries; }
static uint64_t out_inflight(struct output *o) { return o->inflight; }
static uint64_t out_full(struct output *o) { return o->full; }
/* clang-format on */

static uint64_t spool_stat(struct output *o, size_t field)
{
	struct spool_stats st;

	spool_get_stats(o->spool, &st);
	return ((const uint64_t *)&st)[field / sizeof(uint64_t)];
}

#define SPOOL_GETTER(fn, field)                                            \
	static uint64_t fn(struct output *o)                               \
	{                                                                  \
		return spool_stat(o, offsetof(struct spool_stats, field)); \
	}
SPOOL_GETTER(sp_bytes, bytes)
SPOOL_GETTER(sp_segments, segments)
SPOOL_GETTER(sp_pending, entries_pending)
SPOOL_GETTER(sp_torn, torn_bytes)
SPOOL_GETTER(sp_corrupt, corrupt_entries)
SPOOL_GETTER(sp_syncs, syncs)
SPOOL_GETTER(sp_werr, write_errors)

static const struct {
	const char *name, *type, *help;
	in_get get;
} in_families[] = {
	{"sluice_agent_input_records_total", "counter", "Records read by the input.", in_records},
	{"sluice_agent_input_bytes_total", "counter", "Record value bytes read by the input.",
	 in_bytes},
	{"sluice_agent_input_dropped_total", "counter", "Records dropped by filters.", in_dropped},
	{"sluice_agent_input_errors_total", "counter",
	 "Records that could not be batched (logged).", in_errors},
	{"sluice_agent_input_sources", "gauge", "Sources (files, streams) open.", in_sources},
	{"sluice_agent_input_paused", "gauge",
	 "1 while the input is paused (spool full, memory cap, shutdown).", in_paused},
	{"sluice_agent_input_pauses_total", "counter", "Times the input was paused.", in_pauses},
};

static const struct {
	const char *name, *type, *help;
	out_get get;
} out_families[] = {
	{"sluice_agent_output_records_total", "counter", "Records delivered.", out_records},
	{"sluice_agent_output_bytes_total", "counter", "Batch bytes (compressed) delivered.",
	 out_bytes},
	{"sluice_agent_output_batches_total", "counter", "Batches acknowledged.", out_batches},
	{"sluice_agent_output_flushes_total", "counter", "Flushes (requests) started.",
	 out_flushes},
	{"sluice_agent_output_retries_total", "counter", "Flushes retried after a failure.",
	 out_retries},
	{"sluice_agent_output_dead_letter_batches_total", "counter",
	 "Batches rejected permanently and quarantined in the dead-letter directory.", out_dead},
	{"sluice_agent_output_dead_letter_records_total", "counter",
	 "Records in quarantined batches.", out_dead_rec},
	{"sluice_agent_output_lost_entries_total", "counter",
	 "Spool entries unreadable because of disk corruption.", out_lost},
	{"sluice_agent_output_in_flight", "gauge", "Flushes in flight.", out_inflight},
	{"sluice_agent_spool_bytes", "gauge", "Bytes in the output's spool.", sp_bytes},
	{"sluice_agent_spool_segments", "gauge", "Segment files in the output's spool.",
	 sp_segments},
	{"sluice_agent_spool_pending_entries", "gauge", "Durable spool entries not yet delivered.",
	 sp_pending},
	{"sluice_agent_spool_full", "gauge", "1 while the spool is at buffer.max_bytes.", out_full},
	{"sluice_agent_spool_torn_bytes_total", "counter",
	 "Bytes of torn writes cut from the spool at recovery.", sp_torn},
	{"sluice_agent_spool_corrupt_entries_total", "counter",
	 "Corrupt spool entries found (recovery or reading).", sp_corrupt},
	{"sluice_agent_spool_syncs_total", "counter", "fdatasync calls (group commits).", sp_syncs},
	{"sluice_agent_spool_write_errors_total", "counter", "Failed spool writes or syncs.",
	 sp_werr},
};

struct psample {
	struct plugin_metric m;
	const char *owner_label; /* "input" or "output" */
	const char *owner;
};

static void plugin_samples(struct pipeline *pl, struct buf *out)
{
	size_t cap = (pl->ninputs + pl->noutputs) * PLUGIN_METRICS_MAX, n = 0;
	struct psample *v = mem_calloc(cap ? cap : 1, sizeof(*v));
	struct plugin_metric tmp[PLUGIN_METRICS_MAX];

	if (!v)
		return;
	for (size_t i = 0; i < pl->ninputs; i++) {
		struct input *in = pl->inputs[i];
		size_t k;

		if (!in->ctx || in->exited || !in->plugin->metrics)
			continue;
		k = in->plugin->metrics(in->ctx, tmp, PLUGIN_METRICS_MAX);
		for (size_t j = 0; j < k && j < PLUGIN_METRICS_MAX; j++)
			v[n++] = (struct psample){tmp[j], "input", in->conf->id};
	}
	/* Parsers and filters: samples of one input share a label, so an input
	 * with two filters of one type reports them added up. */
	for (size_t i = 0; i < pl->ninputs; i++) {
		struct input *in = pl->inputs[i];

		if (in->exited)
			continue;
		for (size_t f = 0; f < in->nfilters; f++) {
			const struct plugin *fp = in->filters[f].conf->plugin;
			size_t k, grow;
			struct psample *nv;

			if (!in->filters[f].ctx || !fp->metrics)
				continue;
			k = fp->metrics(in->filters[f].ctx, tmp, PLUGIN_METRICS_MAX);
			if (k > PLUGIN_METRICS_MAX)
				k = PLUGIN_METRICS_MAX;
			grow = n + k + pl->noutputs * PLUGIN_METRICS_MAX; /* room for the outputs */
			nv = grow > cap ? mem_realloc(v, grow * sizeof(*v)) : v;
			if (!nv)
				break;
			v = nv;
			if (grow > cap)
				cap = grow;
			for (size_t j = 0; j < k; j++) {
				size_t d;

				for (d = 0; d < n; d++)
					if (v[d].owner == in->conf->id &&
					    strcmp(v[d].m.name, tmp[j].name) == 0 &&
					    ((!v[d].m.label_value && !tmp[j].label_value) ||
					     (v[d].m.label_value && tmp[j].label_value &&
					      strcmp(v[d].m.label_value, tmp[j].label_value) == 0)))
						break;
				if (d < n)
					v[d].m.value += tmp[j].value;
				else
					v[n++] = (struct psample){tmp[j], "input", in->conf->id};
			}
		}
	}
	for (size_t i = 0; i < pl->noutputs; i++) {
		struct output *o = pl->outputs[i];
		size_t k;

		if (!o->ctx || !o->plugin->metrics)
			continue;
		k = o->plugin->metrics(o->ctx, tmp, PLUGIN_METRICS_MAX);
		for (size_t j = 0; j < k && j < PLUGIN_METRICS_MAX; j++)
			v[n++] = (struct psample){tmp[j], "output", o->conf->id};
	}
	for (size_t i = 0; i < n; i++) {
		bool first = true;

		for (size_t j = 0; j < i; j++)
			if (strcmp(v[j].m.name, v[i].m.name) == 0)
				first = false;
		if (!first)
			continue;
		prom_family(out, v[i].m.name, v[i].m.type, v[i].m.help);
		for (size_t j = i; j < n; j++) {
			char labels[512];

			if (strcmp(v[j].m.name, v[i].m.name) != 0)
				continue;
			if (v[j].m.label)
				prom_labels(labels, sizeof(labels), v[j].owner_label, v[j].owner,
					    v[j].m.label, v[j].m.label_value, NULL);
			else
				prom_labels(labels, sizeof(labels), v[j].owner_label, v[j].owner,
					    NULL);
			prom_u64(out, v[j].m.name, labels, v[j].m.value);
		}
	}
	mem_free(v);
}

void pipeline_render_metrics(struct buf *out, void *arg)
{
	struct pipeline *pl = arg;
	char labels[512];

	for (size_t f = 0; f < sizeof(in_families) / sizeof(in_families[0]); f++) {
		prom_family(out, in_families[f].name, in_families[f].type, in_families[f].help);
		for (size_t i = 0; i < pl->ninputs; i++) {
			prom_labels(labels, sizeof(labels), "input", pl->inputs[i]->conf->id, NULL);
			prom_u64(out, in_families[f].name, labels,
				 in_families[f].get(pl->inputs[i]));
		}
	}
	for (size_t f = 0; f < sizeof(out_families) / sizeof(out_families[0]); f++) {
		prom_family(out, out_families[f].name, out_families[f].type, out_families[f].help);
		for (size_t i = 0; i < pl->noutputs; i++) {
			prom_labels(labels, sizeof(labels), "output", pl->outputs[i]->conf->id,
				    NULL);
			prom_u64(out, out_families[f].name, labels,
				 out_families[f].get(pl->outputs[i]));
		}
	}
	prom_family(out, "sluice_agent_output_errors_total", "counter",
		    "Failed flushes by error code (retried or quarantined).");
	for (size_t i = 0; i < pl->noutputs; i++) {
		const struct output_errors *e = output_errors(pl->outputs[i]);

		for (size_t k = 0; k < e->n; k++) {
			prom_labels(labels, sizeof(labels), "output", pl->outputs[i]->conf->id,
				    "code", e->code[k], NULL);
			prom_u64(out, "sluice_agent_output_errors_total", labels, e->count[k]);
		}
	}
	plugin_samples(pl, out);
	for (size_t i = 0; i < pl->ninputs; i++) {
		const struct input *in = pl->inputs[i];

		for (size_t f = 0; f < in->nfilters; f++)
			if (in->filters[f].ctx && in->filters[f].conf->plugin->render)
				in->filters[f].conf->plugin->render(in->filters[f].ctx, out);
	}
	prom_family(out, "sluice_agent_batches_queued_bytes", "gauge",
		    "Uncompressed bytes of closed batches waiting for a compression worker.");
	prom_u64(out, "sluice_agent_batches_queued_bytes", NULL,
		 pl->writer ? writer_queued(pl->writer) : 0);
	prom_family(out, "sluice_agent_memory_pauses_total", "counter",
		    "Times the inputs paused because batches in memory reached the cap.");
	prom_u64(out, "sluice_agent_memory_pauses_total", NULL, pl->mem_pauses);
	prom_family(out, "sluice_agent_compressed_bytes_total", "counter",
		    "Bytes written to the spools (compressed batches and positions).");
	prom_u64(out, "sluice_agent_compressed_bytes_total", NULL,
		 pl->writer ? writer_bytes(pl->writer) : 0);
	prom_family(out, "sluice_agent_compress_seconds_total", "counter",
		    "Time the compression workers spent compressing.");
	prom_f64(out, "sluice_agent_compress_seconds_total", NULL,
		 pl->writer ? (double)writer_busy_ns(pl->writer) / 1e9 : 0);
}

/* ------------------------------------------------------------ health */

static bool output_has_data(struct output *o, const struct spool_stats *st)
{
	return st->entries_pending > 0 || o->inflight > 0 || o->pending_jobs > 0;
}

void pipeline_health_update(struct pipeline *pl)
{
	uint64_t now = evloop_now(pl->loop);

	for (size_t i = 0; i < pl->noutputs; i++) {
		struct output *o = pl->outputs[i];
		uint64_t done = o->st.batches + o->st.dead_letters, written;
		struct spool_stats st;

		spool_get_stats(o->spool, &st);
		if (o->h_progress_ms == 0 || done != o->h_delivered || !output_has_data(o, &st))
			o->h_progress_ms = now;
		o->h_delivered = done;
		/* Failing from a write error until writes succeed again. */
		written = st.appended + st.syncs;
		if (st.write_errors != o->h_werr)
			o->h_write_failing = true;
		else if (written != o->h_written)
			o->h_write_failing = false;
		o->h_werr = st.write_errors;
		o->h_written = written;
	}
}

static const char *pause_why(unsigned r)
{
	if (r & PAUSE_SPOOL)
		return "an output's spool is full";
	if (r & PAUSE_MEMORY)
		return "batches in memory reached buffer.max_memory";
	return "stopping";
}

bool pipeline_healthy(struct pipeline *pl, struct buf *why)
{
	const struct agent_settings *a = &pl->conf->agent;
	uint64_t now = evloop_now(pl->loop);
	bool ok = true;

	/* A reason the 64 KiB bound cuts short still fails the check: the
	 * verdict is ok, the text is only its explanation. */
	pipeline_health_update(pl);
	for (size_t i = 0; i < pl->noutputs; i++) {
		struct output *o = pl->outputs[i];
		struct spool_stats st;

		spool_get_stats(o->spool, &st);
		if (a->health.output_stall > 0 && output_has_data(o, &st) &&
		    now - o->h_progress_ms > (uint64_t)a->health.output_stall) {
			ok = false;
			if (why)
				SLUICE_IGNORE(
					buf_printf(why,
						   "output %s: nothing delivered for %" PRIu64
						   " s with %" PRIu64 " spooled batches waiting\n",
						   o->conf->id, (now - o->h_progress_ms) / 1000,
						   st.entries_pending));
		}
		if (o->h_write_failing) {
			ok = false;
			if (why)
				SLUICE_IGNORE(buf_printf(
					why,
					"output %s: its spool cannot be written (%" PRIu64
					" write errors; disk full?)\n",
					o->conf->id, st.write_errors));
		}
	}
	for (size_t i = 0; i < pl->ninputs; i++) {
		struct input *in = pl->inputs[i];

		if (a->health.input_paused > 0 && in->plugin_paused && !(in->pause & PAUSE_STOP) &&
		    now - in->paused_since_ms > (uint64_t)a->health.input_paused) {
			ok = false;
			if (why)
				SLUICE_IGNORE(
					buf_printf(why, "input %s: paused for %" PRIu64 " s (%s)\n",
						   in->conf->id, (now - in->paused_since_ms) / 1000,
						   pause_why(in->pause)));
		}
	}
	return ok;
}

/* The reasons, one a line, as a JSON array. */
static int json_reasons(struct buf *out, const struct buf *why)
{
	const char *p = (const char *)why->data, *end = p + why->len;
	int rc = buf_append_str(out, "[");

	for (bool first = true; p < end; first = false) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (!first)
			rc = err_first(rc, buf_append_str(out, ","));
		rc = err_first(rc, json_str(out, p, n));
		p += n + 1;
	}
	return err_first(rc, buf_append_str(out, "]"));
}

int pipeline_health(struct pipeline *pl, struct buf *out)
{
	bool first = true, ok = true;
	uint64_t werr = 0;
	const char *status = "ok";
	struct buf why;
	int rc = 0;

	buf_init(&why, 1 << 16);
	if (!pipeline_healthy(pl, &why)) {
		ok = false;
		status = "unhealthy";
	}
	for (size_t i = 0; i < pl->noutputs; i++) {
		struct spool_stats st;

		spool_get_stats(pl->outputs[i]->spool, &st);
		werr += st.write_errors;
	}
	if (pl->stopping) {
		ok = false;
		status = "stopping";
	}
	rc = err_first(rc, buf_append_str(out, "{"));
	rc = err_first(rc, json_key(out, &first, "status"));
	rc = err_first(rc, json_cstr(out, status));
	if (why.len) {
		rc = err_first(rc, json_key(out, &first, "reasons"));
		rc = err_first(rc, json_reasons(out, &why));
	}
	buf_release(&why);
	rc = err_first(rc, json_key(out, &first, "inputs"));
	rc = err_first(rc, buf_append_str(out, "["));
	for (size_t i = 0; i < pl->ninputs; i++) {
		bool f2 = true;

		rc = err_first(rc, buf_append_str(out, i ? ",{" : "{"));
		rc = err_first(rc, json_key(out, &f2, "id"));
		rc = err_first(rc, json_cstr(out, pl->inputs[i]->conf->id));
		rc = err_first(rc, json_key(out, &f2, "paused"));
		rc = err_first(rc, buf_append_str(out, pl->inputs[i]->pause ? "true" : "false"));
		rc = err_first(rc, json_key(out, &f2, "sources"));
		rc = err_first(rc, json_i64(out, (int64_t)pl->inputs[i]->sources_open));
		rc = err_first(rc, buf_append_str(out, "}"));
	}
	rc = err_first(rc, buf_append_str(out, "]"));
	rc = err_first(rc, json_key(out, &first, "outputs"));
	rc = err_first(rc, buf_append_str(out, "["));
	for (size_t i = 0; i < pl->noutputs; i++) {
		struct output *o = pl->outputs[i];
		bool f2 = true;

		rc = err_first(rc, buf_append_str(out, i ? ",{" : "{"));
		rc = err_first(rc, json_key(out, &f2, "id"));
		rc = err_first(rc, json_cstr(out, o->conf->id));
		rc = err_first(rc, json_key(out, &f2, "spool_bytes"));
		rc = err_first(rc, json_i64(out, (int64_t)spool_bytes(o->spool)));
		rc = err_first(rc, json_key(out, &f2, "spool_full"));
		rc = err_first(rc, buf_append_str(out, o->full ? "true" : "false"));
		rc = err_first(rc, json_key(out, &f2, "retries"));
		rc = err_first(rc, json_i64(out, (int64_t)o->st.retries));
		rc = err_first(rc, buf_append_str(out, "}"));
	}
	rc = err_first(rc, buf_append_str(out, "]"));
	rc = err_first(rc, json_key(out, &first, "spool_write_errors"));
	rc = err_first(rc, json_i64(out, (int64_t)werr));
	rc = err_first(rc, buf_append_str(out, "}\n"));
	if (rc < 0)
		return 500;
	return ok ? 200 : 503;
}
