/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: replay of the committed-offsets journal
 * (data_dir/meta/consumer-offsets) from arbitrary bytes, as a damaged disk
 * could present it.  The input becomes the journal file and the offsets
 * store is opened on it: replay must reject or cut what is wrong without
 * reading past a record, and whatever it keeps must be readable.  Seeds:
 * tests/data/gen_offsets_journal.py.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/fs.h"
#include "store/groups/offsets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch(void *arg, const char *group, const char *topic, int32_t partition,
		  const struct offsets_value *v)
{
	volatile size_t sink = 0;

	(void)arg, (void)partition;
	for (const char *p = group; *p; p++)
		sink += (size_t)*p;
	for (const char *p = topic; *p; p++)
		sink += (size_t)*p;
	for (const char *p = v->metadata; p && *p; p++)
		sink += (size_t)*p;
	(void)sink;
}

static char dir[64];

static void cleanup(void)
{
	fs_rmtree(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct evloop *loop;
	static char path[128];
	struct offsets *o;
	int fd, rc;

	if (!loop) {
		char tmpl[] = "/tmp/sluice-fuzz-offsets-XXXXXX";

		loop = evloop_new();
		if (!mkdtemp(tmpl))
			abort();
		snprintf(dir, sizeof(dir), "%s", tmpl);
		snprintf(path, sizeof(path), "%s/%s", dir, OFFSETS_FILE);
		atexit(cleanup);
	}
	/* no fsync: durability is not what is fuzzed */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return 0;
	rc = fs_write_full(fd, data, size);
	close(fd);
	if (rc < 0)
		return 0;
	if (offsets_open(loop, dir, &o) == 0) {
		offsets_foreach(o, NULL, touch, NULL);
		offsets_close(o);
	}
	return 0;
}
