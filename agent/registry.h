/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one static table of the agent's plugins (DESIGN.md §5.6).  Adding a
 * plugin means writing its const struct plugin under plugins/<name>/ and
 * listing it here; the config loader, --list-plugins and --help-plugin read
 * this table.  Immutable; thread-safe.
 */
#ifndef SLUICE_AGENT_REGISTRY_H
#define SLUICE_AGENT_REGISTRY_H

#include "agent/plugin.h"

/* NULL-terminated. */
const struct plugin *const *registry_plugins(void);

#endif
