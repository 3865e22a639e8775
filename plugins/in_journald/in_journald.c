/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Input `journald`: reads the systemd journal through libsystemd's
 * sd-journal, exactly once.
 *
 * The whole journal (the system one, or the directory in `path`) is one
 * source.  Its ordinal counts the entries read since the journal was first
 * seen, and its meta is the journal cursor of the entry at that ordinal: each
 * event carries its own cursor (struct event.meta), so whatever position a
 * spool entry records, the cursor recorded with it names the same entry.
 * After a restart reading seeks to the committed cursor and goes on with the
 * entry after it; entries that an output already has are skipped by the
 * pipeline by ordinal, as for files.  A full spool pauses the input and the
 * journal keeps the entries (the cursor simply does not move).
 *
 * Records: value = MESSAGE as-is (binary too) or, with `fields: all`, every
 * field of the entry in one JSON object; key = "host:unit"; timestamp = the
 * entry's realtime timestamp.  The source's key ("host:journal path") picks
 * the partition, so the journal's order is kept across units.
 *
 * The journal's fd (inotify on its directories) wakes the loop; a slow timer
 * also polls, for file systems inotify cannot see and for a `path` that does
 * not exist yet (a clear warning, retried, never fatal).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include "agent/plugin.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/mem.h"

#define PUMP_ENTRIES 512 /* entries per loop iteration */
#define POLL_MS 1000
#define REOPEN_MS 10000

static const char *const field_modes[] = {"message", "all", NULL};
static const char *const fallback_modes[] = {"head", "tail", NULL};

struct in_journald_conf {
	char *path;
	struct cfg_list units;
	struct cfg_list matches;
	bool read_from_head;
	int fields; /* 0 message, 1 all */
	uint64_t max_entry_bytes;
	int cursor_fallback; /* 0 head, 1 tail */
};

struct in_journald {
	const struct in_journald_conf *conf;
	struct input *in;
	struct evloop *loop;
	const char *id;
	const char *host;
	sd_journal *j;
	struct source *src;
	struct evloop_io io;
	struct evloop_timer poll;
	struct evloop_timer pump;
	bool io_on;
	bool paused;
	bool warned_missing;
	bool at_end;        /* the last pump reached the journal's end */
	bool unread;        /* the current entry is one not read yet (after resync) */
	bool from_head;     /* positioned at the head and nothing read since */
	char last_cur[256]; /* cursor of the last entry read ("" = none or too long) */
	uint64_t ordinal;
	struct buf value;
	struct buf key;
	struct buf hvals; /* header values, back to back */
	struct log_ratelimit rl;
	struct {
		uint64_t entries;
		uint64_t bytes;
		uint64_t open_errors;
		uint64_t read_errors;
		uint64_t cursor_misses;
		uint64_t cursor_invalid;
		uint64_t vacuumed; /* entries gone before they were read (seqnums) */
	} st;
};

static int check_match(const char *v, char *why, size_t whylen)
{
	const char *eq = strchr(v, '=');

	if (!eq || eq == v) {
		snprintf(why, whylen,
			 "'%s': a match is FIELD=VALUE (e.g. _SYSTEMD_UNIT=nginx.service)", v);
		return -1;
	}
	for (const char *p = v; p < eq; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) {
			snprintf(why, whylen,
				 "'%s': journal field names are upper-case letters, "
				 "digits and '_'",
				 v);
			return -1;
		}
	}
	return 0;
}

static int check_abs(const char *v, char *why, size_t whylen)
{
	if (*v && *v != '/') {
		snprintf(why, whylen, "'%s': the journal path must be absolute", v);
		return -1;
	}
	return 0;
}

