/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Times as operators type them on the command line: RFC 3339
 * ("2026-11-24T10:02:00Z", "2026-11-24 10:02:00.5+01:00"), "now", or
 * relative to now ("-15m", "-2h30m", "-1d", "+5m"; units ms s m h d w).
 * Pure given now_ms; thread-safe.
 */
#ifndef SLUICE_CLI_TIME_H
#define SLUICE_CLI_TIME_H

#include <stdint.h>

/* 0 with *ms, or -ERR_INVALID. */
int cli_time_parse(const char *s, int64_t now_ms, int64_t *ms);

#endif
