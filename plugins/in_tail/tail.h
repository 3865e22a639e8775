/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal structures of the tail input, shared by its files:
 *   in_tail.c    plugin table, options, lifecycle, inotify and timers
 *   tail_scan.c  glob scanning, rotation detection, recovery after restart
 *   tail_file.c  reading, line splitting, multi-line events, long lines,
 *                truncation, fingerprints and position meta
 *
 * A tailed file is one source of the pipeline.  Its ordinal is the byte
 * offset just past the last event handed on, so resuming after a restart
 * is a seek.  Its identity is device + inode, confirmed by its birth time
 * (statx, where the file system records one) and a CRC-32C fingerprint of
 * its first bytes (up to TAIL_FP_MAX), so a recycled inode is not mistaken
 * for the file that had it, even with the same first bytes or none; its
 * ident also carries a unique suffix chosen when the agent first saw it, so
 * a new file on a recycled inode, or the same file after copytruncate, is a
 * new source.  Paths only find files: the path kept is the file's real one
 * (symlinks resolved), and the name it was found at is the record key.
 *
 * Everything runs on the agent's loop thread.
 */
#ifndef SLUICE_PLUGINS_IN_TAIL_TAIL_H
#define SLUICE_PLUGINS_IN_TAIL_TAIL_H

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "lib/hmap.h"
#include "agent/plugin.h"
#include "lib/buf.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "plugins/in_tail/tail_cri.h"
#include "plugins/in_tail/tail_start.h"

#define TAIL_FP_MAX 1024
#define TAIL_META_VERSION 2 /* 1: the same without the birth time */

enum long_lines { LONG_SPLIT = 0, LONG_TRUNCATE = 1, LONG_SKIP = 2 };
/* FORMAT_CRI and FORMAT_DOCKER are the container formats: the same pieces,
 * stream, time and kubelet-name headers, from two line syntaxes. */
enum tail_format { FORMAT_NONE = 0, FORMAT_CRI = 1, FORMAT_DOCKER = 2 };

struct in_tail_conf {
	struct cfg_list paths;
	struct cfg_list exclude;
	int64_t refresh_interval; /* ms */
	bool read_from_head;
	int64_t ignore_older; /* ms, 0 = off */
	struct {
		char *start;
		int64_t flush_ms;
	} multiline;
	uint64_t max_line_bytes;
	int long_lines;
	uint64_t read_chunk;
	int64_t rotate_wait;   /* ms */
	int64_t poll_interval; /* ms */
	bool inotify;
	int format;             /* enum tail_format */
	int64_t close_inactive; /* ms: a file read to its end is closed after this long idle; 0: never */
};

/* What a file's position meta says (decoded). */
struct tail_meta {
	uint64_t dev;
	uint64_t ino;
	uint32_t fp_len;
	uint32_t fp;
	uint64_t btime;   /* ns since the epoch, 0: unknown */
	const char *path; /* where the file is now */
	size_t path_len;
	const char *name; /* where it was found: the record key's path */
	size_t name_len;
};

struct tail_file {
	struct hmap_node by_ino;
	struct hmap_node by_wd;
	struct tail_file *next;  /* all files */
	struct tail_file *rnext; /* ready list */
	struct tail_file *lprev; /* open files, least recently active first */
	struct tail_file *lnext;
	struct tail_file *wnext; /* closed files waiting for a descriptor */
	struct in_tail *t;
	struct source *src;
	char *name; /* path it was found at (key) */
	char *path; /* current path */
	char *was;  /* moved: the path it had, the base of its generations */
	int fd;     /* -1: closed while idle (identity and position kept) */
	uint64_t dev;
	uint64_t ino;
	uint32_t fp;
	uint32_t fp_len;
	uint64_t btime;    /* birth time, ns; 0: the file system has none */
	uint64_t off;      /* next byte to read */
	uint64_t size;     /* size at the last look */
	uint64_t read_end; /* end of the bytes the last read returned */
	int wd;            /* inotify watch, -1 when polled */
	bool ready;
	bool rotated;          /* its path now names another file (or none) */
	bool moved;            /* rotated: where it went not looked at yet */
	bool discarding;       /* skipping the rest of a long line */
	bool eof;              /* the last read found nothing new */
	bool seen;             /* scan mark */
	bool waiting;          /* closed, on the wait list for a descriptor */
	uint64_t changed_ms;   /* last growth (rotate_wait) */
	uint64_t active_ms;    /* last open or read that returned bytes (close_inactive) */
	struct timespec mtime; /* closed: the modification time when it was closed */
	/* multi-line: the pending event is either borrowed from the read buffer
	 * (its lines are contiguous there; no copy) or owned in event */
	struct buf event;
	const uint8_t *ev_ptr;
	size_t ev_len;
	bool ev_borrowed;
	uint64_t event_end;
	int64_t ev_ts;       /* wall ms its first line was read */
	uint64_t ev_read_ms; /* evloop ms of the same */
	bool event_open;
	struct evloop_timer mflush;
	/* format: cri */
	int64_t line_ts; /* the time of the line being handed on */
	int line_stream;
	int ev_stream;      /* of the pending multi-line event */
	struct buf part[2]; /* P pieces waiting for their F (one stream at a time) */
	bool part_open[2];
	struct tail_k8s *k8s; /* from the name, NULL when it is not kubelet's */
};

