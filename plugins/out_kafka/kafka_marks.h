/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kafka output's delivered marks (see out_kafka.c): per (topic,
 * partition) of the spool, the last entry whose records were all delivered.
 * Kept as text in the output's spool directory, one mark per line:
 *
 *   <partition> <last entry id> <topic>\n
 *
 * A line that does not parse is skipped (the mark is only an optimisation:
 * without it a restart may produce some records twice, never lose any).
 */
#ifndef SLUICE_PLUGINS_OUT_KAFKA_KAFKA_MARKS_H
#define SLUICE_PLUGINS_OUT_KAFKA_KAFKA_MARKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define KAFKA_MARK_TOPIC_MAX 512

struct kafka_mark {
	char *topic;
	int32_t partition;
	uint64_t last;
};

struct kafka_marks {
	struct kafka_mark *v;
	size_t n;
};

/* The mark of (topic, partition); created (last 0) when asked and missing.
 * NULL when missing or out of memory. */
struct kafka_mark *kafka_marks_find(struct kafka_marks *m, const char *topic, int32_t partition,
				    bool create);
/* Add the marks of a file's contents (the higher mark wins); returns the
 * count of lines skipped as malformed. */
size_t kafka_marks_parse(struct kafka_marks *m, const char *data, size_t len);
/* The file's contents; topics that cannot be written on one line are left
 * out.  0 or -ENOMEM/-ERR_TOO_LARGE. */
int kafka_marks_format(const struct kafka_marks *m, struct buf *out);
void kafka_marks_release(struct kafka_marks *m);

#endif
