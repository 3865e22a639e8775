/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: agent.yaml through every plugin's option table (the
 * real registry), and the --check pass over what binds.
 */
#include <stdint.h>
#include <string.h>

#include "agent/agent_config.h"
#include "agent/pipeline/pipeline.h"
#include "agent/registry.h"
#include "lib/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_config *c = NULL;
	struct cfg_error err;
	char *text = mem_strndup((const char *)data, size);

	if (!text)
		return 0;
	memset(&err, 0, sizeof(err));
	if (agent_config_load_string("fuzz.yaml", text, registry_plugins(), &c, &err) == 0) {
		(void)pipeline_check(c, &err);
		agent_config_free(c);
	}
	mem_free(text);
	return 0;
}
