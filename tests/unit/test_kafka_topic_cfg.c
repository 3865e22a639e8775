/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka's topic config rules (store/kafka/kafka_topic_cfg.c): every name
 * known and sorted, honoured configs landing in struct topic_config,
 * recorded ones in the extra, Kafka's validators and messages for bad
 * values and unknown names, delete back to the default, append/subtract on
 * lists only, and the extra round trip through load.
 */
#include <string.h>

#include "store/kafka/kafka_errors.h"
#include "store/kafka/kafka_topic_cfg.h"
#include "tests/unit/unit.h"

static struct topic_config defaults(void)
{
	struct topic_config d;

	memset(&d, 0, sizeof(d));
	d.partitions = 1;
	d.retention_ms = 604800000;
	d.retention_bytes = -1;
	d.segment_bytes = 1 << 30;
	d.segment_ms = 604800000;
	d.max_batch_bytes = 8 << 20;
	return d;
}

static int16_t set(struct kafka_topic_cfg *c, const char *k, const char *v, char *msg)
{
	return kafka_topic_cfg_apply(c, KAFKA_CFG_SET, k, v, msg, KAFKA_TOPIC_CFG_MSG_MAX);
}

static void test_table(void)
{
	for (size_t i = 1; i < KAFKA_TOPIC_CFG_N; i++)
		CU_ASSERT(strcmp(kafka_topic_cfg_def(i - 1)->name, kafka_topic_cfg_def(i)->name) <
			  0);
	CU_ASSERT_PTR_NULL(kafka_topic_cfg_def(KAFKA_TOPIC_CFG_N));
	CU_ASSERT_EQUAL(kafka_topic_cfg_find("nope"), -1);
	CU_ASSERT(kafka_topic_cfg_find("segment.ms") >= 0);
}

static void test_set_and_validate(void)
{
	struct topic_config d = defaults();
	struct kafka_topic_cfg c;
	char msg[KAFKA_TOPIC_CFG_MSG_MAX], v[KAFKA_TOPIC_CFG_VAL_MAX];
	struct buf b;

	kafka_topic_cfg_init(&c, &d);
	CU_ASSERT_EQUAL(set(&c, "retention.ms", " 5000 ", msg), 0);
	CU_ASSERT_EQUAL(c.tc.retention_ms, 5000);
	CU_ASSERT_EQUAL(set(&c, "message.timestamp.type", "LogAppendTime", msg), 0);
	CU_ASSERT_EQUAL(c.tc.timestamp_type, ENGINE_TS_LOG_APPEND_TIME);
	CU_ASSERT_EQUAL(set(&c, "compression.type", "lz4", msg), 0);
	CU_ASSERT_EQUAL(set(&c, "cleanup.policy", "compact,delete", msg), 0);
	CU_ASSERT_EQUAL(set(&c, "delete.retention.ms", "100", msg), 0);
	CU_ASSERT_EQUAL(set(&c, "min.cleanable.dirty.ratio", "0.25", msg), 0);
	CU_ASSERT_EQUAL(set(&c, "compression.gzip.level", "-1", msg), 0);
	CU_ASSERT_EQUAL(set(&c, "leader.replication.throttled.replicas", "0:0,1:0", msg), 0);
	CU_ASSERT_EQUAL(set(&c, "preallocate", "TRUE", msg), 0);

	CU_ASSERT_EQUAL(set(&c, "compression.type", "brotli", msg), KERR_INVALID_CONFIG);
	CU_ASSERT_STRING_EQUAL(msg, "Invalid value brotli for configuration compression.type: "
				    "String must be one of: uncompressed, zstd, lz4, snappy, gzip, "
				    "producer");
	CU_ASSERT_EQUAL(set(&c, "retention.ms", "abc", msg), KERR_INVALID_CONFIG);
	CU_ASSERT_STRING_EQUAL(msg, "Invalid value abc for configuration retention.ms: "
				    "Not a number of type LONG");
	CU_ASSERT_EQUAL(set(&c, "retention.ms", "-2", msg), KERR_INVALID_CONFIG);
	CU_ASSERT_EQUAL(set(&c, "segment.bytes", "1000", msg), KERR_INVALID_CONFIG);
	CU_ASSERT_STRING_EQUAL(msg, "Invalid value 1000 for configuration segment.bytes: "
				    "Value must be at least 1048576");
	CU_ASSERT_EQUAL(set(&c, "segment.bytes", "3000000000", msg), KERR_INVALID_CONFIG);
	CU_ASSERT_EQUAL(set(&c, "cleanup.policy", "compact,nope", msg), KERR_INVALID_CONFIG);
	CU_ASSERT_EQUAL(set(&c, "compression.gzip.level", "0", msg), KERR_INVALID_CONFIG);
	CU_ASSERT_EQUAL(set(&c, "min.cleanable.dirty.ratio", "1.5", msg), KERR_INVALID_CONFIG);
	CU_ASSERT_EQUAL(set(&c, "preallocate", "yes", msg), KERR_INVALID_CONFIG);
	CU_ASSERT_EQUAL(set(&c, "remote.storage.enable", "true", msg), KERR_INVALID_CONFIG);
	CU_ASSERT_EQUAL(set(&c, "remote.storage.enable", "false", msg), 0);
	CU_ASSERT_EQUAL(set(&c, "message.timestamp.type", "logappendtime", msg),
			KERR_INVALID_CONFIG);
	CU_ASSERT_EQUAL(set(&c, "delete.retention.ms", "${X}", msg), KERR_INVALID_CONFIG);
	CU_ASSERT_EQUAL(set(&c, "delete.retention.ms", NULL, msg), KERR_INVALID_CONFIG);
	CU_ASSERT_EQUAL(set(&c, "no.such.config", "1", msg), KERR_INVALID_CONFIG);
	CU_ASSERT_STRING_EQUAL(msg, "Unknown topic config name: no.such.config");

	/* the failed sets changed nothing */
	CU_ASSERT_FALSE(kafka_topic_cfg_value(&c, (size_t)kafka_topic_cfg_find("compression.type"),
					      v, sizeof(v)));
	CU_ASSERT_STRING_EQUAL(v, "lz4");
	CU_ASSERT_FALSE(kafka_topic_cfg_value(&c, (size_t)kafka_topic_cfg_find("retention.ms"), v,
					      sizeof(v)));
	CU_ASSERT_STRING_EQUAL(v, "5000");
	CU_ASSERT(kafka_topic_cfg_value(&c, (size_t)kafka_topic_cfg_find("segment.jitter.ms"), v,
					sizeof(v)));
	CU_ASSERT_STRING_EQUAL(v, "0");

	buf_init(&b, 1 << 16);
	CU_ASSERT_EQUAL(kafka_topic_cfg_extra(&c, &b), 0);
	CU_ASSERT_STRING_EQUAL((char *)b.data,
			       "cleanup.policy=compact,delete\ncompression.gzip.level=-1\n"
			       "compression.type=lz4\ndelete.retention.ms=100\n"
			       "leader.replication.throttled.replicas=0:0,1:0\n"
			       "min.cleanable.dirty.ratio=0.25\npreallocate=TRUE\n"
			       "remote.storage.enable=false\n");
	{
		struct kafka_topic_cfg c2;

		kafka_topic_cfg_init(&c2, &d);
		kafka_topic_cfg_load(&c2, &c.tc, (char *)b.data);
		CU_ASSERT_EQUAL(memcmp(c2.val, c.val, sizeof(c.val)), 0);
		CU_ASSERT_EQUAL(c2.tc.retention_ms, 5000);
	}
	buf_release(&b);
}

