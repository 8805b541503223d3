/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <json-c/json.h>

#include "log.h"
#include "macro.h"
#include "qmp.h"

#define QMP_DEFAULT_TIMEOUT_MS 5000
#define QMP_DEFAULT_MAX_REPLY (1024 * 1024)
#define QMP_READ_CHUNK 4096
/* Read at most this much per dispatch, so one chatty VM cannot hold the loop. */
#define QMP_READ_BUDGET (64 * 1024)
/* More events than this in one second is a flood, not a VM at work. */
#define QMP_EVENT_BURST 1000

/* Id 0 is ours for qmp_capabilities; user commands count from 1. */
static const char caps_line[] = "{\"execute\":\"qmp_capabilities\",\"id\":0}\n";

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

int64_t qmp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cmd_free(struct qmp_cmd *c)
{
	free(c->execute);
	free(c->line);
	free(c);
}

static void cmd_finish(struct qmp *q, struct qmp_cmd *c, struct json_object *ret, int err,
		       const char *msg)
{
	q->npending--;
	if (c->cb)
		c->cb(q, c->userdata, ret, err, msg);
	cmd_free(c);
}

/*
 * Mark the connection dead first, so that callbacks calling qmp_command()
 * get an error instead of queueing commands nobody would ever answer.
 */
static void fail_all(struct qmp *q, int err)
{
	struct qmp_cmd *c = q->inflight;
	struct qmp_cmd *next;

	q->state = QMP_DEAD;
	q->error = err;
	q->wbuf = NULL;
	q->inflight = NULL;
	if (c)
		cmd_finish(q, c, NULL, err, q->errmsg);
	c = q->queue;
	q->queue = NULL;
	q->queue_tail = &q->queue;
	for (; c; c = next) {
		next = c->next;
		cmd_finish(q, c, NULL, err, q->errmsg);
	}
}

_printf_(3, 4) static int qmp_fail(struct qmp *q, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->errmsg, sizeof(q->errmsg), fmt, ap);
	va_end(ap);
	log_debug("qmp %s: %s", q->path, q->errmsg);
	fail_all(q, err);
	return err;
}

/* Move the next queued command into the write buffer; no I/O here. */
static void start_next(struct qmp *q)
{
	struct qmp_cmd *c = q->queue;

	if (q->state != QMP_READY || q->inflight || !c)
		return;
	q->queue = c->next;
	if (!q->queue)
		q->queue_tail = &q->queue;
	c->next = NULL;
	q->inflight = c;
	q->wbuf = c->line;
	q->wlen = c->len;
	q->woff = 0;
	q->wait_start = qmp_now_ms();
}

static int flush(struct qmp *q)
{
	ssize_t n;

	while (q->wbuf && q->woff < q->wlen) {
		n = send(q->fd, q->wbuf + q->woff, q->wlen - q->woff, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			if (errno == EPIPE || errno == ECONNRESET)
				return qmp_fail(q, -ECONNRESET, "QMP connection closed by peer");
			return qmp_fail(q, -errno, "QMP write failed: %m");
		}
		q->woff += n;
	}
	if (q->wbuf)
		log_debug("qmp %s> %.*s", q->path, (int)q->wlen - 1, q->wbuf);
	q->wbuf = NULL;
	return 0;
}

static bool reply_id_is(struct json_object *msg, int64_t id)
{
	struct json_object *o;

	return json_object_object_get_ex(msg, "id", &o) && json_object_is_type(o, json_type_int) &&
	       json_object_get_int64(o) == id;
}

static const char *error_desc(struct json_object *error)
{
	struct json_object *desc;

	if (json_object_object_get_ex(error, "desc", &desc) && json_object_is_type(desc, json_type_string))
		return json_object_get_string(desc);
	return "QMP error reply without description";
}

