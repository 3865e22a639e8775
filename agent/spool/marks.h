/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivered marks, for outputs whose receiver cannot recognise a batch sent
 * twice (kafka, http): per (topic, partition) of the spool, the last entry
 * whose records (and every earlier entry's) were delivered.  The spool
 * persists its acknowledged watermark at most once a second, so after a
 * crash of the agent it re-sends entries that were delivered; an output
 * acknowledges the re-sent entries up to its mark without sending them
 * again.  Kept as text in the output's spool directory, one mark per line:
 *
 *   <partition> <last entry id> <topic>\n
 *
 * replaced by rename without fsync: it covers crashes of the agent (the page
 * cache survives them), not of the machine.  A line that does not parse is
 * skipped (a mark is only an optimisation: without it a restart may send
 * some records twice, never lose any).
 */
#ifndef SLUICE_AGENT_MARKS_H
#define SLUICE_AGENT_MARKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define MARK_TOPIC_MAX 512

struct mark {
	char *topic;
	int32_t partition;
	uint64_t last;
};

struct marks {
	struct mark *v;
	size_t n;
};

/* The mark of (topic, partition); created (last 0) when asked and missing.
 * NULL when missing or out of memory. */
struct mark *marks_find(struct marks *m, const char *topic, int32_t partition, bool create);
/* Add the marks of a file's contents (the higher mark wins); returns the
 * count of lines skipped as malformed. */
size_t marks_parse(struct marks *m, const char *data, size_t len);
/* The file's contents; topics that cannot be written on one line are left
 * out.  0 or -ENOMEM/-ERR_TOO_LARGE. */
int marks_format(const struct marks *m, struct buf *out);
void marks_release(struct marks *m);

/* Load dir/MARKS_FILE into m (missing: nothing); who names the output in
 * the warning about malformed lines. */
#define MARKS_FILE "delivered"
void marks_load(struct marks *m, const char *dir, const char *who);
/* Replace dir/MARKS_FILE with m; a failure is a warning (more may be sent
 * twice after a crash), never an error. */
void marks_store(const struct marks *m, const char *dir, const char *who);
/* Raise the mark of (topic, partition) to last and store the file when it
 * moved. */
void marks_advance(struct marks *m, const char *dir, const char *who, const char *topic,
		   int32_t partition, uint64_t last);

#endif
