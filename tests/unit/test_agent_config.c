/* SPDX-License-Identifier: Apache-2.0 */
/* agent.yaml binding with the real plugin table: defaults from the option
 * tables, routing, topic defaults, parser shorthand, errors with
 * file:line:column, --list-plugins and --help-plugin text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_config.h"
#include "agent/pipeline/pipeline.h"
#include "agent/registry.h"
#include "lib/codec.h"
#include "lib/log.h"
#include "tests/unit/unit.h"

static struct agent_config *load(const char *text, struct cfg_error *err)
{
	struct agent_config *c = NULL;

	memset(err, 0, sizeof(*err));
	agent_config_load_string("a.yaml", text, registry_plugins(), &c, err);
	return c;
}

static void test_defaults_and_routing(void)
{
	static const char text[] = "agent:\n"
				   "  name: web-01\n"
				   "  data_dir: /tmp/x\n"
				   "  buffer: { max_bytes: 1GiB }\n"
				   "inputs:\n"
				   "  - id: nginx\n"
				   "    type: tail\n"
				   "    paths: [/var/log/nginx/*.log]\n"
				   "    parser: none\n"
				   "  - id: app\n"
				   "    type: tail\n"
				   "    topic: applogs\n"
				   "    paths: /srv/app.log\n"
				   "outputs:\n"
				   "  - id: central\n"
				   "    type: store\n"
				   "    url: http://logs:8470\n"
				   "    inputs: [app]\n"
				   "  - id: debug\n"
				   "    type: stdout\n"
				   "    compression: none\n";
	struct cfg_error err;
	struct agent_config *c = load(text, &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->agent.name, "web-01");
	CU_ASSERT_EQUAL(c->agent.buffer.max_bytes, 1ull << 30);
	CU_ASSERT_EQUAL(c->agent.buffer.max_memory, 64ull << 20);
	CU_ASSERT_EQUAL(agent_settings_segment_bytes(&c->agent), 64ull << 20);
	CU_ASSERT_STRING_EQUAL(c->agent.http.listen, "127.0.0.1:8471");
	CU_ASSERT_EQUAL(c->agent.shutdown_timeout, 5000);
	CU_ASSERT_EQUAL_FATAL(c->ninputs, 2u);
	CU_ASSERT_STRING_EQUAL(c->inputs[0].topic, "nginx"); /* defaults to the id */
	CU_ASSERT_STRING_EQUAL(c->inputs[1].topic, "applogs");
	CU_ASSERT_EQUAL(c->inputs[0].nfilters, 0u); /* parser: none */
	CU_ASSERT_EQUAL_FATAL(c->noutputs, 2u);
	CU_ASSERT_EQUAL(c->outputs[0].compression, CODEC_ZSTD);
	CU_ASSERT_EQUAL(c->outputs[0].compression_level, 1);
	CU_ASSERT_EQUAL(c->outputs[0].batch.max_bytes, 1u << 20);
	CU_ASSERT_EQUAL(c->outputs[0].batch.max_delay_ms, 200);
	CU_ASSERT_EQUAL(c->outputs[0].max_in_flight, 4);
	CU_ASSERT_EQUAL(c->outputs[0].retry.initial_delay, 200);
	CU_ASSERT_EQUAL(c->outputs[1].compression, CODEC_NONE);
	CU_ASSERT(!output_conf_takes(&c->outputs[0], "nginx"));
	CU_ASSERT(output_conf_takes(&c->outputs[0], "app"));
	CU_ASSERT(output_conf_takes(&c->outputs[1], "nginx")); /* default: all */
	CU_ASSERT_EQUAL(pipeline_check(c, &err), 0);
	agent_config_free(c);
}

