/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACL file: grammar (quoted principals, resource kinds, comments), errors
 * naming file:line:column, permission implication per resource kind, globs,
 * the User:* wildcard, "any resource" checks, and the producer-id ownership
 * of struct auth (owner kept, foreign principal refused, unknown id
 * claimed, ids large and distinct).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "store/auth/acl.h"
#include "store/auth/auth.h"
#include "tests/unit/unit.h"

static const char good[] = "# principal  resource  permissions\n"
			   "\n"
			   "User:alice   app*          produce,consume\n"
			   "User:alice   group:alice-* consume\n"
			   "  User:ops\t*\tadmin  \r\n"
			   "User:ops     cluster       admin\n"
			   "\"User:CN=web 01,O=Example\"  topic:logs.*  produce\n"
			   "User:*       public        consume\n";

static struct acl *parse(const char *text, int expect_rc, char *err, size_t errlen)
{
	struct acl *a = NULL;

	CU_ASSERT_EQUAL(acl_parse("acl", text, strlen(text), &a, err, errlen), expect_rc);
	return a;
}

static void test_grants(void)
{
	char err[256];
	struct acl *a = parse(good, 0, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(acl_count(a), 6);
	CU_ASSERT(acl_allows(a, "User:alice", ACL_TOPIC, "app.web", ACL_PRODUCE));
	CU_ASSERT(acl_allows(a, "User:alice", ACL_TOPIC, "app.web", ACL_PRODUCE | ACL_CONSUME));
	CU_ASSERT(!acl_allows(a, "User:alice", ACL_TOPIC, "app.web", ACL_ADMIN));
	CU_ASSERT(!acl_allows(a, "User:alice", ACL_TOPIC, "secret", ACL_CONSUME));
	CU_ASSERT(!acl_allows(a, "User:alice", ACL_TOPIC, "secret", 0)); /* no grant at all */
	CU_ASSERT(acl_allows(a, "User:alice", ACL_TOPIC, "app.web", 0));
	CU_ASSERT(acl_allows(a, "User:alice", ACL_GROUP, "alice-1", ACL_CONSUME));
	CU_ASSERT(!acl_allows(a, "User:alice", ACL_GROUP, "bob-1", ACL_CONSUME));
	CU_ASSERT(
		!acl_allows(a, "User:alice", ACL_GROUP, "app.web", ACL_CONSUME)); /* kinds apart */
	CU_ASSERT(!acl_allows(a, "User:alice", ACL_CLUSTER, NULL, ACL_ADMIN));
	CU_ASSERT(acl_allows(a, "User:ops", ACL_TOPIC, "anything", ACL_PRODUCE | ACL_CONSUME));
	CU_ASSERT(acl_allows(a, "User:ops", ACL_CLUSTER, NULL, ACL_ADMIN));
	CU_ASSERT(acl_allows(a, "User:CN=web 01,O=Example", ACL_TOPIC, "logs.x", ACL_PRODUCE));
	CU_ASSERT(!acl_allows(a, "User:CN=web 01,O=Example", ACL_TOPIC, "logs.x", ACL_CONSUME));
	/* the wildcard covers everyone, the anonymous principal included */
	CU_ASSERT(acl_allows(a, ACL_ANONYMOUS, ACL_TOPIC, "public", ACL_CONSUME));
	CU_ASSERT(acl_allows(a, "User:alice", ACL_TOPIC, "public", ACL_CONSUME));
	CU_ASSERT(!acl_allows(a, ACL_ANONYMOUS, ACL_TOPIC, "public", ACL_PRODUCE));
	/* NULL name: on some resource of that kind */
	CU_ASSERT(acl_allows(a, "User:alice", ACL_TOPIC, NULL, ACL_PRODUCE));
	CU_ASSERT(!acl_allows(a, ACL_ANONYMOUS, ACL_TOPIC, NULL, ACL_PRODUCE));
	CU_ASSERT(!acl_allows(a, "User:nobody", ACL_TOPIC, NULL, ACL_PRODUCE));
	CU_ASSERT_EQUAL(acl_perms(a, "User:ops", ACL_GROUP, "g"), 0);
	acl_free(a);
	acl_free(NULL);
}

/* txn:GLOB grants (Kafka's TransactionalId resource): produce = WRITE */
static void test_txn_grants(void)
{
	char err[256];
	struct acl *a = parse("User:etl txn:etl-* produce\nUser:ops txn:* admin\n"
			      "User:etl etl-* produce\n",
			      0, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT(acl_allows(a, "User:etl", ACL_TXN, "etl-1", ACL_PRODUCE));
	CU_ASSERT(!acl_allows(a, "User:etl", ACL_TXN, "other", ACL_PRODUCE));
	CU_ASSERT(!acl_allows(a, "User:etl", ACL_TXN, "etl-1", ACL_ADMIN));
	CU_ASSERT(acl_allows(a, "User:ops", ACL_TXN, "anything", ACL_PRODUCE | ACL_ADMIN));
	/* kinds apart: a topic grant is no transactional-id grant */
	CU_ASSERT(!acl_allows(a, "User:etl", ACL_TOPIC, "etl-1", ACL_CONSUME));
	CU_ASSERT(!acl_allows(a, "User:ops", ACL_TOPIC, "etl-1", ACL_PRODUCE));
	acl_free(a);
}

static void test_errors(void)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{"alice app* produce\n", "acl:1:1: principal"},
		{"# c\nUser:a app* write\n", "acl:2:13: permissions"},
		{"User:a group:g produce\n", "acl:1:16: group permissions"},
		{"User:a cluster consume\n", "acl:1:16: cluster permission"},
		{"User:a group: consume\n", "acl:1:8: resource"},
		{"User:a app*\n", "acl:1:1: expected"},
		{"User:a app* produce extra\n", "acl:1:1: expected"},
		{"\"User:a app* produce\n", "acl:1:1: expected"},
		{"User:a app* produce,\n", "acl:1:13: permissions"},
		{"User:a txn:t* consume\n", "acl:1:15: txn permissions"},
		{"User:a txn: produce\n", "acl:1:8: resource"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		struct acl *a = parse(cases[i].text, -ERR_CONFIG, err, sizeof(err));

		CU_ASSERT_PTR_NULL(a);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fprintf(stderr, "case %zu: got '%s'\n", i, err);
		CU_ASSERT_EQUAL(strncmp(err, cases[i].err, strlen(cases[i].err)), 0);
	}
}

static void test_empty_file(void)
{
	char err[64];
	struct acl *a = parse("# nothing yet\n", 0, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT(!acl_allows(a, "User:alice", ACL_TOPIC, "t", ACL_CONSUME));
	acl_free(a);
}

static void test_producer_owners(void)
{
	struct store_config conf;
	struct cfg_error cerr;
	struct auth *a = NULL;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(store_config_defaults(&conf, &cerr), 0);
	CU_ASSERT_EQUAL_FATAL(auth_new(&conf, &a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(auth_sasl_mechs(a), 0);
	CU_ASSERT(!auth_acl_enabled(a));
	CU_ASSERT(auth_may(a, "User:x", ACL_TOPIC, "t", ACL_ADMIN)); /* no ACL: all allowed */
	/* an id nobody obtained is claimed by its first user */
	CU_ASSERT_EQUAL(auth_producer_check(a, AUTH_KAFKA, 12345, "User:bob"), 0);
	CU_ASSERT_EQUAL(auth_producer_check(a, AUTH_KAFKA, 12345, "User:bob"), 0);
	CU_ASSERT_EQUAL(auth_producer_check(a, AUTH_HTTP, 12345, "User:alice"), -ERR_AUTH);
	CU_ASSERT_EQUAL(auth_producer_check(a, AUTH_KAFKA, -1, "User:alice"), 0); /* none */
	auth_free(a);
	store_config_release(&conf);
	/* a users file is needed for SASL */
	CU_ASSERT_EQUAL_FATAL(store_config_defaults(&conf, &cerr), 0);
	conf.kafka.sasl.v = (char *[]){"SCRAM-SHA-512"};
	conf.kafka.sasl.n = 1;
	CU_ASSERT_EQUAL(auth_new(&conf, &a, err, sizeof(err)), -ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "users_file"));
	conf.kafka.sasl.v = (char *[]){"GSSAPI"};
	CU_ASSERT_EQUAL(auth_new(&conf, &a, err, sizeof(err)), -ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "GSSAPI"));
	conf.kafka.sasl.v = NULL;
	conf.kafka.sasl.n = 0;
	store_config_release(&conf);
}

static unsigned drop_alice_produce(const char *principal, enum acl_res kind, const char *glob,
				   unsigned perms, void *arg)
{
	(void)glob;
	(void)perms;
	(void)arg;
	return strcmp(principal, "User:alice") == 0 && kind == ACL_TOPIC ? ACL_PRODUCE : 0;
}

/* CreateAcls appends, DeleteAcls takes bits off lines; comments survive. */
static void test_file_edits(void)
{
	char path[] = "/tmp/sluice-acl-XXXXXX", err[256];
	static const char start[] =
		"# keep me\nUser:alice app* produce,consume\nUser:bob b* produce";
	struct acl *a = NULL;
	size_t removed = 0;
	struct buf b;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, start, strlen(start)), (ssize_t)strlen(start));
	close(fd);
	CU_ASSERT_EQUAL(
		acl_file_append(path, "\"User:carol\" group:c* consume\n", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(acl_file_append(path, "carol x consume\n", err, sizeof(err)), -ERR_CONFIG);
	CU_ASSERT_EQUAL(acl_file_remove(path, drop_alice_produce, NULL, &removed), 0);
	CU_ASSERT_EQUAL(removed, 1);
	buf_init(&b, 1 << 20);
	CU_ASSERT_EQUAL(fs_read_file(path, &b), 0);
	CU_ASSERT_EQUAL(buf_cstr(&b), 0);
	CU_ASSERT_STRING_EQUAL((char *)b.data,
			       "# keep me\nUser:alice app* consume\n"
			       "User:bob b* produce\n\"User:carol\" group:c* consume\n");
	CU_ASSERT_EQUAL(acl_load(path, &a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(acl_count(a), 3);
	CU_ASSERT(!acl_allows(a, "User:alice", ACL_TOPIC, "app.x", ACL_PRODUCE));
	CU_ASSERT(acl_allows(a, "User:carol", ACL_GROUP, "c1", ACL_CONSUME));
	acl_free(a);
	buf_release(&b);
	unlink(path);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_grants),
		UNIT_TEST(test_errors),
		UNIT_TEST(test_empty_file),
		UNIT_TEST(test_producer_owners),
		UNIT_TEST(test_file_edits),
		UNIT_TEST(test_txn_grants),
		UNIT_END,
	};

	return unit_run("acl", tests);
}
