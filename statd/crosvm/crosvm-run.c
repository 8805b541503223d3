/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
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

static const char *const status_names[] = {
	[CROSVM_OK] = "ok",
	[CROSVM_DEVICES] = "devices",
	[CROSVM_NO_AVAILABLE_PORT] = "no_available_port",
	[CROSVM_NO_SUCH_DEVICE] = "no_such_device",
	[CROSVM_NO_SUCH_PORT] = "no_such_port",
	[CROSVM_FAILED_TO_OPEN_DEVICE] = "failed_to_open_device",
	[CROSVM_FAILED_TO_INIT_HOST_DEVICE] = "failed_to_init_host_device",
	[CROSVM_ERROR] = "error",
};

const char *crosvm_status_name(enum crosvm_status s)
{
	return (unsigned int)s < ARRAY_SIZE(status_names) ? status_names[s] : "error";
}

/*
 * The first line of SRC into DST, trailing blanks cut, escaped as device
 * strings are: crosvm's words reach the log and device_history, and a
 * control byte (ESC, OSC), bidi override or ill-formed UTF-8 must not.
 */
static void first_line(char *dst, size_t size, const char *src)
{
	_cleanup_free_ char *line = NULL, *esc = NULL;
	size_t n;

	while (*src == '\n')
		src++;
	n = strcspn(src, "\n");
	while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\r' || src[n - 1] == '\t'))
		n--;
	line = strndup(src, n);
	esc = line ? device_escape(line) : NULL;
	n = esc ? strlen(esc) : 0;
	/* Cut at a character's first byte: what is left stays valid UTF-8. */
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)esc[n] & 0xc0) == 0x80)
			n--;
	}
	if (n)
		memcpy(dst, esc, n);
	dst[n] = '\0';
}

/* A decimal port crosvm prints (a u8), ending at a space or the end. */
static const char *parse_port(const char *s, unsigned int *port)
{
	unsigned int v = 0;
	const char *p = s;

	while (isdigit((unsigned char)*p) && p - s < 3)
		v = v * 10 + (unsigned int)(*p++ - '0');
	if (p == s || v > 255 || (*p && *p != ' '))
		return NULL;
	*port = v;
	return p;
}

static const char *parse_hex4(const char *s, uint16_t *v)
{
	unsigned int x = 0;

	for (int i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return NULL;
		x = x << 4 | (unsigned int)(isdigit((unsigned char)s[i]) ? s[i] - '0' :
					     tolower((unsigned char)s[i]) - 'a' + 10);
	}
	if (s[4] && s[4] != ' ')
		return NULL;
	*v = (uint16_t)x;
	return s + 4;
}

static int parse_devices(const char *p, struct crosvm_result *r)
{
	while (*p == ' ') {
		struct crosvm_usb_device *d;

		if (r->n_devices == CROSVM_MAX_PORTS)
			return -EBADMSG;
		d = &r->devices[r->n_devices];
		p = parse_port(p + 1, &d->port);
		if (!p || *p != ' ' || !(p = parse_hex4(p + 1, &d->vendor_id)) || *p != ' ' ||
		    !(p = parse_hex4(p + 1, &d->product_id)))
			return -EBADMSG;
		r->n_devices++;
	}
	return *p ? -EBADMSG : 0;
}

int crosvm_parse(const char *out, struct crosvm_result *r)
{
	const char *line = r->text;

	memset(r, 0, sizeof(*r));
	first_line(r->text, sizeof(r->text), out ? out : "");
	for (size_t i = CROSVM_NO_AVAILABLE_PORT; i < CROSVM_ERROR; i++) {
		if (streq(line, status_names[i])) {
			r->status = (enum crosvm_status)i;
			return 0;
		}
	}
	if (strncmp(line, "ok ", 3) == 0) {
		const char *end = parse_port(line + 3, &r->port);

		if (end && !*end) {
			r->status = CROSVM_OK;
			return 0;
		}
	} else if (strncmp(line, "devices", 7) == 0 && (!line[7] || line[7] == ' ')) {
		if (parse_devices(line + 7, r) == 0) {
			r->status = CROSVM_DEVICES;
			return 0;
		}
		r->n_devices = 0;
	}
	r->status = CROSVM_ERROR;
	if (!line[0])
		snprintf(r->text, sizeof(r->text), "no output");
	return -EBADMSG;
}

int crosvm_find_port(const struct crosvm_result *r, uint16_t vid, uint16_t pid)
{
	if (r->status != CROSVM_DEVICES)
		return -ENOENT;
	for (size_t i = 0; i < r->n_devices; i++)
		if (r->devices[i].vendor_id == vid && r->devices[i].product_id == pid)
			return (int)r->devices[i].port;
	return -ENOENT;
}

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

/* The last non-empty line of stderr: where a program puts its reason. */
static void last_line(char *dst, size_t size, const char *s)
{
	const char *end = s + strlen(s), *start;

	while (end > s && end[-1] == '\n')
		end--;
	start = end;
	while (start > s && start[-1] != '\n')
		start--;
	first_line(dst, size, start);
}

void crosvm_child_result(const struct crosvm_child *c, struct crosvm_result *r)
{
	char why[200] = "";
	const char *o = c->out;

	if (c->exited && !c->killed && WIFEXITED(c->wstatus) && WEXITSTATUS(c->wstatus) == 0) {
		crosvm_parse(c->out, r);
		return;
	}
	memset(r, 0, sizeof(*r));
	r->status = CROSVM_ERROR;
	while (*o == '\n')
		o++;
	if (strncmp(o, "error ", 6) == 0)
		first_line(why, sizeof(why), o + 6);
	else
		last_line(why, sizeof(why), c->err);
	if (c->killed)
		snprintf(r->text, sizeof(r->text), "killed at the deadline");
	else if (!c->exited)
		snprintf(r->text, sizeof(r->text), "still running");
	else if (WIFSIGNALED(c->wstatus))
		snprintf(r->text, sizeof(r->text), "killed by signal %d%s%s", WTERMSIG(c->wstatus),
			 why[0] ? ": " : "", why);
	else
		snprintf(r->text, sizeof(r->text), "exit status %d%s%s", WEXITSTATUS(c->wstatus),
			 why[0] ? ": " : "", why);
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
