/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka's topic-name rule (Topic.validate in Apache Kafka): the legal
 * characters are ASCII letters, digits, '.', '_' and '-', so a name is also a
 * safe directory name.
 */
#include <string.h>

#include "lib/topic_name.h"

static bool legal_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

const char *topic_name_check(const char *name)
{
	size_t n = strnlen(name, TOPIC_NAME_MAX + 1);

	if (n == 0 || n > TOPIC_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return "a topic is 1 to 249 characters, not '.' or '..'";
	for (size_t i = 0; i < n; i++)
		if (!legal_char(name[i]))
			return "a topic may hold only letters, digits, '.', '_' and '-'";
	return NULL;
}

bool topic_name_valid(const char *name)
{
	return name && !topic_name_check(name);
}
