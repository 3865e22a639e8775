/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/: sluice-agent; its subsystems are pipeline/, spool/, net/ and dl/.
 *
 * The sluice-agent daemon: loads agent.yaml, runs the pipeline on one event
 * loop, serves GET /metrics and GET /health, and handles signals:
 *
 *   SIGHUP   reload: the new configuration is checked first (a bad one is
 *            logged and ignored); then the running pipeline stops its inputs,
 *            makes every open batch durable, and a new pipeline starts from
 *            the spools, so every input resumes exactly where it was.
 *   SIGTERM  drain: inputs stop, open batches become durable, outputs keep
 *   SIGINT   delivering until the spools are empty or shutdown_timeout
 *            passes (what is left stays spooled for the next start); a
 *            second signal exits at once, still without losing anything.
 *
 * Under systemd (Type=notify) it reports READY, RELOADING, STOPPING and
 * feeds the watchdog.  Loop thread only.
 */
#ifndef SLUICE_AGENT_AGENT_H
#define SLUICE_AGENT_AGENT_H

#include "agent/plugin.h"

/* Run until a signal stops it.  Returns the process exit code. */
int agent_run(const char *config_path, const struct plugin *const *plugins);

#endif
