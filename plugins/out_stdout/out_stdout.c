/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output `stdout`: prints records (raw values or NDJSON) on standard output,
 * for people debugging a pipeline.  Delivery is "written to the pipe"; there
 * is no state across restarts.  Issue 9 extends it.
 */
#include <unistd.h>

#include "agent/plugin.h"
#include "agent/pipeline/record_format.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"

struct out_stdout_conf {
	int format;
};

struct out_stdout {
	const struct out_stdout_conf *conf;
	struct output *output;
	struct codec_ctx *cc;
	struct buf out;
};

static const char *const formats[] = {"raw", "ndjson", NULL};

/* clang-format off */
static const struct cfg_option out_stdout_opts[] = {
	{.name = "format", .type = CFG_ENUM, .offset = offsetof(struct out_stdout_conf, format),
	 .def = "raw", .choices = formats,
	 .help = "raw: each value and a newline; ndjson: the store's replay JSON"},
	CFG_OPT_END,
};
/* clang-format on */

static void out_stdout_exit(void *ctx)
{
	struct out_stdout *s = ctx;

	if (!s)
		return;
	codec_ctx_free(s->cc);
	buf_release(&s->out);
	mem_free(s);
}

static int out_stdout_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct out_stdout *s = mem_calloc(1, sizeof(*s));

	(void)err;
	*ctx = s;
	if (!s)
		return -ENOMEM;
	s->conf = a->conf;
	s->output = a->output;
	buf_init(&s->out, 2 * BATCH_MAX_SIZE);
	if (a->check_only)
		return 0;
	s->cc = codec_ctx_new();
	return s->cc ? 0 : -ENOMEM;
}

static enum flush_result out_stdout_flush(void *ctx, struct flush *f)
{
	struct out_stdout *s = ctx;
	int rc;

	for (size_t i = 0; i < f->nbatches; i++) {
		buf_reset(&s->out);
		rc = record_format_batch(s->cc, s->conf->format, f->topic, f->partition,
					 f->body.data + f->batches[i].off, f->batches[i].len,
					 &s->out);
		if (rc < 0) {
			/* The ones before it are out: only this one is quarantined. */
			output_flush_done(s->output, f, FLUSH_ERROR, i, "corrupt_batch",
					  err_str(rc), 0);
			return FLUSH_ASYNC;
		}
		rc = fs_write_full(STDOUT_FILENO, s->out.data, s->out.len);
		if (rc < 0) {
			log_error("out_stdout: %s", err_str(rc));
			return FLUSH_RETRY;
		}
	}
	return FLUSH_OK;
}

const struct plugin out_stdout_plugin = {
	.name = "stdout",
	.kind = PLUGIN_OUTPUT,
	.description = "print records on standard output (raw lines or NDJSON)",
	.options = out_stdout_opts,
	.conf_size = sizeof(struct out_stdout_conf),
	.init = out_stdout_init,
	.flush = out_stdout_flush,
	.exit = out_stdout_exit,
};
