/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tokens file: grammar and its error messages (which must never contain a
 * token), grants adding up across lines, globs, permission implication and
 * the lookup of present, absent, prefix and extended tokens.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "store/http/http_tokens.h"
#include "tests/unit/unit.h"

static const char good[] = "# sluice tokens\n"
			   "\n"
			   "agent-token-0123456789   nginx*     produce\n"
			   "reader-token-0123456789  *          consume\n"
			   "   admin-token-0123456789\tops-*\tadmin   \n"
			   "agent-token-0123456789   app.logs   produce,consume\r\n";

static struct http_tokens *parse(const char *text, int expect_rc, char *err, size_t errlen)
{
	struct http_tokens *t = NULL;

	CU_ASSERT_EQUAL(http_tokens_parse("tokens", text, strlen(text), &t, err, errlen),
			expect_rc);
	return t;
}

static void test_grants(void)
{
	char err[256];
	struct http_tokens *t = parse(good, 0, err, sizeof(err));
	int agent, reader, admin;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(http_tokens_count(t), 3);
	agent = http_tokens_find(t, "agent-token-0123456789", 22);
	reader = http_tokens_find(t, "reader-token-0123456789", 23);
	admin = http_tokens_find(t, "admin-token-0123456789", 22);
	CU_ASSERT(agent >= 0 && reader >= 0 && admin >= 0);
	CU_ASSERT(agent != reader && reader != admin);
	CU_ASSERT_EQUAL(http_tokens_line(t, agent), 3);
	CU_ASSERT_EQUAL(http_tokens_line(t, admin), 5);

	CU_ASSERT(http_tokens_allows(t, agent, HTTP_PERM_PRODUCE, "nginx"));
	CU_ASSERT(http_tokens_allows(t, agent, HTTP_PERM_PRODUCE, "nginx-access"));
	CU_ASSERT(!http_tokens_allows(t, agent, HTTP_PERM_PRODUCE, "ngin"));
	CU_ASSERT(!http_tokens_allows(t, agent, HTTP_PERM_CONSUME, "nginx"));
	/* the second line of the same token adds a grant */
	CU_ASSERT(http_tokens_allows(t, agent, HTTP_PERM_CONSUME, "app.logs"));
	CU_ASSERT(!http_tokens_allows(t, agent, HTTP_PERM_ADMIN, "app.logs"));
	CU_ASSERT(http_tokens_allows(t, agent, HTTP_PERM_PRODUCE, NULL));
	CU_ASSERT(!http_tokens_allows(t, agent, HTTP_PERM_ADMIN, NULL));

	CU_ASSERT(http_tokens_allows(t, reader, HTTP_PERM_CONSUME, "anything"));
	CU_ASSERT(!http_tokens_allows(t, reader, HTTP_PERM_PRODUCE, "anything"));

	/* admin implies produce and consume, within its glob */
	CU_ASSERT(http_tokens_allows(t, admin, HTTP_PERM_ADMIN, "ops-x"));
	CU_ASSERT(http_tokens_allows(t, admin, HTTP_PERM_PRODUCE, "ops-x"));
	CU_ASSERT(http_tokens_allows(t, admin, HTTP_PERM_CONSUME, "ops-x"));
	CU_ASSERT(!http_tokens_allows(t, admin, HTTP_PERM_CONSUME, "nginx"));
	CU_ASSERT(!http_tokens_allows(t, 99, HTTP_PERM_CONSUME, "x"));
	CU_ASSERT(!http_tokens_allows(t, -1, HTTP_PERM_CONSUME, "x"));
	http_tokens_free(t);
}

static void test_lookup_misses(void)
{
	struct http_tokens *t = parse(good, 0, NULL, 0);
	char big[600];

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(http_tokens_find(t, "agent-token-012345678", 21), -ERR_AUTH);
	CU_ASSERT_EQUAL(http_tokens_find(t, "agent-token-01234567890", 23), -ERR_AUTH);
	CU_ASSERT_EQUAL(http_tokens_find(t, "Agent-token-0123456789", 22), -ERR_AUTH);
	CU_ASSERT_EQUAL(http_tokens_find(t, "", 0), -ERR_AUTH);
	/* a token that repeats a configured one cyclically must not match */
	CU_ASSERT_EQUAL(http_tokens_find(t, "agent-token-0123456789agent-token-0123456789", 44),
			-ERR_AUTH);
	memset(big, 'a', sizeof(big));
	CU_ASSERT_EQUAL(http_tokens_find(t, big, sizeof(big)), -ERR_AUTH);
	http_tokens_free(t);
}

