/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

struct json_object;
struct qmp;

/*
 * A non-blocking QMP client for one VM, driven by the caller's epoll loop:
 * nothing in here ever blocks or sleeps. Commands may be queued right after
 * qmp_open(); they are sent once the greeting and qmp_capabilities are done.
 *
 * A reply callback runs exactly once per command: with RET set (the "return"
 * member, borrowed) on success; with ERR set (QEMU's "desc" text, or ours for
 * a local failure) and ERRNO_ < 0 otherwise (-EIO: QEMU's error reply,
 * -ETIMEDOUT, -ECONNRESET, -EPROTO, -EMSGSIZE, -ECANCELED on qmp_close()).
 * ERR is only valid during the callback. Callbacks (reply and event) may call
 * qmp_command() but must not call qmp_close() or qmp_dispatch() on Q.
 */
typedef void (*qmp_reply_fn)(struct qmp *q, void *userdata, struct json_object *ret, int errno_,
			     const char *err);
/* Asynchronous event ("DEVICE_DELETED", ...); DATA borrowed, may be NULL. */
typedef void (*qmp_event_fn)(struct qmp *q, void *userdata, const char *event, struct json_object *data);

struct qmp_options {
	int timeout_ms;		/* connect, greeting and each reply; default 5000 */
	size_t max_reply;	/* bytes of one JSON message; default 1 MiB */
	qmp_event_fn on_event;
	void *event_userdata;
	const char *name;	/* for log messages when PATH says little (/proc/self/fd/N) */
};

/* Start a non-blocking connect to the unix socket PATH. */
int qmp_open(const char *path, const struct qmp_options *opts, struct qmp **out);
/* Fails every pending command with -ECANCELED, closes the socket, frees. */
void qmp_close(struct qmp *q);

int qmp_fd(const struct qmp *q);
/* EPOLLIN/EPOLLOUT bits the connection needs now (to pass to EPOLL_CTL_MOD). */
uint32_t qmp_wanted_events(const struct qmp *q);
/*
 * Handle readiness REVENTS. Returns 0, or -errno when the connection is
 * dead (every pending command has then been failed): the caller qmp_close()s it.
 */
int qmp_dispatch(struct qmp *q, uint32_t revents);

/* Monotonic deadline (CLOCK_MONOTONIC, ms) of the oldest outstanding wait, or -1. */
int64_t qmp_deadline_ms(const struct qmp *q);
/* Call when NOW_MS >= deadline: fails the connection with -ETIMEDOUT. Returns as qmp_dispatch. */
int qmp_check_timeout(struct qmp *q, int64_t now_ms);

/*
 * Queue EXECUTE with ARGS (ownership taken, also on failure; may be NULL).
 * Does no I/O: the caller re-reads qmp_wanted_events(). On failure (-ENOMEM,
 * or the error that killed the connection) CB is never called.
 */
int qmp_command(struct qmp *q, const char *execute, struct json_object *args, qmp_reply_fn cb,
		void *userdata);
/*
 * CB once the connection is ready and every command queued before has been
 * answered, with RET NULL and ERRNO_ 0 (at once, from inside, when that is
 * so already); failed like a command otherwise. Nothing is sent: for what
 * must not happen before the peer can be asked. Same returns as qmp_command().
 */
int qmp_when_ready(struct qmp *q, qmp_reply_fn cb, void *userdata);
/*
 * Write what can be written now (a command just queued on a ready
 * connection) instead of at the next EPOLLOUT. Returns as qmp_dispatch().
 */
int qmp_flush(struct qmp *q);
/* Commands queued or sent and not yet answered. */
unsigned qmp_pending(const struct qmp *q);

