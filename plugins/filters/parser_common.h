/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the three parsers share: the time_key/time_format options, the
 * parse_error header, and their counters.  A line that fails to parse is
 * kept as it came with a `parse_error` header saying why, and counted; it is
 * never dropped.
 */
#ifndef SLUICE_PLUGINS_PARSER_COMMON_H
#define SLUICE_PLUGINS_PARSER_COMMON_H

#include "plugins/filters/xform.h"

struct parser_time_conf {
	char *time_key;
	char *time_format;
};

#define PARSER_TIME_OPTS(T)                                                                              \
	{.name = "time_key",                                                                             \
	 .type = CFG_STRING,                                                                             \
	 .offset = offsetof(T, time.time_key),                                                           \
	 .help = "field whose value becomes the record timestamp"},                                      \
	{                                                                                                \
		.name = "time_format", .type = CFG_STRING,                                               \
		.offset = offsetof(T, time.time_format), .def = "rfc3339",                               \
		.check = xform_check_time_format,                                                        \
		.help = "rfc3339, unix, unix_ms, unix_us, unix_ns or a strptime pattern (UTC unless %z)" \
	}

struct parser_state {
	const struct parser_time_conf *time;
	const char *name; /* "json", ... for parse_error reasons */
	struct xhdrs hdrs;
	char reason[128];
	char tbuf[128];
	uint64_t parsed;
	uint64_t failed;
	uint64_t time_failed;
};

/* Keep ev as it is, with a parse_error header; counts it. */
void parser_fail(struct parser_state *ps, struct event *ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Apply the time_key value (a JSON span); a bad time adds parse_error. */
void parser_time(struct parser_state *ps, struct event *ev, const struct jspan *v);
size_t parser_metrics(const struct parser_state *ps, struct plugin_metric *m, size_t max);

#endif
