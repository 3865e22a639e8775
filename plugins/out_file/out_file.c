/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output `file`: writes records to local files, one per line (raw values or
 * NDJSON).  For debugging pipelines, for hand-offs to tools that read files,
 * and for tests that need a sink with the same exactly-once guarantee as the
 * store output.
 *
 * `path` may name the topic and partition (`${topic}`, `${partition}`): each
 * (topic, partition) of the output -- a "lane", whose spooled batches are
 * flushed in order -- writes to the file its path expands to.  With
 * `rotate_bytes`, a file about to grow past it is renamed to `<path>.1`
 * (older ones shift to `.2` ... `.<rotate_keep>`, the oldest is removed) and
 * a new one started.
 *
 * Exactly once: after each flush the file is fdatasync'ed and a state file in
 * the output's spool directory records, atomically, every file's length and
 * every lane's last spool entry written.  At start a file is cut back to its
 * recorded length before the first write (what was written after the last
 * state is written again), and a lane skips the entries it had written when
 * the spool hands them over again.  A crash in the middle of a rotation
 * leaves a file shorter than recorded, which is then taken as it is.
 *
 * Writes are synchronous on the loop thread (local disk).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/plugin.h"
#include "agent/pipeline/record_format.h"
#include "lib/codec.h"
#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"

#define STATE_NAME "out_file.state"
#define STATE_V1_SIZE 24
#define STATE_MAGIC "SOF2"
#define MAX_FILES 4096
_Static_assert(STATE_V1_SIZE == 8 + 8 + 4 + 4,
	       "v1 state: entry id u64 | length u64 | 0 u32 | crc u32");
_Static_assert(sizeof(STATE_MAGIC) - 1 == 4, "state magic is 4 bytes");

struct out_file_conf {
	char *path;
	int format;
	bool fsync;
	uint64_t rotate_bytes;
	int64_t rotate_keep;
};

struct ofile {
	char *path;
	int fd; /* -1 until first written in this run */
	uint64_t size;
	bool have_size; /* size comes from the state file */
};

struct olane {
	char *name; /* "topic/partition" */
	uint64_t last_id;
	bool have; /* last_id is real: entries up to it are written */
};

struct out_file {
	const struct out_file_conf *conf;
	struct output *output;
	char *state_dir;
	struct ofile *files;
	size_t nfiles;
	struct olane *lanes;
	size_t nlanes;
	uint64_t v1_last; /* a version-1 state's last id: a floor for every lane */
	bool have_v1;
	struct codec_ctx *cc;
	struct buf out;
	uint64_t records, skipped, rotations;
};

static const char *const formats[] = {"raw", "ndjson", NULL};

static int check_path(const char *v, char *why, size_t whylen)
{
	for (const char *p = strstr(v, "${"); p; p = strstr(p + 2, "${")) {
		if (strncmp(p, "${topic}", 8) && strncmp(p, "${partition}", 12)) {
			snprintf(why, whylen,
				 "unknown variable in path (known: ${topic}, ${partition})");
			return -1;
		}
	}
	return 0;
}

/* clang-format off */
static const struct cfg_option out_file_opts[] = {
	{.name = "path", .type = CFG_STRING, .offset = offsetof(struct out_file_conf, path),
	 .flags = CFG_REQUIRED, .check = check_path,
	 .help = "file to append records to; may use ${topic} and ${partition}"},
	{.name = "format", .type = CFG_ENUM, .offset = offsetof(struct out_file_conf, format),
	 .def = "raw", .choices = formats,
	 .help = "raw: each value and a newline; ndjson: the store's replay JSON"},
	{.name = "fsync", .type = CFG_BOOL, .offset = offsetof(struct out_file_conf, fsync),
	 .def = "true", .help = "fdatasync before acknowledging (exactly once across crashes)"},
	{.name = "rotate_bytes", .type = CFG_SIZE,
	 .offset = offsetof(struct out_file_conf, rotate_bytes), .def = "0",
	 .help = "rename a file to <path>.1 before it grows past this (0: never)"},
	{.name = "rotate_keep", .type = CFG_INT, .offset = offsetof(struct out_file_conf, rotate_keep),
	 .def = "5", .min = 1, .max = 1000, .help = "rotated files kept (<path>.1 ... .N)"},
	CFG_OPT_END,
};
/* clang-format on */

/* ------------------------------------------------------------ tables */

static struct ofile *file_find(struct out_file *f, const char *path, bool create)
{
	struct ofile *nf;

