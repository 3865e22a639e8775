/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one check that a configured regular expression compiles, with PCRE2
 * (the agent's tail multiline/exclude patterns, its grep, redact and regex
 * parser filters).  A binary that calls it links -lpcre2-8; the store does
 * not, and lib/ is a static archive, so it does not pull this in.
 * Thread-safe.
 */
#ifndef SLUICE_REGEX_H
#define SLUICE_REGEX_H

#include <stddef.h>

/* A config option check (struct cfg_option.check): 0 when pattern compiles
 * with PCRE2's default options, else -1 with "bad regular expression at
 * offset N: <PCRE2's message>" in why. */
int regex_check(const char *pattern, char *why, size_t whylen);

#endif
