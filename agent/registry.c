/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plugin table.  Each plugin defines exactly one exported const struct
 * plugin; everything else in its folder is static or internal to it.
 */
#include "agent/registry.h"

extern const struct plugin in_tail_plugin;
extern const struct plugin in_journald_plugin;
extern const struct plugin in_syslog_plugin;
extern const struct plugin in_stdin_plugin;
extern const struct plugin in_kafka_plugin;
extern const struct plugin parser_json_plugin;
extern const struct plugin parser_logfmt_plugin;
extern const struct plugin parser_regex_plugin;
extern const struct plugin filter_grep_plugin;
extern const struct plugin filter_redact_plugin;
extern const struct plugin filter_add_plugin;
extern const struct plugin filter_sample_plugin;
extern const struct plugin filter_rate_limit_plugin;
extern const struct plugin filter_metrics_plugin;
extern const struct plugin out_store_plugin;
extern const struct plugin out_file_plugin;
extern const struct plugin out_stdout_plugin;
extern const struct plugin out_null_plugin;
extern const struct plugin out_kafka_plugin;
extern const struct plugin out_http_plugin;
extern const struct plugin out_alertmanager_plugin;

static const struct plugin *const plugins[] = {
	&in_tail_plugin,           &in_journald_plugin,
	&in_syslog_plugin,         &in_stdin_plugin,
	&in_kafka_plugin,          &parser_json_plugin,
	&parser_logfmt_plugin,     &parser_regex_plugin,
	&filter_grep_plugin,       &filter_redact_plugin,
	&filter_add_plugin,        &filter_sample_plugin,
	&filter_rate_limit_plugin, &filter_metrics_plugin,
	&out_store_plugin,         &out_file_plugin,
	&out_stdout_plugin,        &out_null_plugin,
	&out_kafka_plugin,         &out_http_plugin,
	&out_alertmanager_plugin,  NULL,
};

const struct plugin *const *registry_plugins(void)
{
	return plugins;
}