	for (size_t i = 0; i < f->nfiles; i++)
		if (!strcmp(f->files[i].path, path))
			return &f->files[i];
	if (!create || f->nfiles >= MAX_FILES)
		return NULL;
	nf = mem_realloc(f->files, (f->nfiles + 1) * sizeof(*nf));
	if (!nf)
		return NULL;
	f->files = nf;
	nf = &f->files[f->nfiles];
	memset(nf, 0, sizeof(*nf));
	nf->fd = -1;
	nf->path = mem_strdup(path);
	if (!nf->path)
		return NULL;
	f->nfiles++;
	return nf;
}

static struct olane *lane_find(struct out_file *f, const char *name, bool create)
{
	struct olane *nl;

	for (size_t i = 0; i < f->nlanes; i++)
		if (!strcmp(f->lanes[i].name, name))
			return &f->lanes[i];
	if (!create || f->nlanes >= MAX_FILES)
		return NULL;
	nl = mem_realloc(f->lanes, (f->nlanes + 1) * sizeof(*nl));
	if (!nl)
		return NULL;
	f->lanes = nl;
	nl = &f->lanes[f->nlanes];
	nl->name = mem_strdup(name);
	nl->last_id = f->have_v1 ? f->v1_last : 0;
	nl->have = f->have_v1;
	if (!nl->name)
		return NULL;
	f->nlanes++;
	return nl;
}

/* ------------------------------------------------------------ state */

static int get_name(const uint8_t **p, const uint8_t *end, char *out, size_t cap)
{
	size_t n;

	if (end - *p < 2)
		return -1;
	n = (size_t)(*p)[0] << 8 | (*p)[1];
	*p += 2;
	if (n == 0 || n >= cap || (size_t)(end - *p) < n + 8 || memchr(*p, 0, n))
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return 0;
}

