/* SPDX-License-Identifier: Apache-2.0 */
/* Server TLS material: configuration errors refuse to load, the principal
 * is "User:" + the RFC 2253 subject (most specific RDN first, escaped), and
 * a chain of zero certificates is "no certificate". */
#include <openssl/x509.h>
#include <string.h>

#include "lib/err.h"
#include "store/tls/tls_server.h"
#include "tests/unit/unit.h"

static void test_config_errors(void)
{
	struct tls_section c;
	struct tls_server *t = (struct tls_server *)1;

	memset(&c, 0, sizeof(c));
	c.cert = "/nonexistent/store.crt";
	CU_ASSERT_EQUAL(tls_server_new("kafka", &c, NULL, &t), -ERR_CONFIG); /* no key */
	CU_ASSERT_PTR_NULL(t);
	c.key = "/nonexistent/store.key";
	CU_ASSERT_EQUAL(tls_server_new("kafka", &c, NULL, &t), -ERR_CONFIG); /* no files */
	c.client_auth = TLS_CLIENT_AUTH_REQUIRE;
	CU_ASSERT_EQUAL(tls_server_new("kafka", &c, NULL, &t), -ERR_CONFIG); /* no client_ca */
	tls_server_free(NULL);
}

static X509 *cert_with(const char *const *rdns)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);

	for (int i = 0; rdns[i]; i += 2)
		X509_NAME_add_entry_by_txt(n, rdns[i], MBSTRING_UTF8,
					   (const unsigned char *)rdns[i + 1], -1, -1, 0);
	return x;
}

static void test_principal(void)
{
	static const char *const simple[] = {"O", "Example", "CN", "web-01", NULL};
	static const char *const odd[] = {"CN", "a,b=c", NULL};
	char out[TLS_PRINCIPAL_MAX], tiny[12];
	X509 *x = cert_with(simple);

	CU_ASSERT_EQUAL(tls_server_principal(x, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "User:CN=web-01,O=Example");
	CU_ASSERT_EQUAL(tls_server_principal(x, tiny, sizeof(tiny)), -ERR_TOO_LARGE);
	X509_free(x);
	x = cert_with(odd);
	CU_ASSERT_EQUAL(tls_server_principal(x, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "User:CN=a\\,b=c");
	X509_free(x);
}

static void test_verify_nothing(void)
{
	char p[64], why[64];

	CU_ASSERT_EQUAL(tls_server_verify_der(NULL, NULL, NULL, 0, p, sizeof(p), why, sizeof(why)),
			-ERR_NOT_FOUND);
	CU_ASSERT_STRING_EQUAL(why, "no client certificate");
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_config_errors),
		UNIT_TEST(test_principal),
		UNIT_TEST(test_verify_nothing),
		UNIT_END,
	};

	return unit_run("tls_server", tests);
}
