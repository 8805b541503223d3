/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The QMP client's connection side: connect, one command in flight, the
 * write buffer, deadlines. What the peer sends is read in qmp-read.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <json-c/json.h>

#include "clock.h"
#include "log.h"
#include "qmp-private.h"

#define QMP_DEFAULT_TIMEOUT_MS 5000
#define QMP_DEFAULT_MAX_REPLY (1024 * 1024)

static void cmd_free(struct qmp_cmd *c)
{
	free(c->execute);
	free(c->line);
	free(c);
}

void qmp_cmd_finish(struct qmp *q, struct qmp_cmd *c, struct json_object *ret, int err,
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
		qmp_cmd_finish(q, c, NULL, err, q->errmsg);
	c = q->queue;
	q->queue = NULL;
	q->queue_tail = &q->queue;
	for (; c; c = next) {
		next = c->next;
		qmp_cmd_finish(q, c, NULL, err, q->errmsg);
	}
}

int qmp_fail(struct qmp *q, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->errmsg, sizeof(q->errmsg), fmt, ap);
	va_end(ap);
	log_debug("qmp %s: %s", q->path, q->errmsg);
	fail_all(q, err);
	return err;
}

static struct qmp_cmd *dequeue(struct qmp *q)
{
	struct qmp_cmd *c = q->queue;

	q->queue = c->next;
	if (!q->queue)
		q->queue_tail = &q->queue;
	c->next = NULL;
	return c;
}

void qmp_start_next(struct qmp *q)
{
	struct qmp_cmd *c;

	/* A mark (qmp_when_ready()) is answered here, without a word to the peer. */
	while (q->state == QMP_READY && !q->inflight && q->queue && !q->queue->line)
		qmp_cmd_finish(q, dequeue(q), NULL, 0, NULL);
	if (q->state != QMP_READY || q->inflight || !q->queue)
		return;
	c = dequeue(q);
	q->inflight = c;
	q->wbuf = c->line;
	q->wlen = c->len;
	q->woff = 0;
	q->wait_start = clock_now_ms();
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
		r = qmp_read(q);
		if (r < 0)
			return r;
	}
	r = flush(q);
	/* Traffic does not move a deadline: it holds whatever the peer sends. */
	return r < 0 ? r : qmp_check_timeout(q, clock_now_ms());
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
	qmp_start_next(q);
	return 0;

err_cmd:
	free(c);
err_line:
	free(line);
	return -ENOMEM;
}

int qmp_flush(struct qmp *q)
{
	if (q->state == QMP_DEAD)
		return q->error;
	return flush(q);
}

int qmp_when_ready(struct qmp *q, qmp_reply_fn cb, void *userdata)
{
	struct qmp_cmd *c;

	if (q->state == QMP_DEAD)
		return q->error;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cb = cb;
	c->userdata = userdata;
	*q->queue_tail = c;
	q->queue_tail = &c->next;
	q->npending++;
	qmp_start_next(q);
	return 0;
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
	q->path = strdup(q->opts.name ?: path);
	q->opts.name = NULL;
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
	q->wait_start = clock_now_ms();
	log_debug("qmp %s: connecting", q->path);
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
