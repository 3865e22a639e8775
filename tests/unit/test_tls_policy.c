/* SPDX-License-Identifier: Apache-2.0 */
/* The secure-by-default rule: which listen addresses are loopback, and that
 * a non-loopback listener without TLS and authentication (SASL, tokens or
 * required client certificates) is refused unless allow_insecure. */
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "store/store_config.h"
#include "store/tls/tls_policy.h"
#include "tests/unit/unit.h"

static void test_loopback(void)
{
	CU_ASSERT_TRUE(tls_policy_is_loopback("127.0.0.1:9092"));
	CU_ASSERT_TRUE(tls_policy_is_loopback("127.1.2.3:9092"));
	CU_ASSERT_TRUE(tls_policy_is_loopback("[::1]:9092"));
	CU_ASSERT_TRUE(tls_policy_is_loopback("localhost:9092"));
	CU_ASSERT_FALSE(tls_policy_is_loopback("0.0.0.0:9092"));
	CU_ASSERT_FALSE(tls_policy_is_loopback("[::]:9092"));
	CU_ASSERT_FALSE(tls_policy_is_loopback(":9092"));
	CU_ASSERT_FALSE(tls_policy_is_loopback("*:9092"));
	CU_ASSERT_FALSE(tls_policy_is_loopback("10.1.2.3:9092"));
	CU_ASSERT_FALSE(tls_policy_is_loopback("[::ffff:10.0.0.1]:9092"));
	CU_ASSERT_TRUE(tls_policy_is_loopback("[::ffff:127.0.0.1]:9092"));
	CU_ASSERT_FALSE(tls_policy_is_loopback("no-port"));
	CU_ASSERT_FALSE(tls_policy_is_loopback("name.invalid:9092"));
}

static void set(char **slot, const char *v)
{
	mem_free(*slot);
	*slot = v ? mem_strdup(v) : NULL;
}

static void test_check(void)
{
	struct store_config c;
	struct cfg_error err;

	CU_ASSERT_EQUAL(store_config_defaults(&c, &err), 0);
	CU_ASSERT_EQUAL(tls_policy_check(&c), 0); /* defaults: loopback */
	set(&c.kafka.listen, "0.0.0.0:9092");
	CU_ASSERT_EQUAL(tls_policy_check(&c), -ERR_CONFIG);
	c.kafka.allow_insecure = true;
	CU_ASSERT_EQUAL(tls_policy_check(&c), 0);
	c.kafka.allow_insecure = false;
	set(&c.kafka.tls.cert, "/etc/sluice/tls/store.crt");
	CU_ASSERT_EQUAL(tls_policy_check(&c), -ERR_CONFIG); /* TLS, anyone may talk */
	c.kafka.tls.client_auth = TLS_CLIENT_AUTH_REQUEST;
	CU_ASSERT_EQUAL(tls_policy_check(&c), -ERR_CONFIG); /* a certificate is optional */
	c.kafka.tls.client_auth = TLS_CLIENT_AUTH_REQUIRE;
	CU_ASSERT_EQUAL(tls_policy_check(&c), 0);
	c.kafka.tls.client_auth = TLS_CLIENT_AUTH_NONE;
	c.kafka.sasl.v = mem_calloc(1, sizeof(char *));
	CU_ASSERT_FATAL(c.kafka.sasl.v != NULL);
	c.kafka.sasl.v[0] = mem_strdup("SCRAM-SHA-512");
	c.kafka.sasl.n = 1;
	CU_ASSERT_EQUAL(tls_policy_check(&c), 0); /* TLS + SASL */
	set(&c.http.listen, "[::]:8470");
	CU_ASSERT_EQUAL(tls_policy_check(&c), -ERR_CONFIG);
	c.http.allow_insecure = true;
	CU_ASSERT_EQUAL(tls_policy_check(&c), 0);
	c.http.allow_insecure = false;
	set(&c.http.tls.cert, "/etc/sluice/tls/store.crt");
	CU_ASSERT_EQUAL(tls_policy_check(&c), -ERR_CONFIG); /* TLS, no tokens */
	set(&c.http.tokens_file, "/etc/sluice/tokens");
	CU_ASSERT_EQUAL(tls_policy_check(&c), 0);
	set(&c.kafka.tls.cert, NULL);
	CU_ASSERT_EQUAL(tls_policy_check(&c), -ERR_CONFIG); /* SASL in the clear */
	store_config_release(&c);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_loopback),
		UNIT_TEST(test_check),
		UNIT_END,
	};

	return unit_run("tls_policy", tests);
}
