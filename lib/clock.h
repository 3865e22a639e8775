/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Clocks and time text.  Monotonic time measures intervals (timeouts,
 * latencies); wall time stamps records.  RFC 3339 parsing accepts what
 * operators type: "2026-11-24T10:02:00Z", fractional seconds, numeric offsets,
 * a space instead of 'T'.  Thread-safe.
 */
#ifndef SLUICE_CLOCK_H
#define SLUICE_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/check.h"

uint64_t clock_mono_ns(void);
uint64_t clock_mono_ms(void);
int64_t clock_wall_ms(void);
int64_t clock_wall_ns(void);

/* The absolute time ms from now on clk, as pthread_cond_timedwait() wants it
 * (clk is the clock the condition variable uses: CLOCK_REALTIME by default,
 * CLOCK_MONOTONIC after pthread_condattr_setclock).  ms < 0 counts as 0. */
struct timespec clock_deadline(clockid_t clk, int64_t ms);

/* Format ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (>= 25
 * bytes).  Returns the length written. */
size_t clock_fmt_rfc3339(int64_t ms, char *out, size_t cap);

/* Parse RFC 3339 into ms since the epoch.  0 or -ERR_INVALID. */
SLUICE_MUST_CHECK int clock_parse_rfc3339(const char *s, int64_t *ms);

/* Parse a duration such as "250ms", "10s", "1h30m", "7d" into ms.  A bare
 * number is rejected unless it is 0.  0 or -ERR_INVALID. */
SLUICE_MUST_CHECK int clock_parse_duration(const char *s, int64_t *ms);

#endif
