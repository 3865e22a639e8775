/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-principal byte-rate quotas (store/quota/quota.c): the token bucket's
 * burst and throttle arithmetic, overrides, the max_throttle cap, HTTP-style
 * delay checks, the bound on tracked principals, and nothing at all when no
 * rate is configured.
 */
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "store/quota/quota.h"
#include "store/store_config.h"
#include "tests/unit/unit.h"

static char *over_keys[] = {"fast"};
static char *over_vals[] = {"100MiB"};

static void conf_init(struct store_config *c, uint64_t rate)
{
	memset(c, 0, sizeof(*c));
	c->quotas.produce_bytes_per_sec = rate;
	c->quotas.fetch_bytes_per_sec = rate;
	c->quotas.max_throttle_ms = 5000;
	c->quotas.produce_overrides.keys = over_keys;
	c->quotas.produce_overrides.vals = over_vals;
	c->quotas.produce_overrides.n = rate ? 1 : 0;
}

static void test_off(void)
{
	struct store_config c;
	struct quota *q;
	struct buf b;

	conf_init(&c, 0);
	q = quota_new(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL(quota_charge(q, "x", QUOTA_PRODUCE, 1u << 30), 0);
	CU_ASSERT_EQUAL(quota_delay(q, "x", QUOTA_PRODUCE), 0);
	buf_init(&b, 1 << 20);
	quota_render(&b, q);
	CU_ASSERT_EQUAL(b.len, 0); /* nothing tracked, nothing rendered */
	buf_release(&b);
	quota_free(q);
	CU_ASSERT_EQUAL(quota_charge(NULL, "x", QUOTA_FETCH, 5), 0);
	quota_free(NULL);
}

static void test_bucket(void)
{
	struct store_config c;
	struct quota *q;
	int32_t ms;

	conf_init(&c, 1000000); /* 1 MB/s, one second of burst */
	q = quota_new(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL(quota_charge(q, "hog", QUOTA_PRODUCE, 600000), 0);
	CU_ASSERT_EQUAL(quota_delay(q, "hog", QUOTA_PRODUCE), 0);
	/* 1.1 MB in: 0.1 MB of debt is about 100 ms */
	ms = quota_charge(q, "hog", QUOTA_PRODUCE, 500000);
	CU_ASSERT(ms >= 90 && ms <= 110);
	CU_ASSERT(quota_delay(q, "hog", QUOTA_PRODUCE) > 0);
	/* directions and principals are separate */
	CU_ASSERT_EQUAL(quota_delay(q, "hog", QUOTA_FETCH), 0);
	CU_ASSERT_EQUAL(quota_charge(q, "other", QUOTA_PRODUCE, 900000), 0);
	/* the cap */
	ms = quota_charge(q, "hog", QUOTA_PRODUCE, 100000000);
	CU_ASSERT_EQUAL(ms, 5000);
	/* the override */
	CU_ASSERT_EQUAL(quota_charge(q, "fast", QUOTA_PRODUCE, 50000000), 0);
	quota_rejected(q, "hog", QUOTA_PRODUCE);
	quota_free(q);
}

static void test_bound(void)
{
	struct store_config c;
	struct quota *q;
	struct buf b;
	char name[32];

	conf_init(&c, 1000);
	q = quota_new(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	/* every newcomer in debt: the table stays bounded, the rest share <other> */
	for (int i = 0; i < QUOTA_MAX_PRINCIPALS + 500; i++) {
		snprintf(name, sizeof(name), "id-%d", i);
		(void)quota_charge(q, name, QUOTA_FETCH, 5000);
	}
	buf_init(&b, 64u << 20);
	quota_render(&b, q);
	CU_ASSERT_PTR_NOT_NULL(strstr((const char *)b.data, "sluice_quota_principals 4096\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr((const char *)b.data, "principal=\"<other>\""));
	buf_release(&b);
	quota_free(q);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_off),
		UNIT_TEST(test_bucket),
		UNIT_TEST(test_bound),
		UNIT_END,
	};

	return unit_run("quota", tests);
}
