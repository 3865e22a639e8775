/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libsystemd on first use (see dl.h): the journald input.
 *
 * sd_notify() and sd_watchdog_enabled(), which every agent calls when systemd
 * runs it, are written out here instead (the documented protocol: one
 * datagram to $NOTIFY_SOCKET, the watchdog interval in $WATCHDOG_USEC for
 * $WATCHDOG_PID), so an agent without a journald input never maps libsystemd.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "agent/dl/dl.h"

int sd_notify(int unset_environment, const char *state)
{
	const char *e = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t n, len;
	int fd, rc = 1;

	if (!e || !*e)
		return 0;
	n = strlen(e);
	if ((e[0] != '/' && e[0] != '@') || n >= sizeof(sa.sun_path)) {
		rc = -EAFNOSUPPORT;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, e, n);
	if (e[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	len = offsetof(struct sockaddr_un, sun_path) + n + (e[0] == '/' ? 1 : 0);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, (socklen_t)len) <
	    0)
		rc = -errno;
	close(fd);
out:
	if (unset_environment)
		unsetenv("NOTIFY_SOCKET");
	return rc;
}

int sd_watchdog_enabled(int unset_environment, uint64_t *usec)
{
	const char *s = getenv("WATCHDOG_USEC"), *p = getenv("WATCHDOG_PID");
	unsigned long long u, pid;
	char *end;
	int rc = 0;

	if (!s)
		goto out;
	errno = 0;
	u = strtoull(s, &end, 10);
	if (errno || end == s || *end || u == 0) {
		rc = -EINVAL;
		goto out;
	}
	if (p) {
		errno = 0;
		pid = strtoull(p, &end, 10);
		if (errno || end == p || *end || pid == 0) {
			rc = -EINVAL;
			goto out;
		}
		if (pid != (unsigned long long)getpid())
			goto out; /* meant for another process */
	}
	if (usec)
		*usec = (uint64_t)u;
	rc = 1;
out:
	if (unset_environment) {
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
	}
	return rc;
}

/* clang-format off */
#define FNS(X)                                                                          \
	X(sd_journal_open) X(sd_journal_open_directory) X(sd_journal_close)                  \
	X(sd_journal_previous) X(sd_journal_next) X(sd_journal_get_realtime_usec)            \
	X(sd_journal_set_data_threshold) X(sd_journal_get_data) X(sd_journal_enumerate_data) \
	X(sd_journal_restart_data) X(sd_journal_add_match) X(sd_journal_seek_head)           \
	X(sd_journal_seek_tail) X(sd_journal_seek_cursor) X(sd_journal_get_cursor)           \
	X(sd_journal_test_cursor) X(sd_journal_get_fd) X(sd_journal_process)
/* clang-format on */

enum { FNS(DL_ENUM) DL_N };
static const char *const names[] = {FNS(DL_NAME)};
static void *fns[DL_N];
static struct dl_lib lib = {
	.soname = "libsystemd.so.0",
	.used_by = "the journald input",
	.names = names,
	.fns = fns,
	.n = DL_N,
};

#define F(name) DL_FN(fns, name)
/* What libsystemd returns for "cannot": a negative errno. */
#define FAIL (-ENOSYS)

int sd_journal_open(sd_journal **ret, int flags)
{
	return dl_load(&lib) ? F(sd_journal_open)(ret, flags) : FAIL;
}

int sd_journal_open_directory(sd_journal **ret, const char *path, int flags)
{
	return dl_load(&lib) ? F(sd_journal_open_directory)(ret, path, flags) : FAIL;
}

void sd_journal_close(sd_journal *j)
{
	if (dl_load(&lib))
		F(sd_journal_close)(j);
}

int sd_journal_previous(sd_journal *j)
{
	return dl_load(&lib) ? F(sd_journal_previous)(j) : FAIL;
}

int sd_journal_next(sd_journal *j)
{
	return dl_load(&lib) ? F(sd_journal_next)(j) : FAIL;
}

int sd_journal_get_realtime_usec(sd_journal *j, uint64_t *ret)
{
	return dl_load(&lib) ? F(sd_journal_get_realtime_usec)(j, ret) : FAIL;
}

int sd_journal_set_data_threshold(sd_journal *j, size_t sz)
{
	return dl_load(&lib) ? F(sd_journal_set_data_threshold)(j, sz) : FAIL;
}

int sd_journal_get_data(sd_journal *j, const char *field, const void **data, size_t *l)
{
	return dl_load(&lib) ? F(sd_journal_get_data)(j, field, data, l) : FAIL;
}

int sd_journal_enumerate_data(sd_journal *j, const void **data, size_t *l)
{
	return dl_load(&lib) ? F(sd_journal_enumerate_data)(j, data, l) : FAIL;
}

void sd_journal_restart_data(sd_journal *j)
{
	if (dl_load(&lib))
		F(sd_journal_restart_data)(j);
}

int sd_journal_add_match(sd_journal *j, const void *data, size_t size)
{
	return dl_load(&lib) ? F(sd_journal_add_match)(j, data, size) : FAIL;
}

int sd_journal_seek_head(sd_journal *j)
{
	return dl_load(&lib) ? F(sd_journal_seek_head)(j) : FAIL;
}

int sd_journal_seek_tail(sd_journal *j)
{
	return dl_load(&lib) ? F(sd_journal_seek_tail)(j) : FAIL;
}

int sd_journal_seek_cursor(sd_journal *j, const char *cursor)
{
	return dl_load(&lib) ? F(sd_journal_seek_cursor)(j, cursor) : FAIL;
}

int sd_journal_get_cursor(sd_journal *j, char **cursor)
{
	return dl_load(&lib) ? F(sd_journal_get_cursor)(j, cursor) : FAIL;
}

int sd_journal_test_cursor(sd_journal *j, const char *cursor)
{
	return dl_load(&lib) ? F(sd_journal_test_cursor)(j, cursor) : FAIL;
}

int sd_journal_get_fd(sd_journal *j)
{
	return dl_load(&lib) ? F(sd_journal_get_fd)(j) : FAIL;
}

int sd_journal_process(sd_journal *j)
{
	return dl_load(&lib) ? F(sd_journal_process)(j) : FAIL;
}
