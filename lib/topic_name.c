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

const char *topic_name_check_len(const char *s, size_t n)
{
	if (n == 0 || n > TOPIC_NAME_MAX || (n == 1 && s[0] == '.') ||
	    (n == 2 && s[0] == '.' && s[1] == '.'))
		return "a topic is 1 to 249 characters, not '.' or '..'";
	for (size_t i = 0; i < n; i++)
		if (!legal_char(s[i]))
			return "a topic may hold only letters, digits, '.', '_' and '-'";
	return NULL;
}

const char *topic_name_check(const char *name)
{
	/* one past the bound is enough to refuse a longer name */
	return topic_name_check_len(name, strnlen(name, TOPIC_NAME_MAX + 1));
}

bool topic_name_valid(const char *name)
{
	return name && !topic_name_check(name);
}
