/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the JSON parser on arbitrary bytes (HTTP request bodies
 * reach it from the network).  Walks the tree it returns so every node and
 * string is touched under ASan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jdoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk(const struct jnode *n, int depth)
{
	size_t sum = n->len + n->key_len;

	if (depth > JDOC_MAX_DEPTH + 1)
		abort();
	if (n->type == JSTR && n->s[n->len] != '\0')
		abort();
	if (n->key && n->key[n->key_len] != '\0')
		abort();
	for (size_t i = 0; i < n->n; i++)
		sum += walk(&n->kids[i], depth + 1);
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jdoc *d = NULL;
	size_t off = 0;

	if (jdoc_parse(data, size, &d, &off) == 0) {
		const struct jnode *r = jdoc_root(d);
		int64_t v;
		bool b;

		if (walk(r, 0) > 2 * size + 16)
			abort();
		(void)jnode_get(r, "name");
		(void)jnode_i64(r, &v);
		(void)jnode_bool(r, &b);
		jdoc_free(d);
	} else if (off > size) {
		abort();
	}
	return 0;
}
