/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: CRI container log lines, Docker json-file lines and
 * kubelet's log file names (plugins/in_tail/tail_cri.c), all straight from
 * the node's disk.  A parsed CRI line's log bytes must lie inside the
 * input, at its end; a json-file line's decoded log can only shrink.
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
	struct buf b;
	char *name;

	if (tail_cri_parse(data, size, &c) == 0 &&
	    (c.log < data || c.log + c.log_len != data + size ||
	     (c.stream != CRI_STDOUT && c.stream != CRI_STDERR)))
		__builtin_trap();
	buf_init(&b, size + 4);
	if (tail_docker_parse(data, size, &b, &c) == 0 &&
	    (c.log != b.data || c.log_len > size || c.log_len > b.len ||
	     (c.stream != CRI_STDOUT && c.stream != CRI_STDERR)))
		__builtin_trap();
	buf_release(&b);
	name = mem_strndup((const char *)data, size);
	if (name) {
		if (tail_k8s_name(name, &k) == 0 &&
		    (!k.pod[0] || !k.ns[0] || !k.container[0] || !k.id[0]))
			__builtin_trap();
		mem_free(name);
	}
	return 0;
}
