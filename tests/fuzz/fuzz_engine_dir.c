/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a data directory whose files hold damaged or random
 * bytes must open (or fail to open) without crashing, and whatever opens
 * must serve reads, time lookups and an append.
 *
 * The first run builds a valid template directory with the engine itself
 * (two partitions, several segments, idempotent and plain batches, a
 * snapshot, recovery points, producer ids, the registry, a log start offset
 * DeleteRecords moved).  Each input is a
 * list of edits to the template's files:
 *   byte 0: flags (bit 0: delete recovery-points, bit 1: fsync never)
 *   then ops: op u8 | file u8 | arg be16 | len be16 | len bytes
 *     op % 4 == 0  replace the file's content with the bytes
 *              1   xor the bytes into the file at arg (mod size)
 *              2   truncate the file to arg (mod size + 1)
 *              3   append the bytes
 *   file indexes the template's files in sorted path order.
 * tests/data/gen_logdir_seeds.py writes the seed corpus.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/batch.h"
#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/engine/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FILES 64

struct tfile {
	char rel[256];
	struct buf content;
};

static struct tfile files[MAX_FILES];
static size_t nfiles;
static char root[256];

static int cmp_files(const void *a, const void *b)
{
	return strcmp(((const struct tfile *)a)->rel, ((const struct tfile *)b)->rel);
}

static void collect(const char *base, const char *rel)
{
	char path[1024];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s%s%s", base, rel[0] ? "/" : "", rel);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char sub[512], full[1024];
		struct stat st;

		if (e->d_name[0] == '.' || strcmp(e->d_name, "lock") == 0 ||
		    strcmp(e->d_name, "trash") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
		snprintf(full, sizeof(full), "%s/%s", base, sub);
		if (stat(full, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			collect(base, sub);
		} else if (nfiles < MAX_FILES) {
			snprintf(files[nfiles].rel, sizeof(files[nfiles].rel), "%s", sub);
			buf_init(&files[nfiles].content, 1 << 24);
			if (fs_read_file(full, &files[nfiles].content) == 0)
				nfiles++;
		}
	}
	closedir(d);
}

static int batch(struct buf *out, int64_t ts, int64_t pid, int32_t seq, int n)
{
	struct batch_builder bb;
	struct batch_params bp;
	char v[200];
	int rc = 0;

	batch_builder_init(&bb, 1 << 20);
	for (int i = 0; i < n && rc == 0; i++) {
		memset(v, 'a' + i % 26, sizeof(v));
		rc = batch_builder_add(&bb, ts + i, "key", 3, v, (int32_t)(50 + 30 * i), NULL, 0);
	}
	batch_params_init(&bp);
	bp.producer_id = pid;
	bp.producer_epoch = pid >= 0 ? 0 : -1;
	bp.base_sequence = pid >= 0 ? seq : -1;
	buf_reset(out);
	if (rc == 0)
		rc = batch_builder_finish(&bb, NULL, &bp, out);
	batch_builder_release(&bb);
	return rc;
}

static void remove_root(void)
{
	(void)fs_rmtree(root);
}

static void build_template(void)
{
	struct engine_config c;
	struct topic_config tc;
	struct engine *log;
	struct buf b;
	char dir[512];
	const char *shm = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	int64_t pid;

	snprintf(root, sizeof(root), "%s/sluice-fuzz-logdir-XXXXXX", shm);
	if (!mkdtemp(root))
		abort();
	atexit(remove_root);
	snprintf(dir, sizeof(dir), "%s/template", root);
	engine_config_init(&c);
	c.data_dir = dir;
	c.defaults.segment_bytes = 2048;
	c.index_interval_bytes = 200;
	if (engine_open(&c, &log) < 0)
		abort();
	memset(&tc, 0, sizeof(tc));
	tc.partitions = 2;
	if (engine_topic_create(log, "t", &tc) < 0 || engine_producer_id_alloc(log, &pid) < 0)
		abort();
	buf_init(&b, 0);
	for (int i = 0, seq[2] = {0, 0}; i < 40; i++) {
		struct engine_append_result r;
		bool idem = i % 3 != 0;
		int n = 1 + i % 4;

		if (batch(&b, 1000 * i + (i % 5 == 2 ? 7000 : 0), idem ? pid : -1, seq[i % 2], n) <
			    0 ||
		    engine_append(log, "t", i % 2, b.data, b.len, &r) < 0)
			abort();
		if (idem)
			seq[i % 2] += n;
		(void)engine_wait_visible(log, "t", i % 2, r.last_offset, 5000);
	}
	buf_release(&b);
	{
		int64_t low;

		/* a log start inside a segment: t-1/log-start-offset */
		if (engine_delete_records(log, "t", 1, 3, &low) < 0)
			abort();
	}
	engine_close(log);
	collect(dir, "");
	qsort(files, nfiles, sizeof(files[0]), cmp_files);
	(void)fs_rmtree(dir);
}

static void write_dir(const char *dir, const struct buf *contents)
{
	for (size_t i = 0; i < nfiles; i++) {
		char path[1024], parent[1024];
		char *slash;
		int fd;

		if (contents[i].max == 0)
			continue; /* deleted */
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].rel);
		snprintf(parent, sizeof(parent), "%s", path);
		slash = strrchr(parent, '/');
		if (slash) {
			*slash = '\0';
			(void)fs_mkdirs(parent, 0755);
		}
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			continue;
		(void)fs_write_full(fd, contents[i].data, contents[i].len);
		close(fd);
	}
}

