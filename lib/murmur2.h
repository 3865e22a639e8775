/* SPDX-License-Identifier: Apache-2.0 */
/*
 * murmur2 exactly as Apache Kafka's Utils.murmur2 computes it (seed
 * 0x9747b28c), and the default partitioner's choice
 * (murmur2(key) & 0x7fffffff) % partitions, so the agent, the store and real
 * Kafka clients put a key in the same partition.  Pure, thread-safe.
 */
#ifndef SLUICE_MURMUR2_H
#define SLUICE_MURMUR2_H

#include <stddef.h>
#include <stdint.h>

int32_t murmur2(const void *key, size_t len);
/* partitions must be > 0. */
int32_t murmur2_partition(const void *key, size_t len, int32_t partitions);

#endif
