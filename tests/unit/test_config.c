/* SPDX-License-Identifier: Apache-2.0 */
/* YAML config: typed binding, defaults, env expansion, and errors that name
 * file:line:column and the key. */
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/err.h"
#include "tests/unit/unit.h"

struct buffer_conf {
	uint64_t max_bytes;
	uint64_t max_memory;
};

struct demo_conf {
	char *name;
	int64_t workers;
	bool verbose;
	int64_t flush;
	int mode;
	double ratio;
	struct cfg_list paths;
	struct cfg_kv labels;
	struct buffer_conf buffer;
	const struct cfg_node *inputs;
	char *pattern;
};

static int check_no_space(const char *v, char *why, size_t whylen)
{
	if (strchr(v, ' ')) {
		snprintf(why, whylen, "must not contain spaces");
		return -1;
	}
	return 0;
}

static const char *const modes[] = {"split", "truncate", "skip", NULL};

/* clang-format off */
static const struct cfg_option buffer_opts[] = {
	{.name = "max_bytes", .type = CFG_SIZE, .offset = offsetof(struct buffer_conf, max_bytes),
	 .def = "512MiB", .help = "spool cap"},
	{.name = "max_memory", .type = CFG_SIZE, .offset = offsetof(struct buffer_conf, max_memory),
	 .def = "64MiB", .min = 1 << 20, .max = 1LL << 40},
	CFG_OPT_END,
};
/* clang-format on */

/* clang-format off */
static const struct cfg_option demo_opts[] = {
	{.name = "name", .type = CFG_STRING, .offset = offsetof(struct demo_conf, name),
	 .def = "web-01", .flags = 0},
	{.name = "workers", .type = CFG_INT, .offset = offsetof(struct demo_conf, workers),
	 .def = "2", .min = 1, .max = 64},
	{.name = "verbose", .type = CFG_BOOL, .offset = offsetof(struct demo_conf, verbose),
	 .def = "false"},
	{.name = "flush", .type = CFG_DURATION, .offset = offsetof(struct demo_conf, flush),
	 .def = "200ms"},
	{.name = "mode", .type = CFG_ENUM, .offset = offsetof(struct demo_conf, mode),
	 .def = "split", .choices = modes},
	{.name = "ratio", .type = CFG_DOUBLE, .offset = offsetof(struct demo_conf, ratio), .def = "0.5"},
	{.name = "paths", .type = CFG_LIST, .offset = offsetof(struct demo_conf, paths),
	 .check = check_no_space},
	{.name = "labels", .type = CFG_MAP, .offset = offsetof(struct demo_conf, labels)},
	{.name = "buffer", .type = CFG_SECTION, .offset = offsetof(struct demo_conf, buffer),
	 .sub = buffer_opts},
	{.name = "inputs", .type = CFG_NODE, .offset = offsetof(struct demo_conf, inputs)},
	{.name = "pattern", .type = CFG_STRING, .offset = offsetof(struct demo_conf, pattern),
	 .flags = CFG_REQUIRED},
	CFG_OPT_END,
};
/* clang-format on */

/* Load text and bind it; returns the bind result, err filled. */
static int load_bind(const char *text, struct demo_conf *c, struct cfg_error *err,
		     struct cfg_doc **docp)
{
	struct cfg_doc *doc = cfg_load_string("test.yaml", text, strlen(text), err);
	int rc;

	memset(c, 0, sizeof(*c));
	*docp = doc;
	if (!doc)
		return -ERR_CONFIG;
	rc = cfg_bind(cfg_doc_root(doc), demo_opts, c, "", err);
	return rc;
}

static void test_types_and_defaults(void)
{
	static const char text[] = "name: web-02\n"
				   "workers: 8\n"
				   "verbose: yes\n"
				   "flush: 1m30s\n"
				   "mode: truncate\n"
				   "paths: [/var/log/*.log, /srv/app.log]\n"
				   "labels: { env: prod, team: core }\n"
				   "buffer: { max_bytes: 1GiB }\n"
				   "inputs:\n"
				   "  - id: a\n"
				   "    type: tail\n"
				   "pattern: '^\\d+'\n";
	struct cfg_error err = {{0}};
	struct cfg_doc *doc;
	struct demo_conf c;

	CU_ASSERT_EQUAL_FATAL(load_bind(text, &c, &err, &doc), 0);
	CU_ASSERT_STRING_EQUAL(c.name, "web-02");
	CU_ASSERT_EQUAL(c.workers, 8);
	CU_ASSERT(c.verbose);
	CU_ASSERT_EQUAL(c.flush, 90000);
	CU_ASSERT_EQUAL(c.mode, 1);
	CU_ASSERT_DOUBLE_EQUAL(c.ratio, 0.5, 1e-9);
	CU_ASSERT_EQUAL_FATAL(c.paths.n, 2u);
	CU_ASSERT_STRING_EQUAL(c.paths.v[1], "/srv/app.log");
	CU_ASSERT_EQUAL_FATAL(c.labels.n, 2u);
	CU_ASSERT_STRING_EQUAL(c.labels.keys[1], "team");
	CU_ASSERT_STRING_EQUAL(c.labels.vals[1], "core");
	CU_ASSERT_EQUAL(c.buffer.max_bytes, 1ull << 30);
	CU_ASSERT_EQUAL(c.buffer.max_memory, 64ull << 20); /* default kept */
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.inputs);
	CU_ASSERT_EQUAL(c.inputs->kind, CFGN_SEQ);
	CU_ASSERT_EQUAL(c.inputs->n, 1u);
	CU_ASSERT_STRING_EQUAL(cfg_map_get(c.inputs->items[0], "type")->value, "tail");
	CU_ASSERT_EQUAL(cfg_map_get(c.inputs->items[0], "type")->line, 11);
	CU_ASSERT_STRING_EQUAL(c.pattern, "^\\d+");
	cfg_free(demo_opts, &c);
	cfg_doc_free(doc);
}