/* clang-format off */
static const struct cfg_option in_journald_opts[] = {
	{.name = "path", .type = CFG_STRING, .offset = offsetof(struct in_journald_conf, path),
	 .check = check_abs,
	 .help = "journal directory to read (default: the local system journal)"},
	{.name = "units", .type = CFG_LIST, .offset = offsetof(struct in_journald_conf, units),
	 .help = "only these systemd units (_SYSTEMD_UNIT=NAME, any of them)"},
	{.name = "matches", .type = CFG_LIST, .offset = offsetof(struct in_journald_conf, matches),
	 .check = check_match,
	 .help = "FIELD=VALUE matches: same field = any of them, different fields = all; "
		 "PRIORITY=0..3 is a range"},
	{.name = "read_from_head", .type = CFG_BOOL,
	 .offset = offsetof(struct in_journald_conf, read_from_head), .def = "false",
	 .help = "at the very first start read the whole journal (else only new entries); "
		 "later starts resume from the cursor"},
	{.name = "fields", .type = CFG_ENUM, .offset = offsetof(struct in_journald_conf, fields),
	 .def = "message", .choices = field_modes,
	 .help = "message: value = MESSAGE; all: value = every field as one JSON object"},
	{.name = "max_entry_bytes", .type = CFG_SIZE,
	 .offset = offsetof(struct in_journald_conf, max_entry_bytes), .def = "1MiB", .min = 1024,
	 .max = 64 << 20, .help = "longest field read (longer ones are cut by sd-journal)"},
	{.name = "cursor_fallback", .type = CFG_ENUM,
	 .offset = offsetof(struct in_journald_conf, cursor_fallback), .def = "head",
	 .choices = fallback_modes,
	 .help = "where to start when the committed cursor is unusable here (unparsable, or "
		 "of a journal series no longer present: another machine's, or all vacuumed)"},
	CFG_OPT_END,
};
/* clang-format on */

/* ------------------------------------------------------------ matches */

static int add_match(sd_journal *j, const char *m)
{
	const char *eq = strchr(m, '=');
	const char *dots = eq ? strstr(eq + 1, "..") : NULL;
	char buf[256];
	int64_t lo, hi;

	if (dots && eq - m < 64) {
		/* FIELD=A..B with small integers: one match per value (ORed). */
		char a[32], b[32];
		size_t al = (size_t)(dots - (eq + 1)), bl = strlen(dots + 2);

		if (al > 0 && al < sizeof(a) && bl > 0 && bl < sizeof(b)) {
			memcpy(a, eq + 1, al);
			a[al] = '\0';
			memcpy(b, dots + 2, bl + 1);
			if (cfg_parse_int(a, &lo) == 0 && cfg_parse_int(b, &hi) == 0 && lo >= 0 &&
			    hi >= lo && hi - lo < 1000) {
				for (int64_t v = lo; v <= hi; v++) {
					int n = snprintf(buf, sizeof(buf), "%.*s=%" PRId64,
							 (int)(eq - m), m, v);
					int rc = sd_journal_add_match(j, buf, (size_t)n);

					if (rc < 0)
						return rc;
				}
				return 0;
			}
		}
	}
	return sd_journal_add_match(j, m, 0);
}

