/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record output of `sluice consume`: raw (the value, one line per record),
 * json (lib/recjson.h lines, identical to the store's NDJSON replay) and
 * pretty (time, topic/partition@offset, key, value; control characters
 * escaped so a log line cannot drive the terminal).
 *
 * Each record is flushed as it is written when stdout is a terminal, a pipe
 * or a socket (so `| grep` and `| head` see records at once); into a
 * regular file or /dev/null output is block-buffered, and flushed whenever
 * the command waits for more records (cli_merge's idle callback), so a
 * file being followed stays current.  A closed pipe
 * (`| head`) is reported as -EPIPE so the command can stop quietly.
 * Not thread-safe.
 */
#ifndef SLUICE_CLI_OUT_H
#define SLUICE_CLI_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/batch.h"
#include "lib/buf.h"

enum cli_format { CLI_FMT_RAW, CLI_FMT_JSON, CLI_FMT_PRETTY };

struct cli_out {
	FILE *f;
	enum cli_format fmt;
	bool flush_each;
	struct buf line;
	uint64_t records;
	uint64_t bytes;
};

/* "raw", "json", "pretty" -> format, or -ERR_INVALID. */
int cli_out_parse_format(const char *s, enum cli_format *fmt);
void cli_out_init(struct cli_out *o, FILE *f, enum cli_format fmt);
void cli_out_release(struct cli_out *o);
/* 0, -EPIPE (reader gone), -EIO or -ENOMEM. */
int cli_out_record(struct cli_out *o, const char *topic, int32_t partition, const struct record *r);
int cli_out_flush(struct cli_out *o);

#endif
