/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sluice-agent entry point: command-line flags, then agent_run().  Only
 * wiring lives here.
 */
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/agent_config.h"
#include "agent/pipeline/pipeline.h"
#include "agent/registry.h"
#include "lib/log.h"

#define DEFAULT_CONFIG "/etc/sluice/agent.yaml"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice-agent [-c agent.yaml] [--check]\n"
		"       sluice-agent --list-plugins | --help-plugin NAME | --help | --version\n\n"
		"Tails log files and ships them exactly once to sluice-store.\n\n"
		"  -c, --config FILE     configuration (default " DEFAULT_CONFIG ")\n"
		"      --check           validate the configuration and exit (errors name\n"
		"                        file:line:column)\n"
		"      --list-plugins    the inputs, parsers, filters and outputs built in\n"
		"      --help-plugin N   every option of plugin N, with defaults\n"
		"      --help            this text and the agent: section's options\n"
		"      --version\n\n"
		"Signals: SIGHUP reloads the configuration (inputs keep their positions);\n"
		"SIGTERM delivers what is spooled within agent.shutdown_timeout and exits.\n\n");
}

static int check(const char *path)
{
	const struct plugin *const *plugins = registry_plugins();
	struct agent_config *c = NULL;
	struct cfg_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = agent_config_load(path, plugins, &c, &err);
	if (rc == 0)
		rc = pipeline_check(c, &err);
	if (rc < 0) {
		fprintf(stderr, "%s\n", err.msg);
		agent_config_free(c);
		return 1;
	}
	printf("%s: configuration OK (%zu inputs, %zu outputs)\n", path, c->ninputs, c->noutputs);
	agent_config_free(c);
	return 0;
}

int main(int argc, char **argv)
{
	const char *config = DEFAULT_CONFIG;
	bool do_check = false;

	log_init("sluice-agent");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc) {
			config = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			config = a + 9;
		} else if (strcmp(a, "--check") == 0) {
			do_check = true;
		} else if (strcmp(a, "--list-plugins") == 0) {
			agent_config_list_plugins(registry_plugins(), stdout);
			return 0;
		} else if (strcmp(a, "--help-plugin") == 0 && i + 1 < argc) {
			int rc = agent_config_help_plugin(registry_plugins(), argv[++i], stdout);

			if (rc)
				fprintf(stderr,
					"sluice-agent: no plugin named '%s' (see --list-plugins)\n",
					argv[i]);
			return rc ? 2 : 0;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			agent_config_help(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			puts("sluice-agent 0.1.0");
			return 0;
		} else {
			fprintf(stderr, "sluice-agent: unknown argument '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (do_check)
		return check(config);
	return agent_run(config, registry_plugins());
}
