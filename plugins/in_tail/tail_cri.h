/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes container logs, as the kubelet's CRI runtimes (containerd,
 * CRI-O) write them: one line per piece,
 *
 *     <RFC 3339 time> <stdout|stderr> <P|F> <log bytes>
 *
 * P marks a piece of a longer line that continues in the next P/F line of
 * the same stream; F ends it.  And the names kubelet gives those files:
 * /var/log/containers/<pod>_<namespace>_<container>-<container id>.log.
 *
 * And Docker's json-file driver (also what dockershim nodes link from
 * /var/log/containers): one JSON object per line,
 *
 *     {"log":"<escaped text, with its \n>","stream":"stdout","time":"<RFC 3339>"}
 *
 * where a line longer than 16 KiB is split into several objects, all but
 * the last without the trailing \n in "log".  Both map onto the same pieces:
 * a log without its newline is partial.
 *
 * Pure functions over borrowed bytes (untrusted: whatever is in the file);
 * no allocation but the caller's scratch buffer.  fuzz_tail_cri covers them.
 */
#ifndef SLUICE_PLUGINS_IN_TAIL_TAIL_CRI_H
#define SLUICE_PLUGINS_IN_TAIL_TAIL_CRI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

enum { CRI_STDOUT = 0, CRI_STDERR = 1 };

struct tail_cri_line {
	int64_t ts;         /* ms since the epoch */
	int stream;         /* CRI_STDOUT or CRI_STDERR */
	bool partial;       /* P: continued by the next piece */
	const uint8_t *log; /* borrowed */
	size_t log_len;
};

/* Parse one line (without its newline): 0, or -ERR_CORRUPT when it is not
 * in the CRI format. */
int tail_cri_parse(const uint8_t *p, size_t n, struct tail_cri_line *out);

/* Parse one json-file line (without its newline): 0 with out->log in
 * scratch (decoded from its JSON escapes, the trailing newline removed: a
 * log without one is partial), or -ERR_CORRUPT when it is not such a line
 * (not one JSON object of string members with "log", "stream" and "time";
 * other members, such as "attrs", are skipped); -ENOMEM. */
int tail_docker_parse(const uint8_t *p, size_t n, struct buf *scratch, struct tail_cri_line *out);

/* What the kubelet's file name says (NUL-terminated copies). */
struct tail_k8s {
	char pod[254];
	char ns[64];
	char container[64];
	char id[72];
};

/* Parse the base name of path, <pod>_<namespace>_<container>-<id>.log:
 * 0, or -ERR_INVALID when it is not such a name. */
int tail_k8s_name(const char *path, struct tail_k8s *k);

#endif
