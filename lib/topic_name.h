/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka's topic-name rule, [a-zA-Z0-9._-]{1,249} and not "." or "..", in one
 * place for the agent's config, the CLI and the store (which refuses any
 * other name on every protocol).  Pure, thread-safe.
 */
#ifndef SLUICE_TOPIC_NAME_H
#define SLUICE_TOPIC_NAME_H

#include <stdbool.h>

#define TOPIC_NAME_MAX 249

/* NULL when name is a valid topic name, else why it is not: a static
 * sentence without the name ("a topic is 1 to 249 characters, ..."). */
const char *topic_name_check(const char *name);

/* The same for the n bytes at s (a name inside a URL path, not terminated). */
const char *topic_name_check_len(const char *s, size_t n);

/* topic_name_check(name) == NULL; false for NULL. */
bool topic_name_valid(const char *name);

#endif
