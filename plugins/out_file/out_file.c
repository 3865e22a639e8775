/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output `file`: writes records to a local file, one per line (raw values or
 * NDJSON).  For debugging pipelines and for tests that need a sink with the
 * same exactly-once guarantee as the store output: after each flush the file
 * is fdatasync'ed and a small state file in the output's spool directory
 * records the last spool entry written and the file's length; at start the
 * file is cut back to that length, and entries up to that id are skipped
 * when the spool hands them over again.  A crash between the data and the
 * state write therefore repeats nothing and loses nothing.
 *
 * Writes are synchronous on the loop thread (local disk).  Rotation by size
 * and path templates are issue 9's.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/plugin.h"
#include "agent/record_format.h"
#include "lib/codec.h"
#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"

#define STATE_NAME "out_file.state"
#define STATE_SIZE 24

struct out_file_conf {
	char *path;
	int format;
	bool fsync;
};

struct out_file {
	const struct out_file_conf *conf;
	struct output *output;
	char *state_dir;
	int fd;
	uint64_t size;
	uint64_t last_id;           /* entries up to here are in the file */
	bool have_last;
	struct codec_ctx *cc;
	struct buf out;
	uint64_t records;
	uint64_t skipped;
};

static const char *const formats[] = {"raw", "ndjson", NULL};

static const struct cfg_option out_file_opts[] = {
	{.name = "path", .type = CFG_STRING, .offset = offsetof(struct out_file_conf, path),
	 .flags = CFG_REQUIRED, .help = "file to append records to"},
	{.name = "format", .type = CFG_ENUM, .offset = offsetof(struct out_file_conf, format),
	 .def = "raw", .choices = formats,
	 .help = "raw: each value and a newline; ndjson: the store's replay JSON"},
	{.name = "fsync", .type = CFG_BOOL, .offset = offsetof(struct out_file_conf, fsync),
	 .def = "true", .help = "fdatasync before acknowledging (exactly once across crashes)"},
	CFG_OPT_END,
};

static int state_load(struct out_file *f)
{
	char path[4096];
	struct buf b;
	int rc;

	buf_init(&b, 4096);
	snprintf(path, sizeof(path), "%s/%s", f->state_dir, STATE_NAME);
	rc = fs_read_file(path, &b);
	if (rc == -ENOENT) {
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	if (b.len != STATE_SIZE || get_be32(b.data + 20) != crc32c(0, b.data, 20)) {
		log_warn("out_file: %s is damaged; starting without it", path);
		goto out;
	}
	f->last_id = get_be64(b.data);
	f->size = get_be64(b.data + 8);
	f->have_last = true;
out:
	buf_release(&b);
	return rc;
}

static int state_store(struct out_file *f)
{
	uint8_t s[STATE_SIZE];

	put_be64(s, f->last_id);
	put_be64(s + 8, f->size);
	put_be32(s + 16, 0);
	put_be32(s + 20, crc32c(0, s, 20));
	return fs_write_atomic(f->state_dir, STATE_NAME, s, sizeof(s));
}

static void out_file_exit(void *ctx)
{
	struct out_file *f = ctx;

	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	codec_ctx_free(f->cc);
	buf_release(&f->out);
	mem_free(f->state_dir);
	mem_free(f);
}

static int out_file_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct out_file *f = mem_calloc(1, sizeof(*f));

	(void)err;
	*ctx = f;
	if (!f)
		return -ENOMEM;
	f->conf = a->conf;
	f->output = a->output;
	f->fd = -1;
	buf_init(&f->out, 2 * BATCH_MAX_SIZE);
	if (a->check_only)
		return 0;
	f->state_dir = mem_strdup(a->state_dir);
	f->cc = codec_ctx_new();
	return f->state_dir && f->cc ? 0 : -ENOMEM;
}

static int out_file_start(void *ctx)
{
	struct out_file *f = ctx;
	struct stat st;
	int rc = state_load(f);

	if (rc < 0)
		return rc;
	f->fd = open(f->conf->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (f->fd < 0) {
		rc = -errno;
		log_error("out_file: cannot open %s: %s", f->conf->path, err_str(rc));
		return rc;
	}
	if (fstat(f->fd, &st) != 0)
		return -errno;
	if (f->have_last && (uint64_t)st.st_size > f->size) {
		/* Written after the last recorded flush: it comes again. */
		if (ftruncate(f->fd, (off_t)f->size) != 0)
			return -errno;
	} else {
		f->size = (uint64_t)st.st_size;
	}
	return 0;
}

/* Write what is formatted, make it durable, record how far the file got. */
static int commit(struct out_file *f, uint64_t last)
{
	int rc = fs_pwrite_full(f->fd, f->out.data, f->out.len, (off_t)f->size);

	if (rc == 0 && f->conf->fsync && fdatasync(f->fd) != 0)
		rc = -errno;
	if (rc < 0) {
		log_error("out_file: writing %s: %s", f->conf->path, err_str(rc));
		if (ftruncate(f->fd, (off_t)f->size) != 0)
			log_error("out_file: cannot cut %s back", f->conf->path);
		return rc;
	}
	f->size += f->out.len;
	f->last_id = last;
	f->have_last = true;
	buf_reset(&f->out);
	if (f->conf->fsync) {
		rc = state_store(f);
		if (rc < 0)
			log_error("out_file: state: %s", err_str(rc));
	}
	return rc;
}

static enum flush_result out_file_flush(void *ctx, struct flush *fl)
{
	struct out_file *f = ctx;
	uint64_t last = f->last_id;
	bool wrote = false;
	int rc;

	buf_reset(&f->out);
	for (size_t i = 0; i < fl->nbatches; i++) {
		const struct flush_batch *b = &fl->batches[i];

		if (f->have_last && b->entry_id <= f->last_id) {
			f->skipped++;
			continue;
		}
		rc = record_format_batch(f->cc, f->conf->format, fl->topic, fl->partition,
					 fl->body.data + b->off, b->len, &f->out);
		if (rc < 0) {
			char why[128];

			snprintf(why, sizeof(why), "cannot decode: %s", err_str(rc));
			if (wrote && commit(f, last) < 0)
				return FLUSH_RETRY;
			output_flush_done(f->output, fl, FLUSH_ERROR, i, "corrupt_batch", why, 0);
			return FLUSH_ASYNC;
		}
		f->records += (uint64_t)rc;
		last = b->entry_id;
		wrote = true;
	}
	if (wrote && commit(f, last) < 0)
		return FLUSH_RETRY;
	return FLUSH_OK;
}

static size_t out_file_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct out_file *f = ctx;

	if (max < 2)
		return 0;
	m[0] = (struct plugin_metric){"sluice_agent_file_records_written_total", "counter",
				      "Records written by file outputs.", f->records, NULL, NULL};
	m[1] = (struct plugin_metric){"sluice_agent_file_batches_skipped_total", "counter",
				      "Batches a file output had written before a restart.",
				      f->skipped, NULL, NULL};
	return 2;
}

const struct plugin out_file_plugin = {
	.name = "file",
	.kind = PLUGIN_OUTPUT,
	.description = "append records to a local file (raw lines or NDJSON), exactly once",
	.options = out_file_opts,
	.conf_size = sizeof(struct out_file_conf),
	.init = out_file_init,
	.start = out_file_start,
	.flush = out_file_flush,
	.metrics = out_file_metrics,
	.exit = out_file_exit,
};
