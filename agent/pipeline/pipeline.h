/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/pipeline/: inputs to filters to batches to spool to outputs.
 *
 * The pipeline: input instances, their filters, output instances, and the
 * routing between them (an output takes `inputs: [...]`, default all).  It
 * owns the writer and is the one place where positions meet: it merges the
 * position tables of every output's spool at start-up into where each
 * source resumes (the minimum over the outputs that take its input, each
 * output skipping what it already has), applies durable positions as the
 * writer reports them, and tells inputs their committed ordinals.  It also
 * pauses inputs when a spool reaches buffer.max_bytes or queued batches
 * reach a quarter of buffer.max_memory, and resumes them when space frees.
 *
 * Lifecycle (agent.c drives it):
 *   pipeline_new -> pipeline_start -> ... -> pipeline_shutdown (inputs stop,
 *   batches close) -> run the loop until pipeline_flushed() and, within
 *   shutdown_timeout, pipeline_drained() -> pipeline_free.
 * A reload (SIGHUP) is the same with no delivery wait, then a new pipeline
 * from the new config, which recovers positions from the spools again.
 *
 * Loop thread only.
 */
#ifndef SLUICE_AGENT_PIPELINE_H
#define SLUICE_AGENT_PIPELINE_H

#include <stdbool.h>

#include "agent/agent_config.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/evloop.h"

struct pipeline;

/* Build inputs and outputs from c (borrowed; must outlive the pipeline),
 * recovering every spool.  reload: inputs treat every file as new-found
 * rather than found at start-up.  0 or negative with err set. */
int pipeline_new(const struct agent_config *c, struct evloop *loop, bool reload,
		 struct pipeline **out, struct cfg_error *err);
/* --check: initialise every plugin in check-only mode and release them. */
int pipeline_check(const struct agent_config *c, struct cfg_error *err);
int pipeline_start(struct pipeline *pl);
/* Call cb (from the loop, outside any input callback) once every input
 * said input_done() (stdin at EOF). */
void pipeline_on_inputs_done(struct pipeline *pl, void (*cb)(void *arg), void *arg);
/* Stop the inputs and close every batch. */
void pipeline_shutdown(struct pipeline *pl);
/* Every batch is durable in its spool (or was cancelled). */
bool pipeline_flushed(const struct pipeline *pl);
/* Every output delivered everything spooled. */
bool pipeline_drained(const struct pipeline *pl);
void pipeline_free(struct pipeline *pl);

/* GET /metrics (prom_render_fn) and GET /health: 200 or 503. */
void pipeline_render_metrics(struct buf *out, void *pl);
int pipeline_health(struct pipeline *pl, struct buf *out);
/* Note what changed since the last look (delivery, spool writes); run on
 * the pipeline's tick so "nothing delivered for N s" does not depend on how
 * often /health is asked. */
void pipeline_health_update(struct pipeline *pl);
/* The conditions /health fails on (agent.health): true when none holds;
 * otherwise why (one reason a line) is appended to why when not NULL.  The
 * systemd watchdog is fed only while this is true. */
bool pipeline_healthy(struct pipeline *pl, struct buf *why);

#endif
