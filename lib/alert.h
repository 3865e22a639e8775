/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert rules and their evaluation, shared by the agent's alertmanager
 * output (live) and `sluice alert test` (history from the store).  No I/O
 * besides loading the rules file: callers feed events and a clock, and get
 * told when an alert starts or ends.
 *
 * A rules file (YAML, errors name file:line:column):
 *
 *   rules:
 *     - name: ManyErrors                 # alertname
 *       match: 'level=error'             # PCRE2 on the line or `field` (optional)
 *       field: msg
 *       group_by: [host]                 # one alert per value (fields or headers)
 *       condition: count > 100 in 5m     # or: no events for 10m
 *       labels: { severity: page }
 *       annotations: { summary: "many errors on {{host}}" }
 *
 * Windows are kept as 60 sub-buckets per rule window (a count is exact to
 * 1/60 of the window).  Time is the caller's: record timestamps (so a
 * backtest and the live agent agree) and a clock that moves even when no
 * events come (so absences fire and counts decay).  Keys per engine are
 * bounded (max_keys); events for keys past it are counted in
 * alert_engine_stats().overflow and otherwise ignored.
 *
 * Not thread-safe; one engine per thread.
 */
#ifndef SLUICE_ALERT_H
#define SLUICE_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/alert_expr.h"
#include "lib/batch.h"
#include "lib/buf.h"
#include "lib/config.h"

#define ALERT_SAMPLES 3
#define ALERT_GROUP_MAX 8

struct alert_rule;

struct alert_rules {
	struct alert_rule *v;
	size_t n;
};

/* Load and check a rules file.  0, or -ERR_CONFIG with err naming
 * file:line:column. */
int alert_rules_load(const char *path, struct alert_rules **out, struct cfg_error *err);
void alert_rules_free(struct alert_rules *r);
const char *alert_rule_name(const struct alert_rules *r, size_t i);
const struct alert_expr *alert_rule_expr(const struct alert_rules *r, size_t i);
const char *alert_rule_match(const struct alert_rules *r, size_t i);
/* The rule's static labels and annotations. */
size_t alert_rule_nlabels(const struct alert_rules *r, size_t i, bool annotations);
void alert_rule_label(const struct alert_rules *r, size_t i, bool annotations, size_t j,
		      const char **k, const char **v);

/* One event to evaluate (borrowed for the call). */
struct alert_event {
	int64_t ts; /* ms since the epoch */
	const char *value;
	size_t len;
	const struct record_header *hdrs;
	size_t nhdrs;
	const char *topic; /* for the replay command line; may be NULL */
};

/* An alert as callers see it (valid during the callback). */
struct alert_view {
	size_t rule;
	const char *name;
	size_t ngroup;
	const char *const *group_keys; /* the rule's group_by names */
	const char *const *group_vals;
	uint64_t count;                     /* in the window at evaluation */
	int64_t starts_at;                  /* ms */
	int64_t ends_at;                    /* ms, 0 while firing */
	int64_t last_seen;                  /* last matching event, ms (0: none) */
	const char *samples[ALERT_SAMPLES]; /* newest first, NULL past the end */
	const char *topic;
	void *user; /* the caller's per-alert slot (see alert_engine_each) */
};

enum alert_change { ALERT_FIRING, ALERT_RESOLVED };

typedef void (*alert_change_fn)(void *arg, const struct alert_view *a, enum alert_change c);

struct alert_engine;

struct alert_engine *alert_engine_new(const struct alert_rules *r, size_t max_keys);
void alert_engine_free(struct alert_engine *e);
/* Count ev against every rule it matches. */
void alert_engine_feed(struct alert_engine *e, const struct alert_event *ev);
/* Evaluate every key at time now (ms): a change calls cb. */
void alert_engine_eval(struct alert_engine *e, int64_t now, alert_change_fn cb, void *arg);
/* Every firing alert (for resending); the callback may set a->user's
 * target through *slot, kept with the alert. */
typedef void (*alert_each_fn)(void *arg, const struct alert_view *a, int64_t *slot);
void alert_engine_each(struct alert_engine *e, alert_each_fn cb, void *arg);

/* State for a restart: windows, last-seen times and firing alerts.  The
 * saved text is line-based; load skips lines it cannot read (a damaged
 * state loses those keys, nothing else) and keys of rules no longer in the
 * file.  save: 0 or -ENOMEM/-ERR_TOO_LARGE; load: the keys restored. */
int alert_engine_save(const struct alert_engine *e, struct buf *out);
size_t alert_engine_load(struct alert_engine *e, const char *p, size_t n);

struct alert_engine_stats {
	uint64_t matched;
	uint64_t keys;
	uint64_t overflow;    /* events for keys past max_keys */
	uint64_t prefiltered; /* rule checks the literal prefilter answered */
	uint64_t firing;
};
void alert_engine_stats(const struct alert_engine *e, struct alert_engine_stats *st);

#endif
