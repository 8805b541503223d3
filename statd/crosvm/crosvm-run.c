/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crosvm-run.h"
#include "device.h"
#include "macro.h"

extern char **environ;


static void child_init(struct crosvm_child *c)
{
	memset(c, 0, sizeof(*c));
	c->pid = -1;
	c->pidfd = c->out_fd = c->err_fd = -1;
}

static int spawn(struct crosvm_child *c, const char *bin, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, r;
	sigset_t none, all;

	child_init(c);
	/* Only our read ends are non-blocking: crosvm writes as to any pipe. */
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    fcntl(out[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(err[0], F_SETFL, O_NONBLOCK) < 0) {
		r = -errno;
		goto fail_pipes;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	/* statd blocks the signals its signalfd reads; crosvm must get them normally. */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	/* dup2 clears O_CLOEXEC on 1 and 2 only; every other fd of ours is O_CLOEXEC. */
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
	r = (strchr(bin, '/') ? posix_spawn : posix_spawnp)(&c->pid, bin, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r != 0) {
		r = -r;
		c->pid = -1;
		goto fail_pipes;
	}
	close(out[1]);
	close(err[1]);
	c->out_fd = out[0];
	c->err_fd = err[0];
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);	/* -1 on old kernels */
	return 0;

fail_pipes:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return r;
}

int crosvm_spawn_attach(struct crosvm_child *c, const char *bin, const char *devnode,
			const char *socket)
{
	char *argv[] = { (char *)bin, "usb", "attach", "00:00:00:00", (char *)devnode,
			 (char *)socket, NULL };

	if (devnode[0] != '/' || socket[0] != '/')
		return -EINVAL;
	return spawn(c, bin, argv);
}

int crosvm_spawn_detach(struct crosvm_child *c, const char *bin, unsigned int port,
			const char *socket)
{
	char p[16];
	char *argv[] = { (char *)bin, "usb", "detach", p, (char *)socket, NULL };

	if (socket[0] != '/' || port > 255)
		return -EINVAL;
	snprintf(p, sizeof(p), "%u", port);
	return spawn(c, bin, argv);
}

int crosvm_spawn_list(struct crosvm_child *c, const char *bin, const char *socket)
{
	char *argv[] = { (char *)bin, "usb", "list", (char *)socket, NULL };

	if (socket[0] != '/')
		return -EINVAL;
	return spawn(c, bin, argv);
}

int crosvm_child_read(struct crosvm_child *c, int fd)
{
	bool is_out = fd == c->out_fd;
	char *buf = is_out ? c->out : c->err;
	size_t *len = is_out ? &c->out_len : &c->err_len;
	char drop[1024];

	if (fd < 0 || (fd != c->out_fd && fd != c->err_fd))
		return -EBADF;
	for (;;) {
		size_t room = CROSVM_OUT_MAX - 1 - *len;
		ssize_t n = room ? read(fd, buf + *len, room) : read(fd, drop, sizeof(drop));

		if (n > 0) {
			if (room)
				*len += (size_t)n;
			buf[*len] = '\0';
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return -EAGAIN;
		close(fd);
		if (is_out)
			c->out_fd = -1;
		else
			c->err_fd = -1;
		return n < 0 ? -errno : 0;
	}
}

int crosvm_child_reap(struct crosvm_child *c)
{
	pid_t p;

	if (c->exited)
		return 1;
	if (c->pid < 0)
		return -ECHILD;
	p = waitpid(c->pid, &c->wstatus, WNOHANG);
	if (p < 0)
		return -errno;
	if (p == 0)
		return 0;
	c->exited = true;
	if (c->pidfd >= 0) {
		close(c->pidfd);
		c->pidfd = -1;
	}
	return 1;
}

int crosvm_child_kill(struct crosvm_child *c)
{
	if (c->exited || c->pid < 0)
		return 0;
	c->killed = true;
	/* Not reaped yet, so the pid is still this child's. */
	return kill(c->pid, SIGKILL) < 0 ? -errno : 0;
}

bool crosvm_child_done(const struct crosvm_child *c)
{
	return c->exited && c->out_fd < 0 && c->err_fd < 0;
}


void crosvm_child_close(struct crosvm_child *c)
{
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	if (c->pid > 0 && !c->exited) {
		kill(c->pid, SIGKILL);
		/* SIGKILL cannot be caught: this wait is short. */
		while (waitpid(c->pid, &c->wstatus, 0) < 0 && errno == EINTR)
			;
		c->exited = true;
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->out_fd = c->err_fd = c->pidfd = -1;
}
