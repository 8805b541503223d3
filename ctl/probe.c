/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who is there: statd and each VM's socket. A non-blocking connect to a
 * unix socket answers at once (accepted, refused, or backlog full), so a
 * hung VM or statd never hangs vhotplugctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

/* 0 when a SOCK_TYPE socket at PATH accepts a connection, else -errno. */
static int probe_connect(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		r = -errno;
	close(fd);
	return r;
}

/* The pid statd wrote into its lock file (statd/daemon.c), if that process lives. */
static long statd_pid(const struct paths *paths)
{
	_cleanup_free_ char *path = NULL;
	char buf[32] = "", proc[64];
	long pid;
	FILE *f;

	if (asprintf(&path, "%s/statd.lock", paths->rundir) < 0)
		return 0;
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	pid = strtol(buf, NULL, 10);
	snprintf(proc, sizeof(proc), "/proc/%ld", pid);
	return pid > 0 && access(proc, F_OK) == 0 ? pid : 0;
}

bool ctl_statd_running(const struct paths *paths, long *pid)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool running = paths_wake_socket(paths, path, sizeof(path)) == 0 &&
		       probe_connect(path, SOCK_DGRAM) == 0;

	*pid = running ? statd_pid(paths) : 0;
	return running;
}

int ctl_vm_reachable(const struct vm *vm, char *why, size_t size)
{
	/* crosvm's control socket is SEQPACKET, QEMU's QMP a stream. */
	int r = probe_connect(vm->socket, vm->type == VM_CROSVM ? SOCK_SEQPACKET : SOCK_STREAM);

	if (r == 0)
		return 1;
	snprintf(why, size, "%s", r == -ENOENT ? "no socket" : r == -EAGAIN ?
		 "its socket is not accepting connections" : strerror(-r));
	return 0;
}