static void test_errors_name_lines_not_tokens(void)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{"secret-token-AAAAAAAA nginx\n", "tokens:1: expected"},
		{"# c\nsecret-token-AAAAAAAA nginx produce extra\n", "tokens:2: expected"},
		{"secret-token-AAAAAAAA nginx write\n", "tokens:1: permissions"},
		{"secret-token-AAAAAAAA nginx produce,\n", "tokens:1: permissions"},
		{"secret-token-AAAAAAAA nginx ,produce\n", "tokens:1: permissions"},
		{"# only comments\n\n", "no tokens"},
		{"", "no tokens"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		struct http_tokens *t = parse(cases[i].text, -ERR_CONFIG, err, sizeof(err));

		CU_ASSERT_PTR_NULL(t);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].want));
		CU_ASSERT_PTR_NULL(strstr(err, "secret"));
	}
	{
		char err[256] = "", text[700];

		memset(text, 'k', 600);
		snprintf(text + 600, sizeof(text) - 600, " x produce\n");
		CU_ASSERT_PTR_NULL(parse(text, -ERR_CONFIG, err, sizeof(err)));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "longer than"));
	}
	{
		char err[256] = "";
		const char text[] = "tok\0en x produce\n";
		struct http_tokens *t = NULL;

		CU_ASSERT_EQUAL(
			http_tokens_parse("tokens", text, sizeof(text) - 1, &t, err, sizeof(err)),
			-ERR_CONFIG);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "NUL"));
	}
}

/* "token User:NAME" maps a token to a principal (grants from the ACL file);
 * tokens with inline grants are "Token:LINE". */
static void test_principals(void)
{
	static const char text[] = "# t\n"
				   "map-token-0123456789     User:agent-web\n"
				   "inline-token-0123456789  app*  consume\n"
				   "map-token-0123456789     app*  produce\n";
	char err[256];
	struct http_tokens *t = parse(text, 0, err, sizeof(err));
	int m, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	m = http_tokens_find(t, "map-token-0123456789", 20);
	i = http_tokens_find(t, "inline-token-0123456789", 23);
	CU_ASSERT_STRING_EQUAL(http_tokens_principal(t, m), "User:agent-web");
	CU_ASSERT_STRING_EQUAL(http_tokens_principal(t, i), "Token:3");
	CU_ASSERT(http_tokens_allows(t, m, HTTP_PERM_PRODUCE, "app.x")); /* both kinds add up */
	CU_ASSERT(!http_tokens_allows(t, m, HTTP_PERM_CONSUME, "app.x"));
	CU_ASSERT_PTR_NULL(http_tokens_principal(t, -1));
	http_tokens_free(t);
	parse("tok-0123456789abcdef User:a\ntok-0123456789abcdef User:b\n", -ERR_CONFIG, err,
	      sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":2: token already mapped"));
	CU_ASSERT_PTR_NULL(strstr(err, "tok-0123"));
	parse("tok-0123456789abcdef alice\n", -ERR_CONFIG, err, sizeof(err));
}

static void test_load_file(void)
{
	char *dir = unit_tmpdir(), path[128], err[256];
	struct http_tokens *t = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tokens", dir);
	CU_ASSERT_EQUAL(http_tokens_load(path, &t, err, sizeof(err)), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(good, f);
	fclose(f);
	CU_ASSERT_EQUAL(http_tokens_load(path, &t, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(t);
	CU_ASSERT_EQUAL(http_tokens_count(t), 3);
	http_tokens_free(t);
	http_tokens_free(NULL);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_grants),
		UNIT_TEST(test_lookup_misses),
		UNIT_TEST(test_errors_name_lines_not_tokens),
		UNIT_TEST(test_principals),
		UNIT_TEST(test_load_file),
		UNIT_END,
	};

	return unit_run("http_tokens", tests);
}