static int state_load(struct out_file *f)
{
	char path[4096], name[4096];
	const uint8_t *p, *end;
	struct buf b;
	uint32_t nfiles, nlanes;
	int rc;

	buf_init(&b, 64 << 20);
	snprintf(path, sizeof(path), "%s/%s", f->state_dir, STATE_NAME);
	rc = fs_read_file(path, &b);
	if (rc == -ENOENT) {
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	if (b.len == STATE_V1_SIZE && get_be32(b.data + 20) == crc32c(0, b.data, 20)) {
		struct ofile *of = file_find(f, f->conf->path, true);

		f->v1_last = get_be64(b.data);
		f->have_v1 = true;
		if (of) {
			of->size = get_be64(b.data + 8);
			of->have_size = true;
		}
		goto out;
	}
	if (b.len < 16 || memcmp(b.data, STATE_MAGIC, 4) ||
	    get_be32(b.data + b.len - 4) != crc32c(0, b.data, b.len - 4))
		goto damaged;
	p = b.data + 4;
	end = b.data + b.len - 4;
	nfiles = get_be32(p);
	nlanes = get_be32(p + 4);
	p += 8;
	for (uint32_t i = 0; i < nfiles; i++) {
		struct ofile *of;

		if (get_name(&p, end, name, sizeof(name)) < 0)
			goto damaged;
		of = file_find(f, name, true);
		if (!of) {
			rc = -ENOMEM;
			goto out;
		}
		of->size = get_be64(p);
		of->have_size = true;
		p += 8;
	}
	for (uint32_t i = 0; i < nlanes; i++) {
		struct olane *ol;

		if (get_name(&p, end, name, sizeof(name)) < 0)
			goto damaged;
		ol = lane_find(f, name, true);
		if (!ol) {
			rc = -ENOMEM;
			goto out;
		}
		ol->last_id = get_be64(p);
		ol->have = true;
		p += 8;
	}
	if (p != end)
		goto damaged;
	goto out;
damaged:
	log_warn("out_file: %s is damaged; starting without it (records may repeat)", path);
out:
	buf_release(&b);
	return rc;
}

static int put_name(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	uint8_t l[2] = {(uint8_t)(n >> 8), (uint8_t)n};

	if (n > 0xffff)
		return -ERR_TOO_LARGE;
	return buf_append(b, l, 2) ? -ENOMEM : buf_append(b, s, n);
}

static int state_store(struct out_file *f)
{
	struct buf b;
	uint8_t v[8];
	int rc;

	buf_init(&b, 64 << 20);
	rc = buf_append(&b, STATE_MAGIC, 4);
	put_be32(v, (uint32_t)f->nfiles);
	{
		uint32_t n = 0;

		for (size_t i = 0; i < f->nlanes; i++)
			n += f->lanes[i].have;
		put_be32(v + 4, n);
	}
	rc = rc ? rc : buf_append(&b, v, 8);
	for (size_t i = 0; !rc && i < f->nfiles; i++) {
		rc = put_name(&b, f->files[i].path);
		put_be64(v, f->files[i].size);
		rc = rc ? rc : buf_append(&b, v, 8);
	}
	for (size_t i = 0; !rc && i < f->nlanes; i++) {
		if (!f->lanes[i].have)
			continue;
		rc = put_name(&b, f->lanes[i].name);
		put_be64(v, f->lanes[i].last_id);
		rc = rc ? rc : buf_append(&b, v, 8);
	}
	if (!rc) {
		put_be32(v, crc32c(0, b.data, b.len));
		rc = buf_append(&b, v, 4);
	}
	if (!rc)
		rc = fs_write_atomic(f->state_dir, STATE_NAME, b.data, b.len);
	buf_release(&b);
	return rc;
}

/* ------------------------------------------------------------ files */

static void expand_path(const char *t, const char *topic, int32_t partition, char *out, size_t cap)
{
	size_t n = 0;

	while (*t && n + 1 < cap) {
		if (!strncmp(t, "${topic}", 8)) {
			/* topic names are [a-zA-Z0-9._-]; never a path separator */
			for (const char *v = topic; *v && n + 1 < cap; v++)
				out[n++] = *v == '/' ? '_' : *v;
			t += 8;
		} else if (!strncmp(t, "${partition}", 12)) {
			n += (size_t)snprintf(out + n, cap - n, "%" PRId32, partition);
			if (n >= cap)
				n = cap - 1;
			t += 12;
		} else {
			out[n++] = *t++;
		}
	}
	out[n] = '\0';
}

static int state_store(struct out_file *f);

/*
 * Open a file for this run.  A file the state records is cut back to its
 * recorded length.  A file the state does not know yet (the first write
 * ever, a new ${topic}, a file just rotated) gets its length recorded
 * durably before anything is written to it: a kill -9 between that first
 * write and the state saved after it would otherwise leave lines that the
 * spool hands over again (written twice).  So does a file shorter than
 * recorded (a crash in the middle of a rotation): its real length is
 * recorded before it grows again.
 */
static int file_open(struct out_file *f, struct ofile *of)
{
	struct stat st;
	bool known = of->have_size, record = !known;
	uint64_t recorded = of->size;
	int rc = 0;

	of->fd = open(of->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (of->fd < 0) {
		rc = -errno;
		log_error("out_file: cannot open %s: %s", of->path, err_str(rc));
		return rc;
	}
	if (fstat(of->fd, &st) != 0) {
		rc = -errno;
		goto out;
	}
	if (known && (uint64_t)st.st_size > of->size) {
		/* Written after the last recorded flush: it comes again. */
		if (ftruncate(of->fd, (off_t)of->size) != 0) {
			rc = -errno;
			goto out;
		}
	} else {
		record = record || (uint64_t)st.st_size < of->size;
		of->size = (uint64_t)st.st_size;
	}
	of->have_size = true;
	if (record && f->conf->fsync) {
		rc = state_store(f);
		if (rc < 0)
			log_error("out_file: cannot record the length of %s: %s", of->path,
				  err_str(rc));
	}
out:
	if (rc < 0) {
		close(of->fd);
		of->fd = -1;
		of->have_size = known;
		of->size = recorded;
	}
	return rc;
}

static char *dir_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, cap, ".");
	else
		snprintf(out, cap, "%.*s", (int)(slash - path) ? (int)(slash - path) : 1, path);
	return out;
}

/* <path> -> <path>.1, shifting older ones; a new file at <path>. */
static int file_rotate(struct out_file *f, struct ofile *of)
{
	char from[4200], to[4200], dir[4096];
	int rc;
	int64_t keep = f->conf->rotate_keep;

	if (of->fd >= 0) {
		close(of->fd);
		of->fd = -1;
	}
	snprintf(to, sizeof(to), "%s.%" PRId64, of->path, keep);
	if (unlink(to) != 0 && errno != ENOENT)
		log_warn("out_file: cannot remove %s: %s", to, err_str(-errno));
	for (int64_t k = keep - 1; k >= 1; k--) {
		snprintf(from, sizeof(from), "%s.%" PRId64, of->path, k);
		snprintf(to, sizeof(to), "%s.%" PRId64, of->path, k + 1);
		if (rename(from, to) != 0 && errno != ENOENT)
			log_warn("out_file: cannot rename %s: %s", from, err_str(-errno));
	}
	snprintf(to, sizeof(to), "%s.1", of->path);
	if (rename(of->path, to) != 0) {
		rc = -errno;
		log_error("out_file: cannot rotate %s: %s", of->path, err_str(rc));
		return rc;
	}
	rc = fs_fsync_dir(dir_of(of->path, dir, sizeof(dir)));
	if (rc < 0) /* the rename may not survive a crash: the new file still opens */
		log_warn("out_file: cannot sync the directory of %s: %s", of->path, err_str(rc));
	of->size = 0;
	of->have_size = false;
	f->rotations++;
	return file_open(f, of);
}

