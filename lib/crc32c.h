/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CRC-32C (Castagnoli), the checksum of Kafka record batches and of Sluice's
 * own on-disk files.  crc32c() picks the SSE4.2 instruction when the CPU has
 * it and a slicing-by-8 table otherwise; both are exported for tests.
 *
 * crc is the running value: start with 0 and feed the previous result to
 * continue (crc32c(crc32c(0, a), b) == crc32c(0, a||b)).  Thread-safe.
 */
#ifndef SLUICE_CRC32C_H
#define SLUICE_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *p, size_t n);
uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n);
/* Only valid when crc32c_hw_available(). */
uint32_t crc32c_hw(uint32_t crc, const void *p, size_t n);
bool crc32c_hw_available(void);

#endif