static void test_hostname_default(void)
{
	struct cfg_error err;
	struct agent_config *c = load("inputs: [{id: a, type: tail, paths: [/x]}]\n"
				      "outputs: [{id: o, type: stdout}]\n",
				      &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT(c->agent.name && c->agent.name[0]);
	CU_ASSERT_STRING_EQUAL(c->agent.data_dir, "/var/lib/sluice-agent");
	agent_config_free(c);
}

static void test_errors(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"inputs: []\noutputs: [{id: o, type: stdout}]\n",
		 "a.yaml:1:9: inputs: expected a list of at least one input"},
		{"inputs: [{id: a, type: tail, paths: [/x], bogus: 1}]\noutputs: [{id: o, type: stdout}]\n",
		 "a.yaml:1:43: inputs[0].bogus: unknown key (expected one of: id, type, topic"},
		{"inputs: [{id: 'a b', type: tail, paths: [/x]}]\noutputs: [{id: o, type: stdout}]\n",
		 "a.yaml:1:15: inputs[0].id: 'a b': an id may hold only"},
		{"inputs: [{id: a, type: tail, paths: [/x], parser: xml}]\noutputs: [{id: o, type: stdout}]\n",
		 "a.yaml:1:51: inputs[0].parser: unknown parser plugin 'xml' (known: none, json, logfmt, regex)"},
		{"inputs: [{id: a, type: stdin, filters: [{type: redact, patterns: ['(']}]}]\n"
		 "outputs: [{id: o, type: stdout}]\n",
		 "a.yaml:1:67: inputs[0].filters[0].patterns[0]: bad regular expression"},
		{"inputs: [{id: a, type: syslog, listen: 'tcp://h'}]\noutputs: [{id: o, type: stdout}]\n",
		 "a.yaml:1:40: inputs[0].listen: 'tcp://h': expected tcp://HOST:PORT, tls://HOST:PORT or udp://HOST:PORT"},
		{"inputs: [{id: a, type: tail, paths: [/x]}]\noutputs: [{id: o, type: tail}]\n",
		 "a.yaml:2:25: outputs[0].type: unknown output plugin 'tail' (known: store, file, stdout, null, kafka, http, alertmanager)"},
		{"inputs: [{id: a, type: tail, paths: [/x]}]\n"
		 "outputs: [{id: o, type: stdout}, {id: o, type: stdout}]\n",
		 "a.yaml:2:39: outputs[1].id: duplicate output id 'o'"},
		{"agent: { http: { listen: nowhere } }\ninputs: [{id: a, type: tail, paths: [/x]}]\n"
		 "outputs: [{id: o, type: stdout}]\n",
		 "a.yaml:1:26: agent.http.listen: expected HOST:PORT"},
		{"inputs: [{id: a, type: tail, paths: [/x], long_lines: wrap}]\n"
		 "outputs: [{id: o, type: stdout}]\n",
		 "a.yaml:1:55: inputs[0].long_lines: expected one of: split, truncate, skip"},
		{"inputs: [{id: a, type: tail, paths: [/x]}]\noutputs: [{id: o, type: file}]\n",
		 "a.yaml:2:11: outputs[0].path: required key is missing"},
		{"", "the configuration is empty"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg_error err;
		struct agent_config *c = load(cases[i].text, &err);

		CU_ASSERT_PTR_NULL(c);
		if (!strstr(err.msg, cases[i].want)) {
			fprintf(stderr, "case %zu: got '%s'\n  want '%s'\n", i, err.msg,
				cases[i].want);
			CU_FAIL("error message");
		}
		CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
		agent_config_free(c);
	}
}

static void test_token_file_checked(void)
{
	struct cfg_error err;
	struct agent_config *c = load("inputs: [{id: a, type: tail, paths: [/x]}]\n"
				      "outputs: [{id: o, type: store, url: 'http://h:1',"
				      " token_file: /nonexistent/token}]\n",
				      &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT(pipeline_check(c, &err) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "token_file /nonexistent/token"));
	agent_config_free(c);
}

static void test_help_text(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	agent_config_list_plugins(registry_plugins(), f);
	CU_ASSERT_EQUAL(agent_config_help_plugin(registry_plugins(), "tail", f), 0);
	CU_ASSERT_EQUAL(agent_config_help_plugin(registry_plugins(), "store", f), 0);
	CU_ASSERT_EQUAL(agent_config_help_plugin(registry_plugins(), "nope", f), 1);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "input   tail"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "output  store"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "read_from_head"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "default: 10s"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "(split, truncate, skip)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "token_file"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "max_in_flight"));
	free(out);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_defaults_and_routing),
		UNIT_TEST(test_hostname_default),
		UNIT_TEST(test_errors),
		UNIT_TEST(test_token_file_checked),
		UNIT_TEST(test_help_text),
		UNIT_END,
	};

	log_set_level(LOG_LVL_ERROR);
	return unit_run("agent_config", tests);
}
