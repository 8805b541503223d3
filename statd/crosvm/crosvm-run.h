/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * crosvm has no QMP: USB is attached by running its CLI against the VM's
 * control socket. This runs one `crosvm usb ...` without blocking the loop:
 * posix_spawn with an argument vector (no shell), the child's signal mask
 * emptied and dispositions reset, stdout and stderr through non-blocking pipes
 * and the exit through a pidfd, all three for the caller's epoll; the
 * caller's timer calls crosvm_child_kill() at the deadline. crosvm_parse()
 * reads what crosvm prints (its UsbControlResult, one line).
 */

#define CROSVM_MAX_PORTS 16	/* crosvm's USB_CONTROL_MAX_PORTS */
#define CROSVM_OUT_MAX 4096	/* output kept per stream; more is read and dropped */

enum crosvm_status {
	CROSVM_OK,				/* "ok PORT" */
	CROSVM_DEVICES,				/* "devices [PORT VVVV PPPP]..." */
	CROSVM_NO_AVAILABLE_PORT,		/* the guest's xHCI is not up yet: retry later */
	CROSVM_NO_SUCH_DEVICE,
	CROSVM_NO_SUCH_PORT,
	CROSVM_FAILED_TO_OPEN_DEVICE,
	CROSVM_FAILED_TO_INIT_HOST_DEVICE,
	CROSVM_ERROR,				/* anything else; the text says what */
};

struct crosvm_usb_device {
	unsigned int port;
	uint16_t vendor_id;
	uint16_t product_id;
};

struct crosvm_result {
	enum crosvm_status status;
	unsigned int port;			/* CROSVM_OK */
	size_t n_devices;			/* CROSVM_DEVICES */
	struct crosvm_usb_device devices[CROSVM_MAX_PORTS];
	char text[256];				/* the line printed, or why it failed */
};

/* Parse crosvm's stdout (its first line). Always fills R; returns 0, or -EBADMSG for CROSVM_ERROR. */
int crosvm_parse(const char *out, struct crosvm_result *r);

/* "ok", "no_available_port", ..., "error": for logs and the history. */
const char *crosvm_status_name(enum crosvm_status s);

/* The port of the first device VID:PID in a CROSVM_DEVICES result, or -ENOENT. */
int crosvm_find_port(const struct crosvm_result *r, uint16_t vid, uint16_t pid);

struct crosvm_child {
	pid_t pid;
	int pidfd;		/* readable once the child has exited; -1 without pidfd_open */
	int out_fd;		/* stdout, stderr read ends (O_NONBLOCK); -1 after EOF */
	int err_fd;
	bool exited;
	bool killed;		/* by crosvm_child_kill: the deadline passed */
	int wstatus;
	size_t out_len, err_len;
	char out[CROSVM_OUT_MAX];
	char err[CROSVM_OUT_MAX];
};

/*
 * Start `BIN usb attach 00:00:00:00 DEVNODE SOCKET`, `BIN usb detach PORT
 * SOCKET` or `BIN usb list SOCKET`. BIN without a slash is looked up in PATH.
 * DEVNODE and SOCKET must be absolute paths (nothing crosvm could take for an
 * option). 0 or -errno; on error nothing is left open.
 */
int crosvm_spawn_attach(struct crosvm_child *c, const char *bin, const char *devnode,
			const char *socket);
int crosvm_spawn_detach(struct crosvm_child *c, const char *bin, unsigned int port,
			const char *socket);
int crosvm_spawn_list(struct crosvm_child *c, const char *bin, const char *socket);

/* Drain FD (c->out_fd or c->err_fd) when epoll says it is readable. 0 at EOF
 * (the fd is closed and set to -1), -EAGAIN when more may come, or -errno. */
int crosvm_child_read(struct crosvm_child *c, int fd);

/* Reap without waiting (pidfd readable). 1 once exited, 0 if still running, or -errno. */
int crosvm_child_reap(struct crosvm_child *c);

/* The deadline passed: SIGKILL it (reap it as usual afterwards). */
int crosvm_child_kill(struct crosvm_child *c);

/* Exited and both streams at EOF: crosvm_child_result() has all there is. */
bool crosvm_child_done(const struct crosvm_child *c);

/*
 * What the finished run means: the parsed stdout when crosvm exited 0;
 * otherwise CROSVM_ERROR with the exit status (or "killed at the deadline")
 * and crosvm's own words ("error ..." on stdout, or its stderr).
 */
void crosvm_child_result(const struct crosvm_child *c, struct crosvm_result *r);

/* Close every fd; a child still running is killed and reaped. */
void crosvm_child_close(struct crosvm_child *c);