static void exercise(struct engine *log)
{
	for (int32_t p = 0; p < 3; p++) {
		struct engine_partition_info pi;
		struct engine_append_result r;
		struct buf b;
		int64_t off = 0;

		if (engine_partition_info(log, "t", p, &pi) < 0)
			continue;
		/* read everything, batch by batch, checking each */
		off = pi.log_start;
		for (int guard = 0; guard < 200; guard++) {
			struct engine_slice s;
			uint8_t h[BATCH_HEADER_SIZE];
			struct batch_info bi;

			if (engine_read(log, "t", p, off, 500, &s) < 0)
				break;
			if (s.len == 0 || s.len < BATCH_HEADER_SIZE ||
			    pread(s.fd, h, sizeof(h), s.pos) != (ssize_t)sizeof(h) ||
			    batch_header_parse(h, sizeof(h), &bi) < 0) {
				engine_slice_release(&s);
				break;
			}
			off = batch_last_offset(&bi) + 1 > off ? batch_last_offset(&bi) + 1
							       : off + 1;
			engine_slice_release(&s);
		}
		for (int64_t ts = -2; ts < 50000; ts += 3001)
			(void)engine_offset_for_time(log, "t", p, ts, &off);
		{
			struct engine_producer *pv = NULL;
			int64_t ts, low;
			size_t n;

			(void)engine_offset_max_timestamp(log, "t", p, &off, &ts);
			if (engine_producers(log, "t", p, &pv, &n) == 0)
				mem_free(pv);
			(void)engine_delete_records(log, "t", p, pi.log_start + 1, &low);
			(void)engine_offset_max_timestamp(log, "t", p, &off, &ts);
		}
		buf_init(&b, 0);
		if (batch(&b, 99999, 5, 0, 2) == 0)
			(void)engine_append(log, "t", p, b.data, b.len, &r);
		buf_release(&b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned long run;
	struct buf contents[MAX_FILES];
	struct engine_config c;
	struct engine *log = NULL;
	struct cursor cur;
	char dir[512];
	uint8_t flags;

	if (!nfiles) {
		log_set_level(LOG_LVL_ERROR);
		build_template();
	}
	if (size < 1)
		return 0;
	for (size_t i = 0; i < nfiles; i++) {
		buf_init(&contents[i], 1 << 22);
		(void)buf_append(&contents[i], files[i].content.data, files[i].content.len);
	}
	cursor_init(&cur, data, size);
	flags = cursor_u8(&cur);
	while (cursor_left(&cur) >= 6) {
		uint8_t op = cursor_u8(&cur), f = cursor_u8(&cur);
		uint16_t arg = cursor_be16(&cur), len = cursor_be16(&cur);
		const uint8_t *bytes;
		struct buf *x;

		if (len > cursor_left(&cur))
			len = (uint16_t)cursor_left(&cur);
		bytes = cursor_take(&cur, len);
		x = &contents[f % nfiles];
		if (x->max == 0)
			continue;
		switch (op % 4) {
		case 0:
			buf_reset(x);
			(void)buf_append(x, bytes, len);
			break;
		case 1:
			for (size_t i = 0; x->len && i < len; i++)
				x->data[(arg + i) % x->len] ^= bytes[i];
			break;
		case 2:
			x->len = arg % (x->len + 1);
			break;
		default:
			(void)buf_append(x, bytes, len);
			break;
		}
	}
	if (flags & 1) {
		for (size_t i = 0; i < nfiles; i++) {
			if (strstr(files[i].rel, "recovery-points")) {
				buf_release(&contents[i]);
				contents[i].max = 0;
			}
		}
	}
	snprintf(dir, sizeof(dir), "%s/run-%lu", root, run++);
	write_dir(dir, contents);
	engine_config_init(&c);
	c.data_dir = dir;
	c.fsync = flags & 2 ? ENGINE_FSYNC_NEVER : ENGINE_FSYNC_ALWAYS;
	c.defaults.segment_bytes = 2048;
	c.index_interval_bytes = 200;
	if (engine_open(&c, &log) == 0) {
		exercise(log);
		engine_close(log);
	}
	(void)fs_rmtree(dir);
	for (size_t i = 0; i < nfiles; i++)
		buf_release(&contents[i]);
	return 0;
}