static void out_file_exit(void *ctx)
{
	struct out_file *f = ctx;

	if (!f)
		return;
	for (size_t i = 0; i < f->nfiles; i++) {
		if (f->files[i].fd >= 0)
			close(f->files[i].fd);
		mem_free(f->files[i].path);
	}
	for (size_t i = 0; i < f->nlanes; i++)
		mem_free(f->lanes[i].name);
	mem_free(f->files);
	mem_free(f->lanes);
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
	int rc = state_load(f);

	if (rc < 0)
		return rc;
	/* A fixed path is opened (and cut back) at once; templated ones when
	 * their first lane writes. */
	if (!strstr(f->conf->path, "${")) {
		struct ofile *of = file_find(f, f->conf->path, true);

		return of ? file_open(f, of) : -ENOMEM;
	}
	return 0;
}

/* Write what is formatted, make it durable, record how far things got. */
static int commit(struct out_file *f, struct ofile *of, struct olane *ol, uint64_t last)
{
	int rc;

	if (f->conf->rotate_bytes && of->size > 0 &&
	    of->size + f->out.len > f->conf->rotate_bytes) {
		rc = file_rotate(f, of);
		if (rc < 0)
			return rc;
	}
	rc = fs_pwrite_full(of->fd, f->out.data, f->out.len, (off_t)of->size);
	if (rc == 0 && f->conf->fsync && fdatasync(of->fd) != 0)
		rc = -errno;
	if (rc < 0) {
		log_error("out_file: writing %s: %s", of->path, err_str(rc));
		if (ftruncate(of->fd, (off_t)of->size) != 0)
			log_error("out_file: cannot cut %s back", of->path);
		return rc;
	}
	of->size += f->out.len;
	ol->last_id = last;
	ol->have = true;
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
	char path[4096], lname[512];
	struct ofile *of;
	struct olane *ol;
	uint64_t last;
	bool wrote = false;
	int rc;

	snprintf(lname, sizeof(lname), "%s/%" PRId32, fl->topic, fl->partition);
	expand_path(f->conf->path, fl->topic, fl->partition, path, sizeof(path));
	ol = lane_find(f, lname, true);
	of = file_find(f, path, true);
	if (!ol || !of)
		return FLUSH_RETRY;
	if (of->fd < 0 && file_open(f, of) < 0)
		return FLUSH_RETRY;
	last = ol->last_id;
	buf_reset(&f->out);
	for (size_t i = 0; i < fl->nbatches; i++) {
		const struct flush_batch *b = &fl->batches[i];

		if (ol->have && b->entry_id <= ol->last_id) {
			f->skipped++;
			continue;
		}
		rc = record_format_batch(f->cc, f->conf->format, fl->topic, fl->partition,
					 fl->body.data + b->off, b->len, &f->out);
		if (rc < 0) {
			char why[128];

			snprintf(why, sizeof(why), "cannot decode: %s", err_str(rc));
			if (wrote && commit(f, of, ol, last) < 0)
				return FLUSH_RETRY;
			output_flush_done(f->output, fl, FLUSH_ERROR, i, "corrupt_batch", why, 0);
			return FLUSH_ASYNC;
		}
		f->records += (uint64_t)rc;
		last = b->entry_id;
		wrote = true;
	}
	if (wrote && commit(f, of, ol, last) < 0)
		return FLUSH_RETRY;
	return FLUSH_OK;
}

static size_t out_file_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct out_file *f = ctx;

	if (max < 3)
		return 0;
	m[0] = (struct plugin_metric){"sluice_agent_file_records_written_total",
				      "counter",
				      "Records written by file outputs.",
				      f->records,
				      NULL,
				      NULL};
	m[1] = (struct plugin_metric){"sluice_agent_file_batches_skipped_total",
				      "counter",
				      "Batches a file output had written before a restart.",
				      f->skipped,
				      NULL,
				      NULL};
	m[2] = (struct plugin_metric){"sluice_agent_file_rotations_total",
				      "counter",
				      "Files a file output rotated (rotate_bytes).",
				      f->rotations,
				      NULL,
				      NULL};
	return 3;
}

const struct plugin out_file_plugin = {
	.name = "file",
	.kind = PLUGIN_OUTPUT,
	.description =
		"append records to local files (raw lines or NDJSON; per-topic paths, rotation by size), exactly once",
	.options = out_file_opts,
	.conf_size = sizeof(struct out_file_conf),
	.init = out_file_init,
	.start = out_file_start,
	.flush = out_file_flush,
	.metrics = out_file_metrics,
	.exit = out_file_exit,
};