static int handle_caps_reply(struct qmp *q, struct json_object *msg)
{
	struct json_object *error;

	if (!reply_id_is(msg, 0))
		return qmp_fail(q, -EPROTO, "QMP protocol error: unexpected reply to qmp_capabilities");
	if (json_object_object_get_ex(msg, "error", &error))
		return qmp_fail(q, -EIO, "qmp_capabilities failed: %s", error_desc(error));
	q->state = QMP_READY;
	start_next(q);
	return 0;
}

static int handle_reply(struct qmp *q, struct json_object *msg)
{
	struct qmp_cmd *c = q->inflight;
	struct json_object *ret, *error;

	if (q->state == QMP_CAPS)
		return handle_caps_reply(q, msg);
	if (!c || !reply_id_is(msg, c->id))
		return qmp_fail(q, -EPROTO, "QMP protocol error: reply matches no command");
	/* QEMU cannot answer a command it has not fully read. */
	if (q->wbuf)
		return qmp_fail(q, -EPROTO, "QMP protocol error: reply before command was sent");
	q->inflight = NULL;
	/* The callback may queue more: it then sees no command in flight. */
	if (json_object_object_get_ex(msg, "error", &error))
		cmd_finish(q, c, NULL, -EIO, error_desc(error));
	else if (json_object_object_get_ex(msg, "return", &ret))
		cmd_finish(q, c, ret, 0, NULL);
	start_next(q);
	return 0;
}

static int handle_event(struct qmp *q, struct json_object *msg, struct json_object *event)
{
	struct json_object *data = NULL;

	int64_t now = qmp_now_ms();

	if (!json_object_is_type(event, json_type_string))
		return qmp_fail(q, -EPROTO, "QMP protocol error: event name is not a string");
	if (now - q->events_since >= 1000) {
		q->events_since = now;
		q->events = 0;
	}
	if (++q->events > QMP_EVENT_BURST)
		return qmp_fail(q, -ENOBUFS, "QMP peer floods events (over %d a second)", QMP_EVENT_BURST);
	json_object_object_get_ex(msg, "data", &data);
	if (q->opts.on_event)
		q->opts.on_event(q, q->opts.event_userdata, json_object_get_string(event), data);
	return 0;
}

