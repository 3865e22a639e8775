/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The condition of an alert rule, one line of text:
 *
 *   count > 100 in 5m        matching events in a sliding window
 *   count >= 1 in 30s        (operators > >= < <= ==)
 *   no events for 10m        absence: a key that stopped producing events
 *
 * Durations are integers with a unit (ms, s, m, h, d), compound allowed
 * ("1h30m"), from 1 s to 31 days.  Pure; the parser is fuzzed
 * (tests/fuzz/fuzz_alert_expr.c) because rule files come from operators and
 * `sluice alert test` reads any file it is given.
 */
#ifndef SLUICE_ALERT_EXPR_H
#define SLUICE_ALERT_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum alert_kind { ALERT_THRESHOLD, ALERT_ABSENCE };
enum alert_op { ALERT_GT, ALERT_GE, ALERT_LT, ALERT_LE, ALERT_EQ };

struct alert_expr {
	enum alert_kind kind;
	enum alert_op op;
	uint64_t threshold;
	int64_t window_ms; /* threshold: the window; absence: the silence */
};

/* Parse s; 0, or -1 with a reason in why and *col the 1-based column of
 * the problem. */
int alert_expr_parse(const char *s, struct alert_expr *e, char *why, size_t whylen, int *col);
/* Parse a duration ("5m", "1h30m"): 0 and *ms, or -1. */
int alert_duration_parse(const char *s, size_t n, int64_t *ms);
/* Does count satisfy the threshold? */
bool alert_expr_holds(const struct alert_expr *e, uint64_t count);
/* Back to text ("count > 100 in 5m"), for messages. */
void alert_expr_format(const struct alert_expr *e, char *out, size_t cap);

#endif
