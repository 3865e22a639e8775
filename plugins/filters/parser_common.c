/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared parts of the json, logfmt and regex parsers: failure marking,
 * time_key handling and counters (labelled by parser).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plugins/filters/parser_common.h"

void parser_fail(struct parser_state *ps, struct event *ev, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(ps->reason, sizeof(ps->reason), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(ps->reason))
		n = (int)sizeof(ps->reason) - 1;
	ps->failed++;
	xhdrs_add(&ps->hdrs, ev, "parse_error", ps->reason, (size_t)n);
}

void parser_time(struct parser_state *ps, struct event *ev, const struct jspan *v)
{
	size_t n;
	int64_t ms;
	int len;

	if (!ps->time->time_key || !*ps->time->time_key)
		return;
	if (!v->found) {
		ps->time_failed++;
		return; /* no time in this line: the read time stays */
	}
	if (jspan_text(v, ps->tbuf, sizeof(ps->tbuf), &n) == 0 &&
	    xform_parse_time(ps->time->time_format, ps->tbuf, n, &ms) == 0) {
		ev->ts = ms;
		return;
	}
	ps->time_failed++;
	len = snprintf(ps->reason, sizeof(ps->reason), "%s: %s is not a %s time", ps->name,
		       ps->time->time_key, ps->time->time_format);
	if (len < 0)
		len = 0;
	if ((size_t)len >= sizeof(ps->reason))
		len = (int)sizeof(ps->reason) - 1;
	xhdrs_add(&ps->hdrs, ev, "parse_error", ps->reason, (size_t)len);
}

size_t parser_metrics(const struct parser_state *ps, struct plugin_metric *m, size_t max)
{
	const struct plugin_metric v[] = {
		{"sluice_agent_parser_records_total", "counter", "Records parsed.", ps->parsed,
		 "parser", ps->name},
		{"sluice_agent_parser_errors_total", "counter",
		 "Records that did not parse (kept raw with a parse_error header).", ps->failed,
		 "parser", ps->name},
		{"sluice_agent_parser_time_errors_total", "counter",
		 "Records whose time_key was missing or unreadable (read time kept).",
		 ps->time_failed, "parser", ps->name},
	};

	return plugin_metrics_copy(m, max, v, sizeof(v) / sizeof(v[0]));
}