static void test_delete_append_subtract(void)
{
	struct topic_config d = defaults();
	struct kafka_topic_cfg c;
	char msg[KAFKA_TOPIC_CFG_MSG_MAX], v[KAFKA_TOPIC_CFG_VAL_MAX];
	size_t cp = (size_t)kafka_topic_cfg_find("cleanup.policy");

	kafka_topic_cfg_init(&c, &d);
	CU_ASSERT_EQUAL(set(&c, "retention.ms", "1000", msg), 0);
	CU_ASSERT_EQUAL(
		kafka_topic_cfg_apply(&c, KAFKA_CFG_DELETE, "retention.ms", NULL, msg, sizeof(msg)),
		0);
	CU_ASSERT_EQUAL(c.tc.retention_ms, 604800000);
	CU_ASSERT_EQUAL(kafka_topic_cfg_apply(&c, KAFKA_CFG_APPEND, "cleanup.policy", "compact",
					      msg, sizeof(msg)),
			0);
	CU_ASSERT_FALSE(kafka_topic_cfg_value(&c, cp, v, sizeof(v)));
	CU_ASSERT_STRING_EQUAL(v, "delete,compact");
	CU_ASSERT_EQUAL(kafka_topic_cfg_apply(&c, KAFKA_CFG_APPEND, "cleanup.policy", "compact",
					      msg, sizeof(msg)),
			0);
	kafka_topic_cfg_value(&c, cp, v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "delete,compact");
	CU_ASSERT_EQUAL(kafka_topic_cfg_apply(&c, KAFKA_CFG_SUBTRACT, "cleanup.policy", "delete",
					      msg, sizeof(msg)),
			0);
	kafka_topic_cfg_value(&c, cp, v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "compact");
	CU_ASSERT_EQUAL(kafka_topic_cfg_apply(&c, KAFKA_CFG_SUBTRACT, "cleanup.policy", "compact",
					      msg, sizeof(msg)),
			KERR_INVALID_CONFIG);
	CU_ASSERT_EQUAL(
		kafka_topic_cfg_apply(&c, KAFKA_CFG_APPEND, "retention.ms", "5", msg, sizeof(msg)),
		KERR_INVALID_CONFIG);
	CU_ASSERT_STRING_EQUAL(msg, "Config value append is not allowed for config key: "
				    "retention.ms");
	CU_ASSERT_EQUAL(kafka_topic_cfg_apply(&c, KAFKA_CFG_DELETE, "cleanup.policy", NULL, msg,
					      sizeof(msg)),
			0);
	CU_ASSERT(kafka_topic_cfg_value(&c, cp, v, sizeof(v)));
	CU_ASSERT_STRING_EQUAL(v, "delete");
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_table),
		UNIT_TEST(test_set_and_validate),
		UNIT_TEST(test_delete_append_subtract),
		UNIT_END,
	};

	return unit_run("kafka_topic_cfg", tests);
}
