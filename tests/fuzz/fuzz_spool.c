/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: spool recovery on hostile files.  The input is cut at
 * each "--SEG--" into segment files (named by the first id their header
 * claims when it parses) plus, after "--ACK--", the acknowledged-mark file;
 * spool_open() must recover without crashing, every recovered entry must
 * read back, and the spool must stay appendable.  Each entry body is also
 * decoded on its own.  Files live on /dev/shm so fsync costs nothing.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/spool/spool.h"
#include "lib/fs.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void write_file(const char *name, const uint8_t *p, size_t n)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return;
	if (n)
		(void)fs_write_full(fd, p, n);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_opts o = {.segment_bytes = 8192};
	const uint8_t *p = data, *end = data + size, *ack;
	struct spool *sp = NULL;
	struct spool_entry e;
	bool fresh;
	int idx = 0;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/dev/shm/fuzz-spool-%d", (int)getpid());
		/* Recovery logs every torn tail; below ERROR silences it all. */
		log_set_level((enum log_level) - 1);
	}
	fs_rmtree(dir);
	fs_mkdirs(dir, 0700);
	/* A body on its own. */
	(void)spool_entry_decode(data, size, &e);
	if (size > 64)
		(void)spool_entry_decode_head(data, 64, size, &e);
	ack = memmem(data, size, "--ACK--", 7);
	if (ack) {
		write_file("ack", ack + 7, (size_t)(end - ack - 7));
		end = ack;
	}
	while (p < end && idx < 4) {
		const uint8_t *cut = memmem(p, (size_t)(end - p), "--SEG--", 7);
		const uint8_t *stop = cut ? cut : end;
		uint64_t first = (uint64_t)idx * 100;
		char name[40];

		(void)spool_seg_header_decode(p, (size_t)(stop - p), &first);
		snprintf(name, sizeof(name), "%020" PRIu64 ".seg", first % 100000);
		write_file(name, p, (size_t)(stop - p));
		p = cut ? cut + 7 : end;
		idx++;
	}
	if (spool_open(dir, &o, &sp, &fresh) == 0) {
		struct spool_cursor c;
		struct spool_loc loc;
		struct buf scratch, bytes;
		uint64_t id;
		int rc, n = 0;

		buf_init(&scratch, SPOOL_MAX_ENTRY);
		buf_init(&bytes, SPOOL_MAX_ENTRY);
		spool_cursor_start(sp, &c);
		while ((rc = spool_read(sp, &c, &scratch, &e, &loc, size & 1)) != 0 &&
		       n++ < 10000) {
			if (rc == 1 && e.type == SPOOL_BATCH) {
				buf_reset(&bytes);
				(void)spool_read_batch(sp, &loc, &bytes);
			}
		}
		if (spool_append(sp, SPOOL_POSITIONS, NULL, 0, NULL, 0, 0, NULL, 0, &id) == 0)
			(void)spool_sync(sp, true);
		spool_ack(sp, c.id);
		buf_release(&scratch);
		buf_release(&bytes);
		spool_free(sp);
	}
	return 0;
}
