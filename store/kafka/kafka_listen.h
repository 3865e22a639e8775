/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kafka listener's addresses: parsing kafka.listen / kafka.advertised
 * ("HOST:PORT" or "[v6]:PORT"), opening the listening socket, and node 0's
 * address for Metadata.  Split out of kafka_server.c to keep that file to
 * connections.
 */
#ifndef SLUICE_STORE_KAFKA_LISTEN_H
#define SLUICE_STORE_KAFKA_LISTEN_H

#include <stddef.h>
#include <stdint.h>

#include "store/store_config.h"

/* A non-blocking listening socket on addr; *bound_port is the port actually
 * bound (for port 0).  0 or a negative code (logged). */
int kafka_listen_open(const char *addr, int *out_fd, int32_t *bound_port);
/* Node 0's address in Metadata: kafka.advertised, else the listen address
 * with the port actually bound and, for a wildcard host, the hostname. */
int kafka_listen_advertised(const struct store_config *conf, int32_t bound_port, char *host,
			    size_t hcap, int32_t *adv_port);

#endif