/* A file read to its end and let go; kept while it exists so a scan does
 * not read it again. */
struct tail_tomb {
	struct tail_tomb *next;
	char *ident;
	char *path;
	uint64_t dev;
	uint64_t ino;
	uint32_t fp;
	uint32_t fp_len;
	uint64_t btime;
	bool seen;
};

/* A name whose file rotated, and the newest file known there since: when a
 * new file appears at the name, the files rotated from it after that one and
 * before the new one, which no scan saw at the name, are its generations. */
struct tail_name {
	struct hmap_node node;
	uint64_t ino;
	uint64_t btime;
	struct timespec mtime;
	int misses; /* scans in a row that found nothing at the name */
	char name[];
};

/* A name a recovered source was found at (by hash: 50,000 of them). */
struct tail_known {
	struct hmap_node node;
	struct tail_known *next;
	char name[];
};

struct tail_dir {
	int wd;
	char *path;
};

struct in_tail_stats {
	uint64_t rotations;
	uint64_t truncations;
	uint64_t truncated_lost; /* bytes: size last seen minus position reached */
	uint64_t generations;    /* rotated files found unseen beside a rotated one */
	uint64_t long_split;
	uint64_t long_truncated;
	uint64_t long_skipped;
	uint64_t read_bytes;
	uint64_t lost_sources;
	uint64_t multiline_events;
	uint64_t scans;
	uint64_t ignored_older;
	uint64_t open_errors;
	uint64_t deferred;        /* files left unopened at the last scan: fd limit */
	uint64_t watch_limited;   /* watches refused with ENOSPC */
	uint64_t cri_joined;      /* lines joined from P pieces */
	uint64_t cri_interleaved; /* lines split: the other stream came between pieces */
	uint64_t cri_invalid;     /* lines not in the CRI/docker format (kept as they are) */
	uint64_t closes_inactive; /* descriptors closed: idle for close_inactive */
	uint64_t closes_pressure; /* descriptors closed early: descriptors ran short */
	uint64_t reopens;         /* closed files opened again (they changed) */
	uint64_t fd_pressure;     /* opens refused: EMFILE/ENFILE or the descriptor budget */
	uint64_t closed_gone;     /* closed files found deleted (or replaced) when reopened */
};

/* Paths a scan could not open for want of descriptors, opened as closes
 * free them, in order; initial: found by the first scan (start rules). */
struct tail_pend {
	char *path;
	bool initial;
};

struct in_tail {
	const struct in_tail_conf *conf;
	struct input *in;
	struct evloop *loop;
	const char *id;
	bool reload;
	bool started;
	bool paused;
	bool first_scan_done;
	bool watch_limit_said; /* the watch-limit warning is given once */
	bool multiline;
	uint64_t scan_deferred;  /* files the current scan could not open (fd limit) */
	struct tail_start start; /* multiline.start */
	int ifd;                 /* inotify, -1 when unavailable */
	struct evloop_io iio;
	struct hmap files_by_ino;
	struct hmap files_by_wd;
	struct tail_file *files;
	size_t nfiles;
	size_t npolled;
	struct tail_file *rhead;
	struct tail_file *rtail;
	struct tail_file *lhead; /* open files, LRU */
	struct tail_file *ltail;
	size_t nopen;
	struct tail_file *whead; /* closed files waiting for a descriptor */
	struct tail_file *wtail;
	size_t nwait;
	struct tail_pend *pend; /* ring of paths waiting for a descriptor */
	size_t pend_head;
	size_t npend;
	size_t pend_cap;
	bool pend_frozen; /* a scan began with paths waiting: it queues no more */
	struct tail_tomb *tombs;
	struct tail_dir *dirs; /* watched directories */
	size_t ndirs;
	struct hmap known_names; /* names of sources recovered at start-up */
	struct hmap rot_names;   /* struct tail_name */
	struct tail_known *known_list;
	uint8_t *rbuf;
	struct buf docker; /* format: docker: the decoded log of the line at hand */
	size_t rbuf_size;
	uint64_t next_unique;
	int64_t now_wall; /* cached per read */
	struct evloop_timer pump_timer;
	struct evloop_timer scan_timer;  /* refresh_interval */
	struct evloop_timer rescan_soon; /* debounced directory events */
	struct evloop_timer poll_timer;  /* polled files, rotated files */
	struct in_tail_stats st;
	struct log_ratelimit rl;
};