static void test_scalar_list_and_null(void)
{
	struct cfg_error err = {{0}};
	struct cfg_doc *doc;
	struct demo_conf c;

	CU_ASSERT_EQUAL_FATAL(load_bind("paths: /one.log\nlabels:\npattern: x\n", &c, &err, &doc),
			      0);
	CU_ASSERT_EQUAL(c.paths.n, 1u);
	CU_ASSERT_STRING_EQUAL(c.paths.v[0], "/one.log");
	CU_ASSERT_EQUAL(c.labels.n, 0u);
	CU_ASSERT_STRING_EQUAL(c.name, "web-01");
	cfg_free(demo_opts, &c);
	cfg_doc_free(doc);
}

struct bad_case {
	const char *text;
	const char *expect; /* substring of the error, after "test.yaml:" */
};

static void test_errors_name_position_and_key(void)
{
	static const struct bad_case cases[] = {
		{"pattern: x\nworkerz: 3\n", "test.yaml:2:1: workerz: unknown key"},
		{"pattern: x\nworkers: many\n", "test.yaml:2:10: workers: expected an integer"},
		{"pattern: x\nworkers: 100\n",
		 "test.yaml:2:10: workers: value out of range [1, 64]"},
		{"pattern: x\nverbose: maybe\n", "test.yaml:2:10: verbose: expected true or false"},
		{"pattern: x\nflush: 10\n", "test.yaml:2:8: flush: expected a duration"},
		{"pattern: x\nmode: chop\n",
		 "test.yaml:2:7: mode: expected one of: split, truncate, skip"},
		{"pattern: x\nbuffer:\n  max_bytes: lots\n",
		 "test.yaml:3:14: buffer.max_bytes: expected a size"},
		{"pattern: x\nbuffer:\n  max_memory: 1KiB\n",
		 "test.yaml:3:15: buffer.max_memory: value out of range"},
		{"pattern: x\nbuffer:\n  size: 1\n", "test.yaml:3:3: buffer.size: unknown key"},
		{"pattern: x\npaths: [a, 'b c']\n",
		 "test.yaml:2:12: paths[1]: must not contain spaces"},
		{"pattern: x\nname: [a]\n", "test.yaml:2:7: name: expected a string, got a list"},
		{"name: a\n", "test.yaml:1:1: pattern: required key is missing"},
		{"pattern: x\npattern: y\n",
		 "test.yaml:2:1: duplicate key 'pattern' (first at line 1)"},
		{"pattern: [x\n", "test.yaml:2:1:"},
		{"pattern: x\n  bad: indent\n", "test.yaml:2:6:"},
		{"pattern: ${SLUICE_TEST_UNSET_VAR}\n",
		 "test.yaml:1:10: environment variable SLUICE_TEST_UNSET_VAR is not set"},
		{"a: &x 1\nb: *x\n", "test.yaml:2:4: YAML aliases"},
		{"- just\n- a list\n", "test.yaml:1:1: document: expected a mapping"},
		{"pattern: x\n---\npattern: y\n", "only one YAML document"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg_error err = {{0}};
		struct cfg_doc *doc;
		struct demo_conf c;
		int rc = load_bind(cases[i].text, &c, &err, &doc);

		CU_ASSERT(rc < 0);
		if (!strstr(err.msg, cases[i].expect)) {
			fprintf(stderr, "case %zu: got '%s', want '%s'\n", i, err.msg,
				cases[i].expect);
			CU_FAIL("error message");
		}
		CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
		cfg_free(demo_opts, &c);
		cfg_doc_free(doc);
	}
}

static void test_env_expansion(void)
{
	struct cfg_error err = {{0}};
	struct cfg_doc *doc;
	struct demo_conf c;

	setenv("SLUICE_TEST_HOST", "db-7", 1);
	CU_ASSERT_EQUAL_FATAL(
		load_bind("name: ${SLUICE_TEST_HOST}-x\npattern: ${SLUICE_NOPE:-fallback}\n"
			  "paths: [\"$${literal}\", \"logs-${input}-${host}\"]\n",
			  &c, &err, &doc),
		0);
	CU_ASSERT_STRING_EQUAL(c.name, "db-7-x");
	CU_ASSERT_STRING_EQUAL(c.pattern, "fallback");
	CU_ASSERT_STRING_EQUAL(c.paths.v[0], "${literal}");
	/* unset lower-case names are per-record templates, kept for the plugin */
	CU_ASSERT_STRING_EQUAL(c.paths.v[1], "logs-${input}-${host}");
	cfg_free(demo_opts, &c);
	cfg_doc_free(doc);
}

static void test_value_parsers(void)
{
	uint64_t v;
	bool b;
	int64_t i;

	CU_ASSERT_EQUAL(cfg_parse_size("512MiB", &v), 0);
	CU_ASSERT_EQUAL(v, 512ull << 20);
	CU_ASSERT_EQUAL(cfg_parse_size("10KB", &v), 0);
	CU_ASSERT_EQUAL(v, 10000u);
	CU_ASSERT_EQUAL(cfg_parse_size("4096", &v), 0);
	CU_ASSERT_EQUAL(v, 4096u);
	CU_ASSERT(cfg_parse_size("-1", &v) < 0);
	CU_ASSERT(cfg_parse_size("1PiB", &v) < 0);
	CU_ASSERT(cfg_parse_size("99999999999999999999GiB", &v) < 0);
	CU_ASSERT_EQUAL(cfg_parse_bool("off", &b), 0);
	CU_ASSERT(!b);
	CU_ASSERT(cfg_parse_bool("2", &b) < 0);
	CU_ASSERT_EQUAL(cfg_parse_int("0x10", &i), 0);
	CU_ASSERT_EQUAL(i, 16);
	CU_ASSERT(cfg_parse_int("12abc", &i) < 0);
	CU_ASSERT(cfg_parse_int("", &i) < 0);
}

/* A leading zero is decimal: strtoll's base 0 read "010" as octal 8 and
 * refused "08" (issue 15). */
static void test_int_leading_zero(void)
{
	int64_t i = 0;

	CU_ASSERT_EQUAL(cfg_parse_int("010", &i), 0);
	CU_ASSERT_EQUAL(i, 10);
	CU_ASSERT_EQUAL(cfg_parse_int("08", &i), 0);
	CU_ASSERT_EQUAL(i, 8);
	CU_ASSERT_EQUAL(cfg_parse_int("-010", &i), 0);
	CU_ASSERT_EQUAL(i, -10);
	CU_ASSERT_EQUAL(cfg_parse_int("+007", &i), 0);
	CU_ASSERT_EQUAL(i, 7);
	CU_ASSERT_EQUAL(cfg_parse_int("0", &i), 0);
	CU_ASSERT_EQUAL(i, 0);
	CU_ASSERT_EQUAL(cfg_parse_int("0X1f", &i), 0);
	CU_ASSERT_EQUAL(i, 31);
	CU_ASSERT_EQUAL(cfg_parse_int("-0x10", &i), 0);
	CU_ASSERT_EQUAL(i, -16);
	CU_ASSERT(cfg_parse_int("0x", &i) < 0);
	CU_ASSERT(cfg_parse_int("0b101", &i) < 0);
	CU_ASSERT(cfg_parse_int("9223372036854775808", &i) < 0);
}

static void test_help_and_empty(void)
{
	struct cfg_error err = {{0}};
	struct cfg_doc *doc = cfg_load_string("e.yaml", "", 0, &err);
	struct buffer_conf bc;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_PTR_NULL(cfg_doc_root(doc));
	CU_ASSERT_EQUAL(cfg_bind(cfg_doc_root(doc), buffer_opts, &bc, "agent.buffer", &err), 0);
	CU_ASSERT_EQUAL(bc.max_bytes, 512ull << 20);
	cfg_doc_free(doc);
	cfg_help(demo_opts, f, 2);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "max_bytes"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "default: 512MiB"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "(split, truncate, skip)"));
	free(out);
	doc = cfg_load_file("/nonexistent/agent.yaml", &err);
	CU_ASSERT_PTR_NULL(doc);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent/agent.yaml: cannot read"));
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_types_and_defaults),
		UNIT_TEST(test_scalar_list_and_null),
		UNIT_TEST(test_errors_name_position_and_key),
		UNIT_TEST(test_env_expansion),
		UNIT_TEST(test_value_parsers),
		UNIT_TEST(test_int_leading_zero),
		UNIT_TEST(test_help_and_empty),
		UNIT_END,
	};

	unsetenv("SLUICE_TEST_UNSET_VAR");
	return unit_run("config", tests);
}
