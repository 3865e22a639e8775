/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: replay of the transactions journal
 * (data_dir/meta/transactions, store/txn/txn_log.c) from arbitrary bytes,
 * as a damaged disk could present it.  The input becomes the journal file
 * and is replayed: replay must cut what is wrong without reading past a
 * record, and every entry it keeps must be whole (its strings readable, its
 * counts true).  The same bytes go to ptxn_control_type(), the parser of a
 * control record's key (store/engine/partition_txn.c).  Seeds:
 * tests/data/gen_txn_journal.py.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fs.h"
#include "store/engine/partition_txn.h"
#include "store/txn/txn_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void cleanup(void)
{
	fs_rmtree(dir);
}

static int touch(void *arg, struct txn_entry *e)
{
	volatile size_t sink = strlen(e->tid);

	(void)arg;
	for (size_t i = 0; i < e->nparts; i++)
		sink += strlen(e->parts[i].topic);
	for (size_t i = 0; i < e->ngroups; i++)
		sink += strlen(e->groups[i]);
	for (size_t i = 0; i < e->noffs; i++)
		sink += strlen(e->offs[i].group) + strlen(e->offs[i].topic) +
			(e->offs[i].metadata ? strlen(e->offs[i].metadata) : 0);
	(void)sink;
	txn_entry_free(e);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[128];
	struct txn_log jl;
	int fd;

	if (!dir[0]) {
		char tmpl[] = "/tmp/sluice-fuzz-txn-XXXXXX";

		if (!mkdtemp(tmpl))
			abort();
		snprintf(dir, sizeof(dir), "%s", tmpl);
		snprintf(path, sizeof(path), "%s/%s", dir, TXN_FILE);
		atexit(cleanup);
	}
	(void)ptxn_control_type(data, size);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fs_write_full(fd, data, size) < 0)
		abort();
	close(fd);
	if (txn_log_open(&jl, dir, touch, NULL) == 0)
		txn_log_close(&jl);
	return 0;
}
