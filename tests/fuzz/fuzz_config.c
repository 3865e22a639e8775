/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the YAML loader and the option-table binder.  Every
 * option type is bound, so value parsers (sizes, durations, enums, lists,
 * maps, sections) see the fuzzed scalars.
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_sub {
	uint64_t size;
	int64_t dur;
};

struct fz_conf {
	char *s;
	int64_t i;
	bool b;
	uint64_t size;
	int64_t dur;
	int e;
	double d;
	struct cfg_list l;
	struct cfg_kv m;
	struct fz_sub sub;
	const struct cfg_node *node;
};

static const char *const choices[] = {"a", "b", "c", NULL};

/* clang-format off */
static const struct cfg_option sub_opts[] = {
	{.name = "size", .type = CFG_SIZE, .offset = offsetof(struct fz_sub, size), .def = "1MiB"},
	{.name = "dur", .type = CFG_DURATION, .offset = offsetof(struct fz_sub, dur), .def = "1s",
	 .min = 0, .max = 86400000},
	CFG_OPT_END,
};
/* clang-format on */

/* clang-format off */
static const struct cfg_option opts[] = {
	{.name = "s", .type = CFG_STRING, .offset = offsetof(struct fz_conf, s), .def = "x"},
	{.name = "i", .type = CFG_INT, .offset = offsetof(struct fz_conf, i), .min = -5, .max = 5},
	{.name = "b", .type = CFG_BOOL, .offset = offsetof(struct fz_conf, b)},
	{.name = "size", .type = CFG_SIZE, .offset = offsetof(struct fz_conf, size)},
	{.name = "dur", .type = CFG_DURATION, .offset = offsetof(struct fz_conf, dur)},
	{.name = "e", .type = CFG_ENUM, .offset = offsetof(struct fz_conf, e), .choices = choices, .def = "a"},
	{.name = "d", .type = CFG_DOUBLE, .offset = offsetof(struct fz_conf, d)},
	{.name = "l", .type = CFG_LIST, .offset = offsetof(struct fz_conf, l)},
	{.name = "m", .type = CFG_MAP, .offset = offsetof(struct fz_conf, m)},
	{.name = "sub", .type = CFG_SECTION, .offset = offsetof(struct fz_conf, sub), .sub = sub_opts},
	{.name = "node", .type = CFG_NODE, .offset = offsetof(struct fz_conf, node)},
	CFG_OPT_END,
};
/* clang-format on */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_error err;
	struct cfg_doc *doc = cfg_load_string("fuzz.yaml", (const char *)data, size, &err);
	struct fz_conf c = {0};

	if (!doc)
		return 0;
	(void)cfg_bind(cfg_doc_root(doc), opts, &c, "", &err);
	cfg_free(opts, &c);
	cfg_doc_free(doc);
	return 0;
}
