/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secure by default: a listener whose configured address is not loopback
 * must have TLS on and authenticate its clients (Kafka: kafka.sasl; HTTP:
 * http.tokens_file; either: tls.client_auth require), unless it sets
 * allow_insecure: true.  Checked on the configuration alone, before
 * anything binds, so a refused store never exposes a port.
 */
#ifndef SLUICE_STORE_TLS_POLICY_H
#define SLUICE_STORE_TLS_POLICY_H

#include <stdbool.h>

#include "store/store_config.h"

/* Is every address "HOST:PORT" can mean a loopback one?  An empty host, a
 * wildcard (0.0.0.0, ::, *) or a name that resolves to any other address is
 * not. */
bool tls_policy_is_loopback(const char *listen);

/* Check both listeners of c.  0, or -ERR_CONFIG after logging which listener
 * is refused and why. */
int tls_policy_check(const struct store_config *c);

#endif
