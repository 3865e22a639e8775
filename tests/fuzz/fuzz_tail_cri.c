/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: CRI container log lines and kubelet's log file names
 * (plugins/in_tail/tail_cri.c), both straight from the node's disk.  A
 * parsed line's log bytes must lie inside the input, at its end.
 */
#include <stdint.h>
#include <string.h>

#include "lib/mem.h"
#include "plugins/in_tail/tail_cri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tail_cri_line c;
	struct tail_k8s k;
	char *name;

	if (tail_cri_parse(data, size, &c) == 0 &&
	    (c.log < data || c.log + c.log_len != data + size ||
	     (c.stream != CRI_STDOUT && c.stream != CRI_STDERR)))
		__builtin_trap();
	name = mem_strndup((const char *)data, size);
	if (name) {
		if (tail_k8s_name(name, &k) == 0 &&
		    (!k.pod[0] || !k.ns[0] || !k.container[0] || !k.id[0]))
			__builtin_trap();
		mem_free(name);
	}
	return 0;
}