/* tail_file.c */
void tail_file_read(struct in_tail *t, struct tail_file *f, bool *more);
void tail_file_flush_event(struct in_tail *t, struct tail_file *f);
/* Hand on an unfinished last line of a file that will not grow again. */
void tail_file_final(struct in_tail *t, struct tail_file *f);
int tail_fingerprint(int fd, uint64_t size, uint32_t *fp, uint32_t *fp_len);
/* Birth time of the open file in ns, 0 when the file system keeps none. */
uint64_t tail_btime(int fd);
/* The real path of the open file (symlinks resolved): 0, or -1 when it has
 * none (deleted) or it does not fit. */
int tail_fd_path(int fd, char *out, size_t cap);
int tail_meta_encode(const struct tail_file *f, struct buf *out);
int tail_meta_decode(const uint8_t *p, size_t n, struct tail_meta *m);
int tail_file_update_meta(struct in_tail *t, struct tail_file *f);
uint64_t tail_start_offset(int fd, uint64_t size);
/* format: cri, a file that will not grow again: its waiting pieces go out. */
void tail_cri_final(struct in_tail *t, struct tail_file *f, uint64_t end);

/* tail_scan.c */
void tail_scan(struct in_tail *t);
/* Follow path if it is new (initial: found by the first scan; queued: it
 * comes from the wait queue): 1 opened, 0 nothing to do, -EMFILE queued
 * for want of a descriptor. */
int tail_consider(struct in_tail *t, const char *path, bool initial, bool queued);
/* Is the open file fd (stat st) the one with these (dev, inode, birth
 * time, first bytes)? */
bool tail_same_file(int fd, const struct stat *st, uint64_t dev, uint64_t ino, uint64_t btime,
		    uint32_t fp, uint32_t fp_len);
/* Open the entry of dir that is f (renamed): fd, and its path in found. */
int tail_find_renamed(const struct tail_file *f, struct stat *st, char *found, size_t cap);
int tail_recover(struct in_tail *t);
void tail_check_rotated(struct in_tail *t);
struct tail_file *tail_find(struct in_tail *t, uint64_t dev, uint64_t ino);

/* tail_idle.c: closing idle files, reopening them, descriptor pressure */
/* open(path) read-only within the descriptor budget, closing the least
 * recently active idle file when descriptors run short: fd, or -EMFILE when
 * none can be freed, or -errno. */
int tail_open(struct in_tail *t, const char *path);
void tail_lru_touch(struct in_tail *t, struct tail_file *f);
void tail_lru_remove(struct in_tail *t, struct tail_file *f);
bool tail_closable(const struct in_tail *t, const struct tail_file *f, bool pressure);
void tail_file_close(struct in_tail *t, struct tail_file *f, bool pressure);
/* A closed file changed: 0 when open again (at its position), -EMFILE when
 * it waits for a descriptor, -ENOENT when it was gone (finished, released:
 * f is freed). */
int tail_file_reopen(struct in_tail *t, struct tail_file *f);
/* f was just read to its end: closed at once when others wait for a
 * descriptor, which then goes to the first of them. */
void tail_idle_drained(struct in_tail *t, struct tail_file *f);
void tail_idle_tick(struct in_tail *t, uint64_t now);
/* Past the descriptor budget with fd open (the number is the count)? */
bool tail_fd_short(int fd);
/* Close f, just added, at once and queue it for a descriptor (a restart
 * resuming more files than the budget holds). */
void tail_file_park(struct in_tail *t, struct tail_file *f);
int tail_pend_push(struct in_tail *t, const char *path, bool initial);
void tail_wait_remove(struct in_tail *t, struct tail_file *f);
/* Has the closed file f changed since it was closed (stat of its path)? */
bool tail_closed_changed(const struct tail_file *f, const struct stat *st);
void tail_idle_release(struct in_tail *t);

/* in_tail.c */
struct tail_file *tail_file_add(struct in_tail *t, const char *path, const char *name, int fd,
				const struct stat *st, uint64_t off, const char *ident);
void tail_file_release(struct in_tail *t, struct tail_file *f, bool finish);
void tail_name_note(struct in_tail *t, const struct tail_file *f);
void tail_names_release(struct in_tail *t);
void tail_mark_ready(struct in_tail *t, struct tail_file *f);
void tail_truncated(struct in_tail *t, struct tail_file *f, uint64_t size);
void tail_rescan_soon(struct in_tail *t);
void tail_watch_dir(struct in_tail *t, const char *dir);
void tail_watch_limit(struct in_tail *t);

#endif
