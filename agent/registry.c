/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plugin table.  Each plugin defines exactly one exported const struct
 * plugin; everything else in its folder is static or internal to it.
 */
#include "agent/registry.h"

extern const struct plugin in_tail_plugin;
extern const struct plugin out_store_plugin;
extern const struct plugin out_file_plugin;
extern const struct plugin out_stdout_plugin;
extern const struct plugin out_null_plugin;
extern const struct plugin out_kafka_plugin;
extern const struct plugin out_http_plugin;

static const struct plugin *const plugins[] = {
	&in_tail_plugin,
	&out_store_plugin,
	&out_file_plugin,
	&out_stdout_plugin,
	&out_null_plugin,
	&out_kafka_plugin,
	&out_http_plugin,
	NULL,
};

const struct plugin *const *registry_plugins(void)
{
	return plugins;
}
