/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a QMP peer sends: framing (json-c's tokener, bounded per message),
 * the greeting, replies matched to the command in flight, and events,
 * rate-limited. Whatever breaks the protocol kills the connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "clock.h"
#include "device.h"
#include "log.h"
#include "qmp-private.h"

#define QMP_READ_CHUNK 4096
/* Read at most this much per dispatch, so one chatty VM cannot hold the loop. */
#define QMP_READ_BUDGET (64 * 1024)
/* More events than this in one second is a flood, not a VM at work. */
#define QMP_EVENT_BURST 1000

/* Id 0 is ours for qmp_capabilities; user commands count from 1. */
static const char caps_line[] = "{\"execute\":\"qmp_capabilities\",\"id\":0}\n";

static bool reply_id_is(struct json_object *msg, int64_t id)
{
	struct json_object *o;

	return json_object_object_get_ex(msg, "id", &o) && json_object_is_type(o, json_type_int) &&
	       json_object_get_int64(o) == id;
}

/*
 * The peer's words go to the log and to device_history.detail: escaped as a
 * device's strings are (one line, no controls), so a "\n<0>..." cannot forge
 * a log line nor an ESC sequence reach a terminal. Caller frees; NULL: no memory.
 */
static char *error_desc(struct json_object *error)
{
	struct json_object *desc;

	if (json_object_object_get_ex(error, "desc", &desc) && json_object_is_type(desc, json_type_string))
		return device_escape(json_object_get_string(desc));
	return strdup("QMP error reply without description");
}

static int handle_caps_reply(struct qmp *q, struct json_object *msg)
{
	struct json_object *error;

	if (!reply_id_is(msg, 0))
		return qmp_fail(q, -EPROTO, "QMP protocol error: unexpected reply to qmp_capabilities");
	if (json_object_object_get_ex(msg, "error", &error)) {
		_cleanup_free_ char *desc = error_desc(error);

		return qmp_fail(q, -EIO, "qmp_capabilities failed: %s", desc ?: "(out of memory)");
	}
	q->state = QMP_READY;
	qmp_start_next(q);
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
	if (json_object_object_get_ex(msg, "error", &error)) {
		_cleanup_free_ char *desc = error_desc(error);

		qmp_cmd_finish(q, c, NULL, -EIO, desc ?: "QMP error reply (out of memory)");
	} else if (json_object_object_get_ex(msg, "return", &ret))
		qmp_cmd_finish(q, c, ret, 0, NULL);
	qmp_start_next(q);
	return 0;
}

static int handle_event(struct qmp *q, struct json_object *msg, struct json_object *event)
{
	struct json_object *data = NULL;
	_cleanup_free_ char *name = NULL;
	int64_t now = clock_now_ms();

	if (!json_object_is_type(event, json_type_string))
		return qmp_fail(q, -EPROTO, "QMP protocol error: event name is not a string");
	if (now - q->events_since >= 1000) {
		q->events_since = now;
		q->events = 0;
	}
	if (++q->events > QMP_EVENT_BURST)
		return qmp_fail(q, -ENOBUFS, "QMP peer floods events (over %d a second)", QMP_EVENT_BURST);
	json_object_object_get_ex(msg, "data", &data);
	/* Logged by the caller: escaped as an error's text is. */
	name = device_escape(json_object_get_string(event));
	if (!name)
		return qmp_fail(q, -ENOMEM, "out of memory");
	if (q->opts.on_event)
		q->opts.on_event(q, q->opts.event_userdata, name, data);
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
		q->wait_start = clock_now_ms();
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
int qmp_read(struct qmp *q)
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
