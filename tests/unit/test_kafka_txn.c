/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kafka output's transactions (plugins/out_kafka/kafka_txn.c) without a
 * cluster: the spool instance id (made once, then stable; a damaged file is
 * replaced) and the producer / read-back consumer configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fs.h"
#include "plugins/out_kafka/kafka_txn.h"
#include "tests/unit/unit.h"

static void test_instance(void)
{
	char dir[] = "/tmp/test_kafka_txn.XXXXXX", path[128], first[40];
	struct kafka_txn t, t2;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	memset(&t, 0, sizeof(t));
	memset(&t2, 0, sizeof(t2));
	CU_ASSERT_EQUAL(kafka_txn_instance(&t, dir, "test"), 0);
	CU_ASSERT_EQUAL(strlen(t.instance), 16);
	snprintf(first, sizeof(first), "%s", t.instance);
	/* a restart reads the same id */
	CU_ASSERT_EQUAL(kafka_txn_instance(&t2, dir, "test"), 0);
	CU_ASSERT_STRING_EQUAL(t2.instance, first);
	/* a damaged file: a new id (positions of the old one are not trusted) */
	snprintf(path, sizeof(path), "%s/%s", dir, EO_INSTANCE_FILE);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("x", f);
	fclose(f);
	memset(&t2, 0, sizeof(t2));
	CU_ASSERT_EQUAL(kafka_txn_instance(&t2, dir, "test"), 0);
	CU_ASSERT_EQUAL(strlen(t2.instance), 16);
	CU_ASSERT_STRING_NOT_EQUAL(t2.instance, first);
	CU_ASSERT_EQUAL(kafka_txn_position(&t2, "t", 0), 0);
	fs_rmtree(dir);
}

static void test_configure(void)
{
	rd_kafka_conf_t *kc = rd_kafka_conf_new();
	struct kafka_txn t;
	char why[300], v[256];
	size_t vl = sizeof(v);

	memset(&t, 0, sizeof(t));
	CU_ASSERT_EQUAL(rd_kafka_conf_set(kc, "acks", "all", why, sizeof(why)), RD_KAFKA_CONF_OK);
	CU_ASSERT_EQUAL(rd_kafka_conf_set(kc, "bootstrap.servers", "127.0.0.1:9", why, sizeof(why)),
			RD_KAFKA_CONF_OK);
	CU_ASSERT_EQUAL(kafka_txn_configure(&t, kc, "sluice.host.out", "logs", why, sizeof(why)),
			0);
	CU_ASSERT_STRING_EQUAL(t.group, "sluice-agent.sluice.host.out");
	CU_ASSERT_EQUAL(rd_kafka_conf_get(kc, "transactional.id", v, &vl), RD_KAFKA_CONF_OK);
	CU_ASSERT_STRING_EQUAL(v, "sluice.host.out");
	vl = sizeof(v);
	/* a message may not outlive its transaction */
	CU_ASSERT_EQUAL(rd_kafka_conf_get(kc, "message.timeout.ms", v, &vl), RD_KAFKA_CONF_OK);
	CU_ASSERT_STRING_EQUAL(v, "50000");
	/* the read-back consumer: connection kept, group set, producer-only dropped */
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.cconf);
	vl = sizeof(v);
	CU_ASSERT_EQUAL(rd_kafka_conf_get(t.cconf, "bootstrap.servers", v, &vl), RD_KAFKA_CONF_OK);
	CU_ASSERT_STRING_EQUAL(v, "127.0.0.1:9");
	vl = sizeof(v);
	CU_ASSERT_EQUAL(rd_kafka_conf_get(t.cconf, "group.id", v, &vl), RD_KAFKA_CONF_OK);
	CU_ASSERT_STRING_EQUAL(v, t.group);
	vl = sizeof(v);
	v[0] = '\0';
	CU_ASSERT(rd_kafka_conf_get(t.cconf, "transactional.id", v, &vl) != RD_KAFKA_CONF_OK ||
		  strcmp(v, "sluice.host.out") != 0);
	kafka_txn_release(&t);
	rd_kafka_conf_destroy(kc);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_instance),
		UNIT_TEST(test_configure),
		UNIT_END,
	};

	return unit_run("kafka_txn", tests);
}