static int add_matches(struct in_journald *t)
{
	char buf[512];
	int rc;

	for (size_t i = 0; i < t->conf->units.n; i++) {
		int n = snprintf(buf, sizeof(buf), "_SYSTEMD_UNIT=%s", t->conf->units.v[i]);

		if (n < 0 || (size_t)n >= sizeof(buf))
			return -ENAMETOOLONG;
		rc = sd_journal_add_match(t->j, buf, (size_t)n);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < t->conf->matches.n; i++) {
		rc = add_match(t->j, t->conf->matches.v[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------ entries */

/* The value of FIELD in the current entry, without "FIELD=". */
static int field(sd_journal *j, const char *name, const char **v, size_t *n)
{
	const void *d;
	size_t len, nl = strlen(name);
	int rc = sd_journal_get_data(j, name, &d, &len);

	if (rc < 0)
		return rc;
	if (len < nl + 1)
		return -ERR_CORRUPT;
	*v = (const char *)d + nl + 1;
	*n = len - nl - 1;
	return 0;
}

static int all_fields_json(struct in_journald *t, uint64_t usec, const char *cursor)
{
	const void *d;
	size_t len;
	bool first = true;
	int rc = buf_append_str(&t->value, "{");

	if (rc == 0)
		rc = json_key(&t->value, &first, "__CURSOR");
	if (rc == 0)
		rc = json_cstr(&t->value, cursor);
	if (rc == 0)
		rc = json_key(&t->value, &first, "__REALTIME_TIMESTAMP");
	if (rc == 0)
		rc = buf_printf(&t->value, "\"%" PRIu64 "\"", usec);
	sd_journal_restart_data(t->j);
	while (rc == 0) {
		const char *p, *eq;
		int e = sd_journal_enumerate_data(t->j, &d, &len);

		if (e <= 0) {
			rc = e;
			break;
		}
		p = d;
		eq = memchr(p, '=', len);
		if (!eq)
			continue;
		rc = buf_append_str(&t->value, first ? "" : ",");
		first = false;
		if (rc == 0)
			rc = json_str(&t->value, p, (size_t)(eq - p));
		if (rc == 0)
			rc = buf_append_str(&t->value, ":");
		if (rc < 0)
			break;
		if (utf8_valid(eq + 1, len - (size_t)(eq + 1 - p))) {
			rc = json_str(&t->value, eq + 1, len - (size_t)(eq + 1 - p));
		} else {
			/* Binary data as an array of byte values, like journalctl -o json. */
			rc = buf_append_str(&t->value, "[");
			for (const uint8_t *b = (const uint8_t *)eq + 1;
			     rc == 0 && b < (const uint8_t *)p + len; b++)
				rc = buf_printf(&t->value, "%s%u",
						b == (const uint8_t *)eq + 1 ? "" : ",", *b);
			if (rc == 0)
				rc = buf_append_str(&t->value, "]");
		}
	}
	if (rc == 0)
		rc = buf_append_str(&t->value, "}");
	return rc;
}

static const struct {
	const char *field;
	const char *header;
} header_fields[] = {
	{"_SYSTEMD_UNIT", "unit"},
	{"PRIORITY", "priority"},
	{"SYSLOG_IDENTIFIER", "syslog_identifier"},
	{"_PID", "pid"},
	{"_HOSTNAME", "hostname"},
};
#define NHDR (sizeof(header_fields) / sizeof(header_fields[0]))

static void remember_cursor(struct in_journald *t, const char *cur)
{
	size_t n = strlen(cur);

	t->from_head = false;
	if (n >= sizeof(t->last_cur))
		n = 0; /* no cursor is this long; no resync then */
	memcpy(t->last_cur, cur, n);
	t->last_cur[n] = '\0';
}

/* Read the current entry and emit it as ordinal t->ordinal. */
static void emit_entry(struct in_journald *t)
{
	struct record_header hdrs[NHDR];
	size_t offs[NHDR], lens[NHDR], nh = 0;
	const char *unit = NULL, *v;
	size_t unit_len = 0, n;
	uint64_t usec = 0;
	char *cursor = NULL;
	struct event ev;
	int rc;

	rc = sd_journal_get_cursor(t->j, &cursor);
	if (rc < 0) {
		t->st.read_errors++;
		log_write_rl(&t->rl, 10000, LOG_LVL_WARN, "journald %s: entry without cursor: %s",
			     t->id, err_str(rc));
		return;
	}
	t->ordinal++;
	t->st.entries++;
	remember_cursor(t, cursor);
	if (sd_journal_get_realtime_usec(t->j, &usec) < 0)
		usec = 0;
	buf_reset(&t->value);
	buf_reset(&t->hvals);
	for (size_t i = 0; i < NHDR; i++) {
		if (field(t->j, header_fields[i].field, &v, &n) < 0)
			continue;
		offs[nh] = t->hvals.len;
		lens[nh] = n;
		if (buf_append(&t->hvals, v, n) < 0)
			continue;
		hdrs[nh].key = (const uint8_t *)header_fields[i].header;
		hdrs[nh].key_len = (int32_t)strlen(header_fields[i].header);
		nh++;
	}
	for (size_t i = 0; i < nh; i++) {
		hdrs[i].value = t->hvals.data + offs[i];
		hdrs[i].value_len = (int32_t)lens[i];
	}
	/* sd-journal's pointers last until its next call: take the unit from
	 * our copy. */
	if (nh > 0 && hdrs[0].key == (const uint8_t *)header_fields[0].header) {
		unit = (const char *)hdrs[0].value;
		unit_len = lens[0];
	}
	if (!unit && field(t->j, "SYSLOG_IDENTIFIER", &v, &n) == 0) {
		unit = v;
		unit_len = n;
	}
	if (!unit) {
		unit = "journal";
		unit_len = 7;
	}
	buf_reset(&t->key);
	rc = buf_printf(&t->key, "%s:", t->host);
	if (rc == 0)
		rc = buf_append(&t->key, unit, unit_len);
	if (rc == 0) {
		if (t->conf->fields == 1) {
			rc = all_fields_json(t, usec, cursor);
		} else if (field(t->j, "MESSAGE", &v, &n) == 0) {
			rc = buf_append(&t->value, v, n);
		}
	}
	memset(&ev, 0, sizeof(ev));
	ev.ts = (int64_t)(usec / 1000);
	ev.value = t->value.data ? (const void *)t->value.data : (const void *)"";
	ev.value_len = t->value.len;
	ev.ordinal = t->ordinal;
	ev.meta = cursor;
	ev.meta_len = strlen(cursor);
	ev.headers = hdrs;
	ev.nheaders = nh;
	ev.key = t->key.data;
	ev.key_len = t->key.len;
	if (rc < 0) {
		/* Too large for the buffers: keep the position, count it. */
		t->st.read_errors++;
		log_write_rl(&t->rl, 10000, LOG_LVL_WARN, "journald %s: cannot read an entry: %s",
			     t->id, err_str(rc));
		ev.value = "";
		ev.value_len = 0;
	}
	t->st.bytes += ev.value_len;
	input_emit(t->in, t->src, &ev);
	free(cursor); /* sd-journal allocated it with malloc */
}

static void on_pump(struct evloop_timer *tm);

static void pump(struct in_journald *t)
{
	int i;

	if (!t->j || t->paused)
		return;
	if (t->unread) {
		t->unread = false;
		emit_entry(t);
	}
	for (i = 0; i < PUMP_ENTRIES && !t->paused; i++) {
		int rc = sd_journal_next(t->j);

		t->at_end = rc == 0;
		if (rc == 0)
			return;
		if (rc < 0) {
			t->st.read_errors++;
			log_write_rl(&t->rl, 10000, LOG_LVL_WARN, "journald %s: reading: %s", t->id,
				     err_str(rc));
			return;
		}
		emit_entry(t);
	}
	if (!t->paused && !t->pump.active)
		evloop_timer_start(t->loop, &t->pump, 0, 0, on_pump, t);
}

static void on_pump(struct evloop_timer *tm)
{
	pump(tm->data);
}

static void on_journal(struct evloop_io *io, uint32_t revents)
{
	struct in_journald *t = io->data;

	(void)revents;
	sd_journal_process(t->j);
	pump(t);
}

/* ------------------------------------------------------------ open */

static const char *source_label(const struct in_journald *t)
{
	return t->conf->path && *t->conf->path ? t->conf->path : "journal";
}

/* One field of a journal cursor ("s=...;i=...;b=...;m=...;t=...;x=..."):
 * its value and length, or NULL. */
static const char *cursor_field(const char *cur, char key, size_t *len)
{
	for (const char *p = cur; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL) {
		if (p[0] == key && p[1] == '=') {
			*len = strcspn(p + 2, ";");
			return p + 2;
		}
	}
	return NULL;
}

static bool same_series(const char *a, const char *b)
{
	size_t la, lb;
	const char *sa = cursor_field(a, 's', &la), *sb = cursor_field(b, 's', &lb);

	return sa && sb && la == lb && memcmp(sa, sb, la) == 0;
}

static uint64_t cursor_seqnum(const char *cur)
{
	char v[24];
	size_t n;
	const char *p = cursor_field(cur, 'i', &n);

	if (!p || n == 0 || n >= sizeof(v))
		return 0;
	memcpy(v, p, n);
	v[n] = '\0';
	return strtoull(v, NULL, 16);
}

/* Start where cursor_fallback says, the committed cursor being unusable. */
static int position_fallback(struct in_journald *t, const char *cur, const char *why)
{
	t->st.cursor_invalid++;
	log_warn("journald %s: the committed cursor is %s (%.60s); starting at the journal's %s "
		 "(cursor_fallback)",
		 t->id, why, cur, t->conf->cursor_fallback ? "tail" : "head");
	if (!t->conf->cursor_fallback) {
		t->from_head = true;
		return sd_journal_seek_head(t->j);
	}
	return sd_journal_seek_tail(t->j);
}

/* Seek just after the committed cursor.  The entry vacuumed: on the next one
 * of the same series, counting the entries between by sequence number (all
 * units, not only the matched ones: at most that many were lost).  A series
 * no longer present (a foreign or restored data_dir, everything vacuumed):
 * the fallback, since sd-journal would seek by the cursor's wall clock and a
 * clock set back would skip entries. */
static int position_cursor(struct in_journald *t, const char *cur)
{
	char *now = NULL;
	int rc = sd_journal_seek_cursor(t->j, cur);

	if (rc < 0)
		return position_fallback(t, cur, "not valid");
	rc = sd_journal_next(t->j);
	if (rc <= 0 || sd_journal_test_cursor(t->j, cur) > 0) {
		remember_cursor(t, cur);
		return 0;
	}
	if (sd_journal_get_cursor(t->j, &now) < 0 || !same_series(cur, now)) {
		free(now); /* sd-journal allocated it with malloc */
		return position_fallback(t, cur, "of a journal series not present here");
	}
	t->st.cursor_misses++;
	if (cursor_seqnum(now) > cursor_seqnum(cur) + 1) {
		uint64_t lost = cursor_seqnum(now) - cursor_seqnum(cur) - 1;

		t->st.vacuumed += lost;
		log_warn("journald %s: the committed entry is no longer in the journal; %" PRIu64
			 " entries after it were removed before they were read; resuming at the "
			 "closest one",
			 t->id, lost);
	} else {
		log_warn("journald %s: the committed entry is no longer in the journal; "
			 "resuming at the closest one",
			 t->id);
	}
	free(now);
	t->unread = true; /* the closest entry, standing on it, is the next one to read */
	return 0;
}

/* Position the journal: after the committed cursor, at the head, or at the
 * tail.  Returns the cursor to record for a fresh start (or NULL). */
static int position(struct in_journald *t, const struct source_resume *r, char **fresh)
{
	int rc;

	*fresh = NULL;
	if (r && r->meta_len > 0) {
		char *cur = mem_alloc(r->meta_len + 1);

		if (!cur)
			return -ENOMEM;
		memcpy(cur, r->meta, r->meta_len);
		cur[r->meta_len] = '\0';
		t->ordinal = r->ordinal;
		rc = position_cursor(t, cur);
		mem_free(cur);
		return rc;
	}
	t->ordinal = r ? r->ordinal : 0;
	if (t->conf->read_from_head) {
		t->from_head = true;
		return sd_journal_seek_head(t->j);
	}
	rc = sd_journal_seek_tail(t->j);
	if (rc < 0)
		return rc;
	/* Stand on the last entry so the next read is the first new one, and
	 * remember it: a restart before anything new arrives resumes here. */
	if (sd_journal_previous(t->j) > 0 && sd_journal_get_cursor(t->j, fresh) >= 0)
		remember_cursor(t, *fresh);
	else
		t->from_head = true; /* an empty journal: all that comes is new */
	return 0;
}

static int journal_open(struct in_journald *t)
{
	const char *path = t->conf->path;
	const struct source_resume *r;
	struct source_desc d;
	char *fresh = NULL;
	int rc, fd;

	t->at_end = t->unread = t->from_head = false;
	t->last_cur[0] = '\0';
	if (path && *path) {
		struct stat st;

		if (stat(path, &st) != 0) {
			if (!t->warned_missing)
				log_warn(
					"journald %s: journal directory %s: %s; will retry every %d s",
					t->id, path, err_str(-errno), REOPEN_MS / 1000);
			t->warned_missing = true;
			t->st.open_errors++;
			return -ENOENT;
		}
		rc = sd_journal_open_directory(&t->j, path, 0);
	} else {
		rc = sd_journal_open(&t->j, SD_JOURNAL_LOCAL_ONLY);
	}
	if (rc < 0) {
		if (!t->warned_missing)
			log_warn("journald %s: cannot open the journal%s%s: %s; will retry", t->id,
				 path && *path ? " in " : "", path && *path ? path : "",
				 err_str(rc));
		t->warned_missing = true;
		t->st.open_errors++;
		t->j = NULL;
		return rc;
	}
	if (t->warned_missing)
		log_info("journald %s: journal %s is there now", t->id, source_label(t));
	t->warned_missing = false;
	sd_journal_set_data_threshold(t->j, (size_t)t->conf->max_entry_bytes);
	rc = add_matches(t);
	if (rc < 0) {
		log_error("journald %s: bad match: %s", t->id, err_str(rc));
		goto fail;
	}
	r = input_resume_find(t->in, "journal");
	rc = position(t, r, &fresh);
	if (rc < 0) {
		log_error("journald %s: cannot position the journal: %s", t->id, err_str(rc));
		goto fail;
	}
	memset(&d, 0, sizeof(d));
	d.ident = "journal";
	d.name = source_label(t);
	d.ordinal = t->ordinal;
	if (fresh) {
		d.meta = fresh;
		d.meta_len = strlen(fresh);
	} else if (r) {
		d.meta = r->meta;
		d.meta_len = r->meta_len;
	}
	t->src = input_source_open(t->in, &d);
	free(fresh);
	if (!t->src) {
		rc = -ENOMEM;
		goto fail;
	}
	log_info("journald %s: reading %s from entry %" PRIu64 "%s", t->id, source_label(t),
		 t->ordinal, r && r->meta_len ? " (after the committed cursor)" : "");
	fd = sd_journal_get_fd(t->j);
	if (fd >= 0 && evloop_io_start(t->loop, &t->io, fd, EVLOOP_READ, on_journal, t) == 0)
		t->io_on = true;
	return 0;
fail:
	sd_journal_close(t->j);
	t->j = NULL;
	return rc;
}

/* sd-journal skips a file it has read to the end until the file's entry
 * count changes, but a writer counts an entry before it links the entry into
 * the per-field arrays that a unit match walks.  A read that lands between
 * the two misses that entry until the next one is written, which on a quiet
 * journal may be never.  So on each poll that finds the reader at the end,
 * seek back to the last entry read: seeking drops that per-file state.
 * Where that entry is gone (vacuumed), the reader now stands on the first
 * entry after it, which is unread. */
static void resync(struct in_journald *t)
{
	int rc;

	if (t->from_head) {
		sd_journal_seek_head(t->j);
		return;
	}
	if (!t->last_cur[0] || sd_journal_seek_cursor(t->j, t->last_cur) < 0)
		return;
	rc = sd_journal_next(t->j);
	if (rc > 0 && sd_journal_test_cursor(t->j, t->last_cur) <= 0)
		t->unread = true;
}

static void on_poll(struct evloop_timer *tm)
{
	struct in_journald *t = tm->data;

	if (!t->j) {
		if (journal_open(t) < 0)
			return;
		evloop_timer_start(t->loop, &t->poll, POLL_MS, POLL_MS, on_poll, t);
	}
	sd_journal_process(t->j);
	if (t->at_end && !t->paused)
		resync(t);
	pump(t);
}

/* ------------------------------------------------------------ plugin */

static void in_journald_exit(void *ctx)
{
	struct in_journald *t = ctx;

	if (!t)
		return;
	if (t->io_on)
		evloop_io_stop(&t->io);
	if (t->poll.active)
		evloop_timer_stop(&t->poll);
	if (t->pump.active)
		evloop_timer_stop(&t->pump);
	if (t->j)
		sd_journal_close(t->j);
	buf_release(&t->value);
	buf_release(&t->key);
	buf_release(&t->hvals);
	mem_free(t);
}

static int in_journald_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct in_journald *t = mem_calloc(1, sizeof(*t));

	(void)err;
	*ctx = t;
	if (!t)
		return -ENOMEM;
	t->conf = a->conf;
	t->in = a->input;
	t->loop = a->loop;
	t->id = a->id;
	t->host = a->host;
	buf_init(&t->value, t->conf->max_entry_bytes * 4 + 4096);
	buf_init(&t->key, 4096);
	buf_init(&t->hvals, 5 * t->conf->max_entry_bytes + 64);
	return 0;
}

static int in_journald_start(void *ctx)
{
	struct in_journald *t = ctx;

	if (journal_open(t) < 0) {
		/* Not fatal: a journal directory may appear later. */
		evloop_timer_start(t->loop, &t->poll, REOPEN_MS, REOPEN_MS, on_poll, t);
		return 0;
	}
	evloop_timer_start(t->loop, &t->poll, POLL_MS, POLL_MS, on_poll, t);
	evloop_timer_start(t->loop, &t->pump, 0, 0, on_pump, t);
	return 0;
}

static void in_journald_pause(void *ctx)
{
	struct in_journald *t = ctx;

	t->paused = true;
	if (t->pump.active)
		evloop_timer_stop(&t->pump);
}

static void in_journald_resume(void *ctx)
{
	struct in_journald *t = ctx;

	t->paused = false;
	if (t->j && !t->pump.active)
		evloop_timer_start(t->loop, &t->pump, 0, 0, on_pump, t);
}

static size_t in_journald_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct in_journald *t = ctx;
	const struct plugin_metric v[] = {
		{"sluice_agent_journald_entries_total", "counter", "Journal entries read.",
		 t->st.entries, NULL, NULL},
		{"sluice_agent_journald_bytes_total", "counter",
		 "Record value bytes from the journal.", t->st.bytes, NULL, NULL},
		{"sluice_agent_journald_open", "gauge", "1 while the journal is open.",
		 t->j != NULL, NULL, NULL},
		{"sluice_agent_journald_open_errors_total", "counter",
		 "Failed attempts to open the journal (missing directory, permissions).",
		 t->st.open_errors, NULL, NULL},
		{"sluice_agent_journald_read_errors_total", "counter",
		 "Entries or reads that failed (kept as empty records or retried).",
		 t->st.read_errors, NULL, NULL},
		{"sluice_agent_journald_cursor_misses_total", "counter",
		 "Restarts whose committed entry was no longer in the journal.",
		 t->st.cursor_misses, NULL, NULL},
		{"sluice_agent_journald_cursor_invalid_total", "counter",
		 "Restarts whose committed cursor was unusable (cursor_fallback applied).",
		 t->st.cursor_invalid, NULL, NULL},
		{"sluice_agent_journald_vacuumed_entries_total", "counter",
		 "Entries removed from the journal before they were read (by sequence number).",
		 t->st.vacuumed, NULL, NULL},
	};
	return plugin_metrics_copy(m, max, v, sizeof(v) / sizeof(v[0]));
}

const struct plugin in_journald_plugin = {
	.name = "journald",
	.kind = PLUGIN_INPUT,
	.description = "read the systemd journal (sd-journal; cursor kept with the spool)",
	.options = in_journald_opts,
	.conf_size = sizeof(struct in_journald_conf),
	.init = in_journald_init,
	.start = in_journald_start,
	.pause = in_journald_pause,
	.resume = in_journald_resume,
	.metrics = in_journald_metrics,
	.exit = in_journald_exit,
};
