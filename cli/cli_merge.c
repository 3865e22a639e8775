/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Timestamp-order merge of partition streams (see cli_merge.h).
 */
#include <signal.h>
#include <string.h>

#include "cli/cli_merge.h"
#include "lib/clock.h"
#include "lib/err.h"

#define LINGER_MS 200
#define PUMP_EVERY 512

static volatile sig_atomic_t stop_requested;

void cli_merge_stop(void)
{
	stop_requested = 1;
}

bool cli_merge_stopped(void)
{
	return stop_requested != 0;
}

int cli_merge_init(struct cli_merge *m, struct cli_source *src, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->src = src;
	m->n = n;
	m->linger_ms = LINGER_MS;
	m->multi = curl_multi_init();
	if (!m->multi)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = cli_source_start(&src[i], m->multi);

		if (rc < 0)
			return rc;
	}
	return 0;
}

void cli_merge_release(struct cli_merge *m)
{
	for (size_t i = 0; i < m->n; i++)
		cli_source_release(&m->src[i], m->multi);
	if (m->multi)
		curl_multi_cleanup(m->multi);
	m->multi = NULL;
}

/* Move the transfers along; wait up to timeout_ms for something to happen. */
static int pump(struct cli_merge *m, int timeout_ms)
{
	uint64_t now;
	int running = 0, left = 0;
	CURLMsg *msg;

	if (timeout_ms > 0 && curl_multi_poll(m->multi, NULL, 0, timeout_ms, NULL) != CURLM_OK)
		return -EIO;
	if (curl_multi_perform(m->multi, &running) != CURLM_OK)
		return -EIO;
	now = clock_mono_ms();
	while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
		struct cli_source *s = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		if (s)
			cli_source_done(s, m->multi, msg->data.result, now);
	}
	for (size_t i = 0; i < m->n; i++) {
		if (cli_source_tick(&m->src[i], m->multi, now) < 0)
			return -ENOMEM;
	}
	return 0;
}

int cli_merge_run(struct cli_merge *m, cli_merge_emit_fn emit, cli_merge_idle_fn idle, void *arg,
		  uint64_t max)
{
	unsigned since_pump = 0;
	bool dirty = false;

	for (;;) {
		struct cli_source *best = NULL;
		uint64_t now;
		bool all_over = true, can_emit = true;
		int rc;

		if (stop_requested)
			return 0;
		for (size_t i = 0; i < m->n; i++) {
			struct cli_source *s = &m->src[i];

			rc = cli_source_next(s);
			if (rc == -EIO)
				return -EIO;
			if (rc != 0)
				all_over = false;
			if (rc == 1 && (!best || s->head.timestamp < best->head.timestamp))
				best = s;
		}
		if (all_over)
			return 0;
		now = clock_mono_ms();
		for (size_t i = 0; best && i < m->n; i++) {
			struct cli_source *s = &m->src[i];

			if (s == best || s->has_head || s->eof)
				continue;
			if (s->frontier >= best->head.timestamp ||
			    cli_source_idle(s, now, m->linger_ms))
				continue;
			can_emit = false;
			break;
		}
		if (best && can_emit) {
			best->has_head = false;
			if (!m->first_emit_ns)
				m->first_emit_ns = clock_mono_ns();
			rc = emit(arg, best, &best->head);
			if (rc != 0)
				return rc;
			dirty = true;
			m->emitted++;
			if (max && m->emitted >= max)
				return 0;
			if (++since_pump < PUMP_EVERY)
				continue;
			since_pump = 0;
			rc = pump(m, 0);
		} else {
			since_pump = 0;
			if (dirty && idle) {
				/* about to wait: what was printed must be out first */
				rc = idle(arg);
				if (rc != 0)
					return rc;
				dirty = false;
			}
			rc = pump(m, best ? 20 : 100);
		}
		if (rc < 0)
			return rc;
	}
}