static int handle_message(struct qmp *q, struct json_object *msg)
{
	struct json_object *o;

	if (!json_object_is_type(msg, json_type_object))
		return qmp_fail(q, -EPROTO, "QMP protocol error: message is not a JSON object");
	log_debug("qmp %s< %s", q->path, json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
	/*
	 * QEMU 7.2 may write an event still queued for the previous client (a
	 * late DEVICE_DELETED) to a new connection before the greeting.
	 */
	if (q->state == QMP_GREETING && json_object_object_get_ex(msg, "event", &o))
		return handle_event(q, msg, o);
	if (q->state == QMP_GREETING) {
		if (!json_object_object_get_ex(msg, "QMP", &o))
			return qmp_fail(q, -EPROTO, "QMP protocol error: expected greeting");
		q->state = QMP_CAPS;
		q->wbuf = caps_line;
		q->wlen = sizeof(caps_line) - 1;
		q->woff = 0;
		q->wait_start = qmp_now_ms();
		return 0;
	}
	if (json_object_object_get_ex(msg, "event", &o))
		return handle_event(q, msg, o);
	if (json_object_object_get_ex(msg, "return", NULL) || json_object_object_get_ex(msg, "error", NULL))
		return handle_reply(q, msg);
	return qmp_fail(q, -EPROTO, "QMP protocol error: unexpected message");
}

static int message_complete(struct qmp *q, struct json_object *msg)
{
	int r;

	json_tokener_reset(q->tok);
	q->msg_bytes = 0;
	if (!msg)	/* a bare JSON null */
		return qmp_fail(q, -EPROTO, "QMP protocol error: message is not a JSON object");
	r = handle_message(q, msg);
	json_object_put(msg);
	return r;
}

/*
 * Feed at most one byte past the limit per call, so an oversized message
 * is caught without ever buffering much more than max_reply of it.
 */
static int feed(struct qmp *q, const char *buf, size_t len)
{
	struct json_object *msg;
	enum json_tokener_error jerr;
	size_t room, chunk, used;
	int r;

	while (len > 0 && q->state != QMP_DEAD) {
		room = q->opts.max_reply - q->msg_bytes;
		chunk = room < len ? room + 1 : len;
		msg = json_tokener_parse_ex(q->tok, buf, (int)chunk);
		jerr = json_tokener_get_error(q->tok);
		used = jerr == json_tokener_continue ? chunk : json_tokener_get_parse_end(q->tok);
		q->msg_bytes += used;
		if (q->msg_bytes > q->opts.max_reply) {
			json_object_put(msg);
			return qmp_fail(q, -EMSGSIZE, "QMP reply exceeds %zu bytes", q->opts.max_reply);
		}
		if (jerr != json_tokener_continue && jerr != json_tokener_success)
			return qmp_fail(q, -EPROTO, "QMP protocol error: %s", json_tokener_error_desc(jerr));
		if (jerr == json_tokener_success) {
			r = message_complete(q, msg);
			if (r < 0)
				return r;
		}
		buf += used;
		len -= used;
	}
	return q->state == QMP_DEAD ? q->error : 0;
}

/* Read until EAGAIN or the budget is spent: the caller's epoll is level-triggered. */
static int read_some(struct qmp *q)
{
	char buf[QMP_READ_CHUNK];
	ssize_t n;
	int r;

	for (size_t total = 0; total < QMP_READ_BUDGET; total += n) {
		n = recv(q->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			if (errno == ECONNRESET)
				return qmp_fail(q, -ECONNRESET, "QMP connection closed by peer");
			return qmp_fail(q, -errno, "QMP read failed: %m");
		}
		if (n == 0)
			return qmp_fail(q, -ECONNRESET, "QMP connection closed by peer");
		r = feed(q, buf, n);
		if (r < 0)
			return r;
	}
	return 0;
}

static int finish_connect(struct qmp *q)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err)
		return qmp_fail(q, -err, "QMP connect failed: %s", strerror(err));
	q->state = QMP_GREETING;
	return 0;
}

