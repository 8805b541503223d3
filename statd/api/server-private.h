/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * statd/api/'s insides: server.c (the server: accepting, the post hook),
 * listen.c (opening the listening sockets), conn.c (one client), outq.c (a
 * client's output). server.c calls listen.c and conn.c, conn.c calls outq.c;
 * none calls back.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api-server.h"
#include "loop.h"

/*
 * Bounds, so that no client costs statd more than a fixed amount whatever
 * it sends or fails to read:
 * a request line (a real one is under 1 KiB; the original has no bound);
 */
#define API_LINE_MAX (64 * 1024)
/* replies and notifications a client has not read (a usb_list of 100 devices is ~100 KiB); */
#define API_OUT_MAX (1024 * 1024)
/* clients at once, across transports (the applet, a CLI or two per VM): 128 × the two above; */
#define API_CLIENTS_MAX 128
/*
 * of them, from one peer (a uid, a vsock CID, a tcp address): one guest, or
 * one local user, that opens connections without end leaves room for the others;
 */
#define API_CLIENTS_PER_PEER 32
/* requests one client has answered before the others get a turn. */
#define API_LINES_PER_TURN 32

struct api_conn;

struct api_server {
	struct api_ctx ctx;
	struct loop *loop;
	struct vmm *vmm;
	struct api_conn *conns;		/* every client, newest first */
	size_t n_conns;
	size_t n_subscribers;
	bool notifying;			/* last_id is set: api_notify_start() was called */
	int64_t last_id;
	/* Written when a connection has requests to take up again, outside the loop's batch. */
	int kickfd;
	struct source kick_src;
	/* Fires when a pending call asked for a poll (api_call_deadline()), so that it gets one idle. */
	int timerfd;
	struct source timer_src;
	int64_t timer_ms;		/* what it is armed for; -1: disarmed */
	struct api_listener *listeners[3];
	char *unix_path;		/* the unix socket we made, to remove at the end */
	int64_t refused_ms;		/* when a refusal was last logged */
	unsigned refused_quiet;		/* refusals not logged since */
};

/* ---- listen.c ---- */

struct api_listener {
	struct source src;
	struct api_server *srv;
	enum api_transport transport;
	int fd;
};

/* A listening socket (non-blocking, close-on-exec) for TRANSPORT as API says; -errno, logged. */
int listen_open(const struct api_config *api, enum api_transport transport, char **unix_path);

/* ---- outq.c ---- */

struct api_outq {
	char *buf;			/* bytes to send: buf[head..len) */
	size_t head, len, cap;
};

/*
 * Send LEN bytes of BUF on FD, or queue what the socket does not take now:
 * 0, -ENOBUFS when more than MAX would wait, -ENOMEM, or send()'s -errno.
 */
int outq_send(struct api_outq *q, int fd, const char *buf, size_t len, size_t max);
/* Send what waits: 0 when all is sent, -EAGAIN when some still waits, or -errno. */
int outq_flush(struct api_outq *q, int fd);
void outq_free(struct api_outq *q);
static inline bool outq_empty(const struct api_outq *q)
{
	return q->len == q->head;
}

/* ---- conn.c ---- */

struct api_conn {
	struct source src;
	struct api_server *srv;
	struct api_conn *prev, *next;
	int fd;
	enum api_transport transport;
	uint32_t peer;			/* the uid, CID or IPv4 address it counts against */
	struct api_caller caller;
	char *vm;			/* caller.vm's copy: the config may be reloaded */
	char *in;			/* bytes read, not yet a whole line */
	size_t in_len;
	struct api_outq out;
	struct api_call *pending;	/* a request waiting: the next lines wait behind it */
	uint32_t events;		/* what the loop watches for now */
	unsigned bad_lines;		/* not JSON: only the first is a warning */
	bool subscribed;
	bool resume;			/* whole lines wait in IN: take them up at the next kick */
	bool eof;			/* the client sent all it will: close once answered */
	bool gone;
};

/* A connection for FD from CALLER (PEER: see struct api_conn) on the loop; FD closed on failure. */
int conn_new(struct api_server *srv, int fd, const struct api_caller *caller, uint32_t peer,
	     const char *vm);
/* Take up the whole lines waiting in C's input (a kick). */
void conn_resume(struct api_conn *c);
/* Poll C's pending call; its reply is queued when it ended. */
void conn_poll(struct api_conn *c);
/* Queue LEN bytes of BUF (a whole line) to C; C may be dropped. */
void conn_send(struct api_conn *c, const char *buf, size_t len);
/* statd exits: close C now, outside the loop. */
void conn_free(struct api_conn *c);
