/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Merges the record streams of several partitions (of one or more topics)
 * into one sequence in timestamp order, on one curl multi handle.
 *
 * A partition's head record is passed on when no other partition can still
 * produce an earlier one: every other partition has a later head, has
 * scanned past that timestamp (its frontier), has ended, or, when
 * following, has been caught up with the log for a short linger.  Within a
 * partition, offset order is kept whatever the timestamps.
 *
 * SIGINT/SIGTERM stop the merge cleanly (cli_merge_stop, async-signal-safe).
 * Not thread-safe.
 */
#ifndef SLUICE_CLI_MERGE_H
#define SLUICE_CLI_MERGE_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli_source.h"

/* Called for each record in order; non-zero stops the merge with that
 * value (e.g. -EPIPE when the reader went away). */
typedef int (*cli_merge_emit_fn)(void *arg, struct cli_source *s, const struct record *r);

struct cli_merge {
	CURLM *multi;
	struct cli_source *src; /* borrowed array */
	size_t n;
	uint64_t linger_ms;
	uint64_t emitted;
	uint64_t first_emit_ns; /* clock_mono_ns of the first record, 0 if none */
};

int cli_merge_init(struct cli_merge *m, struct cli_source *src, size_t n);
void cli_merge_release(struct cli_merge *m);
/* Called before the merge waits for the network with nothing to emit (so
 * buffered output can be flushed); non-zero stops the merge. */
typedef int (*cli_merge_idle_fn)(void *arg);

/* Run until every source ended (0), max records were emitted (0, max 0 =
 * unlimited), a stop was requested (0), emit or idle returned non-zero
 * (that value) or a source failed (-EIO; the source's err says why).
 * idle may be NULL. */
int cli_merge_run(struct cli_merge *m, cli_merge_emit_fn emit, cli_merge_idle_fn idle, void *arg,
		  uint64_t max);
/* Async-signal-safe. */
void cli_merge_stop(void);
/* Was a stop requested? */
bool cli_merge_stopped(void);

#endif
