/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The QMP client's insides, shared by qmp.c (connection, commands, time)
 * and qmp-read.c (what the peer sends).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "qmp.h"

struct json_tokener;

enum qmp_state {
	QMP_CONNECTING,
	QMP_GREETING,	/* connected, waiting for {"QMP": ...} */
	QMP_CAPS,	/* qmp_capabilities sent, waiting for its return */
	QMP_READY,
	QMP_DEAD,	/* failed: every callback has run, only qmp_close() is left */
};

struct qmp_cmd {
	struct qmp_cmd *next;
	int64_t id;
	char *execute;
	char *line;	/* serialized command, newline terminated */
	size_t len;
	qmp_reply_fn cb;
	void *userdata;
};

struct qmp {
	int fd;
	enum qmp_state state;
	char *path;	/* for log messages */
	struct qmp_options opts;
	struct json_tokener *tok;
	size_t msg_bytes;	/* bytes fed to TOK for the message being parsed */

	/* One command in flight at a time: QEMU runs them in order anyway, and
	 * this way each reply timeout measures only that command. */
	struct qmp_cmd *inflight;
	struct qmp_cmd *queue;
	struct qmp_cmd **queue_tail;
	unsigned npending;
	int64_t next_id;

	const char *wbuf;	/* caps_line or inflight->line while unsent */
	size_t wlen;
	size_t woff;

	int64_t wait_start;	/* start of the wait the deadline refers to */
	int64_t events_since;	/* start of the current one-second event window */
	unsigned events;	/* events in that window */
	int error;
	char errmsg[256];
};

/* Run C's callback (RET or ERR), free C. */
void qmp_cmd_finish(struct qmp *q, struct qmp_cmd *c, struct json_object *ret, int err,
		    const char *msg);
/* The connection is dead (ERR, with the message FMT): every pending command fails. Returns ERR. */
_printf_(3, 4) int qmp_fail(struct qmp *q, int err, const char *fmt, ...);
/* Move the next queued command into the write buffer; no I/O here. */
void qmp_start_next(struct qmp *q);
/* Read what the peer sent and act on it (qmp-read.c); 0 or as qmp_dispatch(). */
int qmp_read(struct qmp *q);
