/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the http output's reading of an Elasticsearch _bulk
 * answer (bytes from a remote server).  Any input gives a verdict; the
 * document index it names is within the items it read, and the reason is a
 * terminated string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/out_http/http_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[200];
	size_t bad = 12345;
	enum bulk_verdict v = http_bulk_verdict(data, size, &bad, why, sizeof(why));

	if (v > BULK_INVALID || strnlen(why, sizeof(why)) == sizeof(why))
		abort();
	if (v == BULK_OK && bad != 0)
		abort();
	if (bad > size)
		abort();
	return 0;
}
