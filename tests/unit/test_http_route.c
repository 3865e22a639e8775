/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP route table: every endpoint maps to its route and parameters, and
 * every malformed path, method or parameter is refused with the status the
 * API documents (404, 405, 400).
 */
#include <string.h>

#include "lib/err.h"
#include "store/http/http_route.h"
#include "tests/unit/unit.h"

static void test_every_route(void)
{
	struct http_route r;

	CU_ASSERT_EQUAL(http_route_match("GET", "/health", &r), 0);
	CU_ASSERT_EQUAL(r.id, HTTP_ROUTE_HEALTH);
	CU_ASSERT_EQUAL(http_route_match("HEAD", "/metrics", &r), 0);
	CU_ASSERT_EQUAL(r.id, HTTP_ROUTE_METRICS);
	CU_ASSERT_EQUAL(http_route_match("GET", "/v1/topics", &r), 0);
	CU_ASSERT_EQUAL(r.id, HTTP_ROUTE_TOPICS);
	CU_ASSERT_EQUAL(http_route_match("POST", "/v1/topics", &r), 0);
	CU_ASSERT_EQUAL(r.method, HTTP_POST);
	CU_ASSERT_EQUAL(http_route_match("PUT", "/v1/topics/nginx.access_log-1", &r), 0);
	CU_ASSERT_EQUAL(r.id, HTTP_ROUTE_TOPIC);
	CU_ASSERT_STRING_EQUAL(r.topic, "nginx.access_log-1");
	CU_ASSERT_EQUAL(r.partition, -1);
	CU_ASSERT_EQUAL(http_route_match("DELETE", "/v1/topics/x", &r), 0);
	CU_ASSERT_EQUAL(http_route_match("POST", "/v1/topics/logs/batches", &r), 0);
	CU_ASSERT_EQUAL(r.id, HTTP_ROUTE_BATCHES);
	CU_ASSERT_STRING_EQUAL(r.topic, "logs");
	CU_ASSERT_EQUAL(http_route_match("GET", "/v1/topics/logs/partitions/17/records", &r), 0);
	CU_ASSERT_EQUAL(r.id, HTTP_ROUTE_RECORDS);
	CU_ASSERT_EQUAL(r.partition, 17);
	CU_ASSERT_EQUAL(http_route_match("POST", "/v1/producers", &r), 0);
	CU_ASSERT_EQUAL(r.id, HTTP_ROUTE_PRODUCERS);
	CU_ASSERT_EQUAL(http_route_match("GET", "/v1/groups", &r), 0);
	CU_ASSERT_EQUAL(r.id, HTTP_ROUTE_GROUPS);
	CU_ASSERT_STRING_EQUAL(http_route_name(HTTP_ROUTE_BATCHES), "batches");
	CU_ASSERT_STRING_EQUAL(http_route_name((enum http_route_id)999), "other");
}

static void test_unknown_paths(void)
{
	static const char *const paths[] = {"",
					    "/",
					    "health",
					    "/healthz",
					    "/health/",
					    "/v1",
					    "/v1/",
					    "/v1/topics/",
					    "//v1/topics",
					    "/v1//topics",
					    "/v1/topics/x/",
					    "/v1/topics/x/batch",
					    "/v1/topics/x/partitions/0",
					    "/v1/topics/x/partitions/0/records/1",
					    "/v2/topics",
					    "/v1/topics/x/partitions/0/record",
					    "/a/b/c/d/e/f/g/h"};
	struct http_route r;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		CU_ASSERT_EQUAL(http_route_match("GET", paths[i], &r), -ERR_NOT_FOUND);
}

static void test_method_not_allowed(void)
{
	struct http_route r;
	char allow[64];

	CU_ASSERT_EQUAL(http_route_match("GET", "/v1/topics/x/batches", &r), -ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(r.allowed, (unsigned)HTTP_POST);
	CU_ASSERT_EQUAL(http_route_match("POST", "/health", &r), -ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(http_route_match("PATCH", "/v1/topics/x", &r), -ERR_UNSUPPORTED);
	http_route_allow_header(r.allowed, allow, sizeof(allow));
	CU_ASSERT_STRING_EQUAL(allow, "GET, HEAD, PUT, DELETE");
	CU_ASSERT_EQUAL(http_route_match("get", "/health", &r), -ERR_UNSUPPORTED);
	http_route_allow_header(HTTP_GET | HTTP_POST, allow, 6);
	CU_ASSERT_STRING_EQUAL(allow, "GET");
}

static void test_bad_segments(void)
{
	struct http_route r;
	char long_name[300], path[400];

	CU_ASSERT_EQUAL(http_route_match("GET", "/v1/topics/../partitions/0/records", &r),
			-ERR_INVALID);
	CU_ASSERT_EQUAL(http_route_match("PUT", "/v1/topics/.", &r), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_route_match("PUT", "/v1/topics/a b", &r), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_route_match("PUT", "/v1/topics/a%2f", &r), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_route_match("PUT", "/v1/topics/\xc3\xa9", &r), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_route_match("GET", "/v1/topics/x/partitions/-1/records", &r),
			-ERR_INVALID);
	CU_ASSERT_EQUAL(http_route_match("GET", "/v1/topics/x/partitions/01x/records", &r),
			-ERR_INVALID);
	CU_ASSERT_EQUAL(http_route_match("GET", "/v1/topics/x/partitions/2147483648/records", &r),
			-ERR_INVALID);
	CU_ASSERT_EQUAL(http_route_match("GET", "/v1/topics/x/partitions/2147483647/records", &r),
			0);
	CU_ASSERT_EQUAL(r.partition, 2147483647);
	memset(long_name, 'a', 249);
	long_name[249] = '\0';
	snprintf(path, sizeof(path), "/v1/topics/%s", long_name);
	CU_ASSERT_EQUAL(http_route_match("GET", path, &r), 0);
	CU_ASSERT_EQUAL(strlen(r.topic), 249);
	long_name[249] = 'a';
	long_name[250] = '\0';
	snprintf(path, sizeof(path), "/v1/topics/%s", long_name);
	CU_ASSERT_EQUAL(http_route_match("GET", path, &r), -ERR_INVALID);
}

/* Issue 16: %00 must not cut the path ("/v1/topics/a%00b" named "a"). */
static void test_unescape_keeps_nul_escape(void)
{
	char p1[] = "/v1/topics/a%00b", p2[] = "/v1/topics/a%2Db%41%zz%4", p3[] = "x%00";
	struct http_route r;

	CU_ASSERT_EQUAL(http_route_unescape(p1), strlen("/v1/topics/a%00b"));
	CU_ASSERT_STRING_EQUAL(p1, "/v1/topics/a%00b");
	CU_ASSERT_EQUAL(http_route_match("GET", p1, &r), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_route_unescape(p2), strlen("/v1/topics/a-bA%zz%4"));
	CU_ASSERT_STRING_EQUAL(p2, "/v1/topics/a-bA%zz%4");
	CU_ASSERT_EQUAL(http_route_unescape(p3), 4);
	CU_ASSERT_STRING_EQUAL(p3, "x%00");
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_every_route),
		UNIT_TEST(test_unknown_paths),
		UNIT_TEST(test_method_not_allowed),
		UNIT_TEST(test_bad_segments),
		UNIT_TEST(test_unescape_keeps_nul_escape),
		UNIT_END,
	};

	return unit_run("http_route", tests);
}
