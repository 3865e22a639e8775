/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal structures of the pipeline, shared by pipeline.c (routing,
 * recovery, the input API) and pipeline_metrics.c.  Nothing else includes
 * this header.
 */
#ifndef SLUICE_AGENT_PIPELINE_INT_H
#define SLUICE_AGENT_PIPELINE_INT_H

#include "lib/hmap.h"
#include "agent/pipeline/output.h"
#include "agent/pipeline/pipeline.h"
#include "agent/plugin.h"
#include "agent/pipeline/source.h"
#include "agent/pipeline/writer.h"
#include "lib/log.h"

#define PAUSE_SPOOL 0x1
#define PAUSE_MEMORY 0x2
#define PAUSE_STOP 0x4

struct filter_inst {
	const struct filter_conf *conf;
	void *ctx;
	uint64_t dropped;
};

/* A source recovered from the spools, by (input, ident). */
struct resume_ent {
	struct hmap_node node;
	char *input;
	char *ident;
	struct source_resume r; /* r.meta points at meta */
	uint8_t *meta;
	uint64_t origin;
	bool *known;       /* per output */
	uint64_t *ordinal; /* per output */
};

struct input {
	struct pipeline *pl;
	size_t idx;
	const struct input_conf *conf;
	const struct plugin *plugin;
	void *ctx;
	size_t *routes; /* indexes of the outputs taking it */
	size_t nroutes;
	struct filter_inst *filters;
	size_t nfilters;
	struct buf scratch;
	struct resume_ent **resumes;
	size_t nresumes;
	bool started;
	bool exited;
	bool done;      /* input_done(): nothing more will come */
	unsigned pause; /* PAUSE_* reasons in force */
	bool plugin_paused;
	uint64_t records;
	uint64_t bytes;
	uint64_t dropped;
	uint64_t errors;
	uint64_t sources_open;
	uint64_t pauses;
	uint64_t paused_since_ms; /* evloop ms of the last pause (health) */
	struct log_ratelimit rl;
};

struct pipeline {
	const struct agent_config *conf;
	struct evloop *loop;
	bool reload;
	bool started;
	bool stopping;
	struct input **inputs;
	size_t ninputs;
	struct output **outputs;
	size_t noutputs;
	struct writer *writer;
	struct hmap sources; /* open sources by (input, ident) */
	struct hmap resume;  /* struct resume_ent */
	uint64_t mem_pauses;
	size_t mem_high;
	size_t mem_low;
	bool mem_paused;
	struct evloop_timer tick;
	struct log_ratelimit rl_full;
	struct log_ratelimit rl_mem;
	uint64_t jobs_cancelled;
	void (*done_cb)(void *arg); /* every input is done */
	void *done_arg;
	struct evloop_timer done_timer;
};

#endif