int qmp_dispatch(struct qmp *q, uint32_t revents)
{
	int r;

	if (q->state == QMP_DEAD)
		return q->error;
	if (q->state == QMP_CONNECTING) {
		if (!(revents & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return 0;
		r = finish_connect(q);
		if (r < 0)
			return r;
	}
	if (revents & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		r = read_some(q);
		if (r < 0)
			return r;
	}
	r = flush(q);
	/* Traffic does not move a deadline: it holds whatever the peer sends. */
	return r < 0 ? r : qmp_check_timeout(q, qmp_now_ms());
}

static const char *wait_what(const struct qmp *q)
{
	switch (q->state) {
	case QMP_CONNECTING:
		return "connect";
	case QMP_GREETING:
		return "greeting";
	case QMP_CAPS:
		return "qmp_capabilities";
	default:
		return q->inflight ? q->inflight->execute : "nothing";
	}
}

int64_t qmp_deadline_ms(const struct qmp *q)
{
	switch (q->state) {
	case QMP_CONNECTING:
	case QMP_GREETING:
	case QMP_CAPS:
		return q->wait_start + q->opts.timeout_ms;
	case QMP_READY:
		return q->inflight ? q->wait_start + q->opts.timeout_ms : -1;
	default:
		return -1;
	}
}

int qmp_check_timeout(struct qmp *q, int64_t now_ms)
{
	int64_t deadline;

	if (q->state == QMP_DEAD)
		return q->error;
	deadline = qmp_deadline_ms(q);
	if (deadline < 0 || now_ms < deadline)
		return 0;
	return qmp_fail(q, -ETIMEDOUT, "QMP timeout: no %s after %d ms", wait_what(q), q->opts.timeout_ms);
}

int qmp_fd(const struct qmp *q)
{
	return q->fd;
}

uint32_t qmp_wanted_events(const struct qmp *q)
{
	switch (q->state) {
	case QMP_CONNECTING:
		return EPOLLOUT;
	case QMP_DEAD:
		return 0;
	default:
		return EPOLLIN | (q->wbuf ? EPOLLOUT : 0);
	}
}

unsigned qmp_pending(const struct qmp *q)
{
	return q->npending;
}

/* Always consumes ARGS. */
static char *serialize(const char *execute, struct json_object *args, int64_t id, size_t *len)
{
	struct json_object *o = json_object_new_object();
	const char *s;
	char *line;
	size_t n;

	if (!o) {
		json_object_put(args);
		return NULL;
	}
	json_object_object_add(o, "execute", json_object_new_string(execute));
	if (args)
		json_object_object_add(o, "arguments", args);
	json_object_object_add(o, "id", json_object_new_int64(id));
	/* PLAIN output has no newlines, so one command is exactly one line. */
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	n = s ? strlen(s) : 0;
	line = s ? malloc(n + 2) : NULL;
	if (line) {
		memcpy(line, s, n);
		line[n] = '\n';
		line[n + 1] = '\0';
		*len = n + 1;
	}
	json_object_put(o);
	return line;
}

int qmp_command(struct qmp *q, const char *execute, struct json_object *args, qmp_reply_fn cb,
		void *userdata)
{
	struct qmp_cmd *c;
	size_t len;
	char *line;

	if (q->state == QMP_DEAD) {
		json_object_put(args);
		return q->error;
	}
	line = serialize(execute, args, q->next_id + 1, &len);
	if (!line)
		return -ENOMEM;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto err_line;
	c->execute = strdup(execute);
	if (!c->execute)
		goto err_cmd;
	c->id = ++q->next_id;
	c->line = line;
	c->len = len;
	c->cb = cb;
	c->userdata = userdata;
	*q->queue_tail = c;
	q->queue_tail = &c->next;
	q->npending++;
	start_next(q);
	return 0;

err_cmd:
	free(c);
err_line:
	free(line);
	return -ENOMEM;
}

static int connect_unix(const char *path, int *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r < 0 && errno != EINPROGRESS) {
		/* EAGAIN here means a full listen backlog: not worth a retry loop. */
		r = -errno;
		close(fd);
		return r;
	}
	*out = fd;
	return r < 0 ? 1 : 0;	/* 1: connect still in progress */
}

static void apply_options(struct qmp *q, const struct qmp_options *opts)
{
	if (opts)
		q->opts = *opts;
	if (q->opts.timeout_ms <= 0)
		q->opts.timeout_ms = QMP_DEFAULT_TIMEOUT_MS;
	if (q->opts.max_reply == 0)
		q->opts.max_reply = QMP_DEFAULT_MAX_REPLY;
}

int qmp_open(const char *path, const struct qmp_options *opts, struct qmp **out)
{
	struct qmp *q;
	int r;

	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->fd = -1;
	q->queue_tail = &q->queue;
	apply_options(q, opts);
	q->path = strdup(path);
	q->tok = json_tokener_new();
	if (!q->path || !q->tok) {
		r = -ENOMEM;
		goto err;
	}
	json_tokener_set_flags(q->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
	r = connect_unix(path, &q->fd);
	if (r < 0)
		goto err;
	q->state = r > 0 ? QMP_CONNECTING : QMP_GREETING;
	q->wait_start = qmp_now_ms();
	log_debug("qmp %s: connecting", path);
	*out = q;
	return 0;

err:
	if (q->tok)
		json_tokener_free(q->tok);
	free(q->path);
	free(q);
	return r;
}

void qmp_close(struct qmp *q)
{
	if (!q)
		return;
	if (q->state != QMP_DEAD) {
		snprintf(q->errmsg, sizeof(q->errmsg), "QMP connection closed");
		fail_all(q, -ECANCELED);
	}
	if (q->fd >= 0)
		close(q->fd);
	json_tokener_free(q->tok);
	free(q->path);
	free(q);
}
