/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An output instance: its spool, its batcher and the delivery engine that
 * reads durable spool entries in order and hands them to the output plugin
 * as flushes (agent/plugin.h), one (topic, partition) lane at a time, up to
 * max_in_flight lanes at once.  Results drive the spool: delivered entries
 * are acknowledged (and whole segments deleted), transient failures back off
 * exponentially with full jitter (or the receiver's Retry-After), permanent
 * ones are quarantined in data_dir/dead-letter/<output>/ as the batch bytes
 * plus a JSON note with the reason, counted and logged, then acknowledged:
 * never retried forever, never dropped silently.
 *
 * The read-ahead window holds entry metadata only (never batch bytes), so
 * its memory does not depend on the backlog.  Loop thread only.
 */
#ifndef SLUICE_AGENT_OUTPUT_H
#define SLUICE_AGENT_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/agent_config.h"
#include "agent/pipeline/batcher.h"
#include "agent/plugin.h"
#include "agent/spool/spool.h"
#include "agent/pipeline/writer.h"
#include "lib/log.h"

struct output_stats {
	uint64_t records; /* delivered */
	uint64_t bytes;   /* delivered batch bytes (compressed) */
	uint64_t batches;
	uint64_t flushes;
	uint64_t retries;
	uint64_t dead_letters;
	uint64_t dead_records;
	uint64_t lost_entries; /* unreadable spool entries */
	uint64_t in_flight;
};

#define OUTPUT_MAX_CODES 16

struct output_errors {
	char code[OUTPUT_MAX_CODES][40];
	uint64_t count[OUTPUT_MAX_CODES];
	size_t n;
};

struct output {
	size_t idx;
	const struct output_conf *conf;
	const struct plugin *plugin;
	void *ctx;
	struct evloop *loop;
	char *spool_dir;
	char *dead_dir;
	struct spool *spool;
	bool spool_fresh;
	struct batcher *bt;
	bool started;
	bool stopping;
	bool full; /* spool at its cap: inputs feeding it pause */
	uint64_t cap;
	/* delivery */
	struct spool_cursor cur;
	uint64_t first_new_id; /* entries below were spooled before this process */
	struct buf scratch;
	struct went *whead;
	struct went *wtail;
	size_t wcount;
	struct hmap lanes;
	size_t inflight;
	size_t max_request;
	struct evloop_timer kick;
	char **topics;
	size_t ntopics;
	size_t pending_jobs;    /* jobs of this output in the writer */
	uint64_t pending_bytes; /* their uncompressed size: spool growth to come */
	struct output_stats st;
	struct output_errors errs;
	/* health (pipeline_health_update): last progress seen, spool writes */
	uint64_t h_delivered;   /* st.batches at the last look */
	uint64_t h_progress_ms; /* delivered, or had nothing to deliver */
	uint64_t h_werr;        /* spool write_errors at the last look */
	uint64_t h_written;     /* spool appended + syncs at the last look */
	bool h_write_failing;   /* the spool's last writes failed */
	struct log_ratelimit rl;
};

/* Open the spool (recovering it) and build the plugin instance.  check_only:
 * only the plugin's init (no spool).  0 or negative with err set. */
int output_new(const struct agent_config *c, size_t idx, struct evloop *loop, bool check_only,
	       bool reload, struct output **out, struct cfg_error *err);
/* The batcher needs the writer's submit hook; created after recovery. */
int output_attach(struct output *o, struct writer *w, void (*submit)(struct job *, void *),
		  void *arg);
int output_start(struct output *o);
/* A job of this output is durable: more to read. */
void output_wake(struct output *o);
/* Stop starting flushes and cancel those in flight (their batches stay
 * spooled).  Idempotent. */
void output_stop(struct output *o);
/* Everything durable in the spool is delivered and nothing is in flight. */
bool output_drained(struct output *o);
void output_free(struct output *o);
void output_add_topic(struct output *o, const char *topic);
const struct output_errors *output_errors(const struct output *o);

#endif
