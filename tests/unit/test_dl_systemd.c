/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's own sd_notify() and sd_watchdog_enabled() (agent/dl/
 * dl_systemd.c; linked ahead of libsystemd here): datagrams on a path and an
 * abstract $NOTIFY_SOCKET, no socket = nothing sent, the watchdog variables
 * for this process only, bad values refused, unset_environment honoured.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "tests/unit/unit.h"

static int bind_dgram(const char *name, bool abstract)
{
	struct sockaddr_un sa;
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path + (abstract ? 1 : 0), name, n);
	if (bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char got[256];
	ssize_t n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);

	CU_ASSERT_EQUAL_FATAL(n, (ssize_t)strlen(want));
	got[n] = '\0';
	CU_ASSERT_STRING_EQUAL(got, want);
}

static void test_notify_path_and_abstract(void)
{
	char path[64], env[80];
	int fd;

	snprintf(path, sizeof(path), "/tmp/sluice-notify-%d", (int)getpid());
	unlink(path);
	fd = bind_dgram(path, false);
	CU_ASSERT_FATAL(fd >= 0);
	setenv("NOTIFY_SOCKET", path, 1);
	CU_ASSERT_EQUAL(sd_notify(0, "READY=1"), 1);
	expect_datagram(fd, "READY=1");
	CU_ASSERT_EQUAL(sd_notify(1, "STOPPING=1"), 1); /* and unsets it */
	expect_datagram(fd, "STOPPING=1");
	CU_ASSERT_PTR_NULL(getenv("NOTIFY_SOCKET"));
	CU_ASSERT_EQUAL(sd_notify(0, "WATCHDOG=1"), 0); /* no socket: nothing */
	close(fd);
	unlink(path);

	snprintf(path, sizeof(path), "sluice-notify-abstract-%d", (int)getpid());
	fd = bind_dgram(path, true);
	CU_ASSERT_FATAL(fd >= 0);
	snprintf(env, sizeof(env), "@%s", path);
	setenv("NOTIFY_SOCKET", env, 1);
	CU_ASSERT_EQUAL(sd_notify(0, "RELOADING=1"), 1);
	expect_datagram(fd, "RELOADING=1");
	close(fd);

	setenv("NOTIFY_SOCKET", "/nonexistent/dir/socket", 1);
	CU_ASSERT(sd_notify(0, "READY=1") < 0);
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	CU_ASSERT_EQUAL(sd_notify(0, "READY=1"), -EAFNOSUPPORT);
	unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog(void)
{
	char pid[32];
	uint64_t usec = 0;

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	CU_ASSERT_EQUAL(sd_watchdog_enabled(0, &usec), 0);
	setenv("WATCHDOG_USEC", "5000000", 1);
	CU_ASSERT_EQUAL(sd_watchdog_enabled(0, &usec), 1);
	CU_ASSERT_EQUAL(usec, 5000000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	usec = 0;
	CU_ASSERT_EQUAL(sd_watchdog_enabled(0, &usec), 1);
	CU_ASSERT_EQUAL(usec, 5000000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	CU_ASSERT_EQUAL(sd_watchdog_enabled(0, &usec), 0); /* another process's */
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "12abc", 1);
	CU_ASSERT_EQUAL(sd_watchdog_enabled(0, &usec), -EINVAL);
	setenv("WATCHDOG_USEC", "0", 1);
	CU_ASSERT_EQUAL(sd_watchdog_enabled(0, &usec), -EINVAL);
	setenv("WATCHDOG_USEC", "1000", 1);
	CU_ASSERT_EQUAL(sd_watchdog_enabled(1, &usec), 1);
	CU_ASSERT_PTR_NULL(getenv("WATCHDOG_USEC"));
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_notify_path_and_abstract),
		UNIT_TEST(test_watchdog),
		UNIT_END,
	};

	return unit_run("dl_systemd", tests);
}
