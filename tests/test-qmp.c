/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statd/qmp.c against a real QEMU (skipped when qemu-system-x86_64 is
 * missing) and against a scripted peer in this process for the faults QEMU
 * does not produce. Exit 0 pass, 77 skip, 1 fail.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* accept4, strchrnul */
#endif
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "clock.h"
#include "log.h"
#include "macro.h"
#include "check.h"
#include "qmp.h"

#define EXIT_SKIP 77
#define WAIT_MS 5000

/* Pump Q until COND holds, it fails, or MS pass; evaluates to the last error. */
#define RUN_UNTIL(q, cond, ms)                                                 \
	({                                                                     \
		int64_t end_ = clock_now_ms() + (ms);                            \
		int r_ = 0;                                                    \
		while (!(cond) && r_ == 0 && clock_now_ms() < end_)             \
			r_ = pump((q), 50);                                    \
		r_;                                                            \
	})

static const char greeting[] =
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
	"\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n";

struct reply {
	int *clock;	/* optional: shared counter recording arrival order */
	int calls;
	int seq;
	int err;
	char msg[256];
	struct json_object *ret;
};

struct events {
	int *clock;
	int n;
	int seq;
	char last[64];
	char device[64];
};

static void on_reply(struct qmp *q, void *userdata, struct json_object *ret, int err, const char *msg)
{
	struct reply *r = userdata;

	r->calls++;
	r->seq = r->clock ? ++*r->clock : 0;
	r->err = err;
	snprintf(r->msg, sizeof(r->msg), "%s", msg ? msg : "");
	json_object_put(r->ret);
	r->ret = json_object_get(ret);
}

static void on_event(struct qmp *q, void *userdata, const char *event, struct json_object *data)
{
	struct events *e = userdata;
	struct json_object *dev;

	e->n++;
	e->seq = e->clock ? ++*e->clock : 0;
	snprintf(e->last, sizeof(e->last), "%s", event);
	if (data && json_object_object_get_ex(data, "device", &dev))
		snprintf(e->device, sizeof(e->device), "%s", json_object_get_string(dev));
}

static void reply_clear(struct reply *r)
{
	int *clock = r->clock;

	json_object_put(r->ret);
	memset(r, 0, sizeof(*r));
	r->clock = clock;
}

/* One round of the daemon's loop: wait up to MAX_MS, dispatch, check timeouts. */
static int pump(struct qmp *q, int max_ms)
{
	uint32_t want = qmp_wanted_events(q), ev = 0;
	struct pollfd pfd = { .fd = qmp_fd(q) };
	int64_t deadline = qmp_deadline_ms(q), now = clock_now_ms();
	int timeout = max_ms, n, r;

	if (deadline >= 0 && deadline - now < timeout)
		timeout = deadline > now ? (int)(deadline - now) : 0;
	pfd.events = (want & EPOLLIN ? POLLIN : 0) | (want & EPOLLOUT ? POLLOUT : 0);
	n = poll(&pfd, 1, timeout);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n > 0) {
		ev = (pfd.revents & POLLIN ? EPOLLIN : 0) | (pfd.revents & POLLOUT ? EPOLLOUT : 0) |
		     (pfd.revents & POLLERR ? EPOLLERR : 0) | (pfd.revents & POLLHUP ? EPOLLHUP : 0);
		r = qmp_dispatch(q, ev);
		if (r < 0)
			return r;
	}
	return qmp_check_timeout(q, clock_now_ms());
}

static int command(struct qmp *q, const char *execute, const char *args_json, struct reply *r)
{
	struct json_object *args = NULL;

	if (args_json) {
		args = json_tokener_parse(args_json);
		if (!args)
			return -EINVAL;
	}
	return qmp_command(q, execute, args, on_reply, r);
}

static bool make_tmpdir(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/test-qmp.XXXXXX");
	return mkdtemp(dir) != NULL;
}

/* ---- scripted peer ---- */

struct peer {
	char dir[64];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lfd;
	int fd;
	char buf[1024];
	size_t len;
};

static int peer_init(struct peer *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	p->lfd = p->fd = -1;
	p->len = 0;
	if (!make_tmpdir(p->dir, sizeof(p->dir)))
		return -errno;
	snprintf(p->path, sizeof(p->path), "%s/qmp.sock", p->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->path);
	p->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->lfd < 0)
		return -errno;
	if (bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(p->lfd, 4) < 0)
		return -errno;
	return 0;
}

static void peer_fini(struct peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	if (p->lfd >= 0)
		close(p->lfd);
	unlink(p->path);
	rmdir(p->dir);
}

/* A unix connect completes in the kernel, so the connection is already queued. */
static int peer_accept(struct peer *p)
{
	p->fd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	return p->fd < 0 ? -errno : 0;
}

/* Write everything, letting the client read whenever the socket is full. */
static int peer_write(struct peer *p, struct qmp *q, const char *data, size_t len)
{
	ssize_t n;
	int r;

	while (len > 0) {
		n = send(p->fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if (n < 0) {
			r = pump(q, 50);
			if (r < 0)
				return r;
			continue;
		}
		data += n;
		len -= n;
	}
	return 0;
}

static int peer_puts(struct peer *p, struct qmp *q, const char *s)
{
	return peer_write(p, q, s, strlen(s));
}

/* Pump the client until it has sent one command line; return its id, or -1. */
static int64_t peer_expect(struct peer *p, struct qmp *q, const char *execute)
{
	int64_t end = clock_now_ms() + WAIT_MS, id = -1;
	struct json_object *cmd, *o;
	char *nl;
	ssize_t n;

	while (!(nl = memchr(p->buf, '\n', p->len))) {
		if (clock_now_ms() > end || p->len == sizeof(p->buf))
			return -1;
		n = recv(p->fd, p->buf + p->len, sizeof(p->buf) - p->len, 0);
		if (n > 0)
			p->len += n;
		else if (pump(q, 50) < 0)
			return -1;
	}
	*nl = '\0';
	cmd = json_tokener_parse(p->buf);
	if (cmd && json_object_object_get_ex(cmd, "execute", &o) && streq(json_object_get_string(o), execute) &&
	    json_object_object_get_ex(cmd, "id", &o))
		id = json_object_get_int64(o);
	json_object_put(cmd);
	p->len -= nl + 1 - p->buf;
	memmove(p->buf, nl + 1, p->len);
	return id;
}

static int peer_reply(struct peer *p, struct qmp *q, const char *ret_json, int64_t id)
{
	char line[512];

	snprintf(line, sizeof(line), "{\"return\": %s, \"id\": %" PRId64 "}\r\n", ret_json, id);
	return peer_puts(p, q, line);
}

/* Connect a client to a fresh peer; with HANDSHAKE, also greet and answer capabilities. */
static int peer_start(struct peer *p, const struct qmp_options *opts, bool handshake, struct qmp **q)
{
	int64_t id;
	int r;

	*q = NULL;
	r = peer_init(p);
	if (r < 0)
		return r;
	r = qmp_open(p->path, opts, q);
	if (r < 0)
		return r;
	r = peer_accept(p);
	if (r < 0 || !handshake)
		return r;
	r = peer_puts(p, *q, greeting);
	if (r < 0)
		return r;
	id = peer_expect(p, *q, "qmp_capabilities");
	if (id < 0)
		return -EPROTO;
	return peer_reply(p, *q, "{}", id);
}

/* (a) garbage instead of a greeting */
static bool test_garbage(void)
{
	struct qmp_options opts = { .timeout_ms = WAIT_MS };
	struct reply a = { 0 };
	struct qmp *q = NULL;
	struct peer p;
	int failures = check_failures;

	REQUIRE(peer_start(&p, &opts, false, &q) == 0);
	REQUIRE(command(q, "query-status", NULL, &a) == 0);
	REQUIRE(peer_puts(&p, q, "HTTP/1.0 400 Bad Request\r\n\r\n") == 0);
	REQUIRE(RUN_UNTIL(q, a.calls, WAIT_MS) == -EPROTO);
	REQUIRE(a.calls == 1 && a.err == -EPROTO);
	REQUIRE(strstr(a.msg, "QMP protocol error"));
	REQUIRE(qmp_wanted_events(q) == 0);
	REQUIRE(qmp_pending(q) == 0);
	/* Dead: no more commands, ARGS still consumed (ASan checks the leak). */
	REQUIRE(command(q, "query-status", "{\"x\": 1}", &a) == -EPROTO);
	qmp_close(q);
	q = NULL;
	REQUIRE(a.calls == 1);
out:
	qmp_close(q);
	peer_fini(&p);
	reply_clear(&a);
	return check_failures == failures;
}

/* (b) greeting, then qmp_capabilities is never answered */
static bool test_timeout(void)
{
	struct qmp_options opts = { .timeout_ms = 200 };
	struct reply a = { 0 };
	struct qmp *q = NULL;
	int64_t start, elapsed;
	struct peer p;
	int failures = check_failures;

	REQUIRE(peer_start(&p, &opts, false, &q) == 0);
	start = clock_now_ms();
	REQUIRE(command(q, "query-status", NULL, &a) == 0);
	REQUIRE(peer_puts(&p, q, greeting) == 0);
	REQUIRE(peer_expect(&p, q, "qmp_capabilities") == 0);
	REQUIRE(qmp_deadline_ms(q) >= 0);
	REQUIRE(RUN_UNTIL(q, a.calls, 3000) == -ETIMEDOUT);
	elapsed = clock_now_ms() - start;
	REQUIRE(elapsed >= 200 && elapsed < 1500);
	REQUIRE(a.calls == 1 && a.err == -ETIMEDOUT);
	REQUIRE(strstr(a.msg, "qmp_capabilities"));
	REQUIRE(qmp_deadline_ms(q) == -1);
	qmp_close(q);
	q = NULL;
	REQUIRE(a.calls == 1);
out:
	qmp_close(q);
	peer_fini(&p);
	reply_clear(&a);
	return check_failures == failures;
}

/* (c) a reply larger than max_reply */
static bool test_msgsize(void)
{
	struct qmp_options opts = { .timeout_ms = WAIT_MS, .max_reply = 4096 };
	size_t big = 64 * 1024, len;
	struct reply a = { 0 };
	struct qmp *q = NULL;
	char *line = NULL;
	struct peer p;
	int failures = check_failures;
	int64_t id;
	int r;

	REQUIRE(peer_start(&p, &opts, true, &q) == 0);
	REQUIRE(command(q, "query-status", NULL, &a) == 0);
	id = peer_expect(&p, q, "query-status");
	REQUIRE(id > 0);
	line = malloc(big + 64);
	REQUIRE(line);
	len = snprintf(line, 64, "{\"return\": \"");
	memset(line + len, 'x', big);
	len += big;
	len += snprintf(line + len, 64, "\", \"id\": %" PRId64 "}\r\n", id);
	r = peer_write(&p, q, line, len);
	REQUIRE(r == 0 || r == -EMSGSIZE);
	REQUIRE(RUN_UNTIL(q, a.calls, WAIT_MS) == -EMSGSIZE);
	REQUIRE(a.calls == 1 && a.err == -EMSGSIZE);
	REQUIRE(streq(a.msg, "QMP reply exceeds 4096 bytes"));
out:
	free(line);
	qmp_close(q);
	peer_fini(&p);
	reply_clear(&a);
	return check_failures == failures;
}

static bool peer_readable(struct peer *p)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

/*
 * (d) peer closes after the greeting: once after reading qmp_capabilities
 * (client reads EOF), once without (unread data: the kernel resets).
 */
static bool test_reset(bool read_caps)
{
	struct qmp_options opts = { .timeout_ms = WAIT_MS };
	struct reply a = { 0 }, b = { 0 };
	struct qmp *q = NULL;
	struct peer p;
	int failures = check_failures;

	REQUIRE(peer_start(&p, &opts, false, &q) == 0);
	REQUIRE(command(q, "query-status", NULL, &a) == 0);
	REQUIRE(command(q, "query-name", NULL, &b) == 0);
	REQUIRE(peer_puts(&p, q, greeting) == 0);
	if (read_caps)
		REQUIRE(peer_expect(&p, q, "qmp_capabilities") == 0);
	else
		REQUIRE(RUN_UNTIL(q, peer_readable(&p), WAIT_MS) == 0 && peer_readable(&p));
	close(p.fd);
	p.fd = -1;
	REQUIRE(RUN_UNTIL(q, a.calls, WAIT_MS) == -ECONNRESET);
	REQUIRE(a.calls == 1 && a.err == -ECONNRESET);
	REQUIRE(b.calls == 1 && b.err == -ECONNRESET);
	REQUIRE(strstr(a.msg, "closed"));
	qmp_close(q);
	q = NULL;
	REQUIRE(a.calls == 1 && b.calls == 1);
out:
	qmp_close(q);
	peer_fini(&p);
	reply_clear(&a);
	reply_clear(&b);
	return check_failures == failures;
}

static bool test_reset_eof(void)
{
	return test_reset(true);
}

static bool test_reset_unread(void)
{
	return test_reset(false);
}

/* Write S one byte at a time, letting the client read each byte separately. */
static int peer_trickle(struct peer *p, struct qmp *q, const char *s)
{
	int r;

	for (; *s; s++) {
		r = peer_write(p, q, s, 1);
		if (r == 0)
			r = pump(q, 50);
		if (r < 0)
			return r;
	}
	return 0;
}

/* (e) greeting and reply split byte by byte */
static bool test_split(void)
{
	struct qmp_options opts = { .timeout_ms = WAIT_MS };
	struct json_object *o;
	struct reply a = { 0 };
	struct qmp *q = NULL;
	char line[256];
	struct peer p;
	int failures = check_failures;
	int64_t id;

	REQUIRE(peer_start(&p, &opts, false, &q) == 0);
	REQUIRE(command(q, "query-status", NULL, &a) == 0);
	REQUIRE(peer_trickle(&p, q, greeting) == 0);
	id = peer_expect(&p, q, "qmp_capabilities");
	REQUIRE(id == 0);
	REQUIRE(peer_trickle(&p, q, "{\"return\": {}, \"id\": 0}\r\n") == 0);
	id = peer_expect(&p, q, "query-status");
	REQUIRE(id > 0);
	snprintf(line, sizeof(line),
		 "{\"return\": {\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}, "
		 "\"id\": %" PRId64 "}\r\n", id);
	REQUIRE(peer_trickle(&p, q, line) == 0);
	REQUIRE(RUN_UNTIL(q, a.calls, WAIT_MS) == 0);
	REQUIRE(a.calls == 1 && a.err == 0 && a.ret);
	REQUIRE(json_object_object_get_ex(a.ret, "status", &o));
	REQUIRE(streq(json_object_get_string(o), "prelaunch"));
	REQUIRE(qmp_pending(q) == 0 && qmp_deadline_ms(q) == -1);
out:
	qmp_close(q);
	peer_fini(&p);
	reply_clear(&a);
	return check_failures == failures;
}

/* (f) nothing listening */
static bool test_no_vm(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct qmp *q = NULL;
	int failures = check_failures;
	char dir[64] = "";
	int fd = -1;

	REQUIRE(qmp_open("/nonexistent/test-qmp/qmp.sock", NULL, &q) == -ENOENT);
	/* A stale socket file of a VM that is gone: bound, not listening. */
	REQUIRE(make_tmpdir(dir, sizeof(dir)));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/qmp.sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	REQUIRE(qmp_open(sa.sun_path, NULL, &q) == -ECONNREFUSED);
out:
	if (fd >= 0)
		close(fd);
	if (*dir) {
		unlink(sa.sun_path);
		rmdir(dir);
	}
	return check_failures == failures;
}

/* (g) an event before the reply, in the same read; plus -EIO and a bad id */
static bool test_event(void)
{
	int clock = 0;
	struct events ev = { .clock = &clock };
	struct qmp_options opts = { .timeout_ms = WAIT_MS, .on_event = on_event, .event_userdata = &ev };
	struct reply a = { .clock = &clock }, b = { 0 }, c = { 0 };
	struct qmp *q = NULL;
	char line[512];
	struct peer p;
	int failures = check_failures;
	int64_t id;

	REQUIRE(peer_start(&p, &opts, true, &q) == 0);
	REQUIRE(command(q, "device_del", "{\"id\": \"vhp-x\"}", &a) == 0);
	id = peer_expect(&p, q, "device_del");
	REQUIRE(id > 0);
	snprintf(line, sizeof(line),
		 "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"DEVICE_DELETED\", "
		 "\"data\": {\"device\": \"vhp-x\", \"path\": \"/machine/peripheral/vhp-x\"}}\r\n"
		 "{\"return\": {}, \"id\": %" PRId64 "}\r\n", id);
	REQUIRE(peer_puts(&p, q, line) == 0);
	REQUIRE(RUN_UNTIL(q, a.calls, WAIT_MS) == 0);
	REQUIRE(a.calls == 1 && a.err == 0);
	REQUIRE(ev.n == 1 && streq(ev.last, "DEVICE_DELETED") && streq(ev.device, "vhp-x"));
	REQUIRE(ev.seq < a.seq);

	/* An error reply fails only its command. */
	REQUIRE(command(q, "device_add", "{\"driver\": \"nope\"}", &b) == 0);
	id = peer_expect(&p, q, "device_add");
	REQUIRE(id > 0);
	snprintf(line, sizeof(line),
		 "{\"id\": %" PRId64 ", \"error\": {\"class\": \"GenericError\", "
		 "\"desc\": \"'nope' is not a valid device model name\"}}\r\n", id);
	REQUIRE(peer_puts(&p, q, line) == 0);
	REQUIRE(RUN_UNTIL(q, b.calls, WAIT_MS) == 0);
	REQUIRE(b.calls == 1 && b.err == -EIO && !b.ret);
	REQUIRE(streq(b.msg, "'nope' is not a valid device model name"));

	/* A reply nobody asked for is a protocol error. */
	REQUIRE(command(q, "query-status", NULL, &c) == 0);
	id = peer_expect(&p, q, "query-status");
	REQUIRE(id > 0);
	REQUIRE(peer_reply(&p, q, "{}", id + 100) == 0);
	REQUIRE(RUN_UNTIL(q, c.calls, WAIT_MS) == -EPROTO);
	REQUIRE(c.calls == 1 && c.err == -EPROTO);
out:
	qmp_close(q);
	peer_fini(&p);
	reply_clear(&a);
	reply_clear(&b);
	reply_clear(&c);
	return check_failures == failures;
}

/*
 * What the peer writes reaches the log and device_history: an error's desc
 * and an event's name come escaped (one line, no controls), so a "\n<0>"
 * cannot forge a log line nor an OSC sequence retitle a terminal.
 */
static bool test_hostile_text(void)
{
	struct events ev = { 0 };
	struct qmp_options opts = { .timeout_ms = WAIT_MS, .on_event = on_event, .event_userdata = &ev };
	struct reply a = { 0 };
	struct qmp *q = NULL;
	char line[512];
	struct peer p;
	int failures = check_failures;
	int64_t id;

	REQUIRE(peer_start(&p, &opts, true, &q) == 0);
	REQUIRE(command(q, "device_add", "{\"driver\": \"x\"}", &a) == 0);
	id = peer_expect(&p, q, "device_add");
	REQUIRE(id > 0);
	snprintf(line, sizeof(line),
		 "{\"event\": \"EV\\n<0>forged\"}\r\n"
		 "{\"id\": %" PRId64 ", \"error\": {\"class\": \"GenericError\", "
		 "\"desc\": \"no\\n<0>forged \\u001b]0;title\\u0007 \\u202eevil\"}}\r\n", id);
	REQUIRE(peer_puts(&p, q, line) == 0);
	REQUIRE(RUN_UNTIL(q, a.calls, WAIT_MS) == 0);
	REQUIRE(a.calls == 1 && a.err == -EIO);
	REQUIRE(streq(a.msg, "no\\n<0>forged \\x1b]0;title\\x07 \\xe2\\x80\\xaeevil"));
	REQUIRE(ev.n == 1 && streq(ev.last, "EV\\n<0>forged"));
out:
	qmp_close(q);
	peer_fini(&p);
	reply_clear(&a);
	return check_failures == failures;
}

/* qmp_capabilities refused: the reason every pending command fails with is escaped too. */
static bool test_hostile_caps_error(void)
{
	struct qmp_options opts = { .timeout_ms = WAIT_MS };
	struct reply a = { 0 };
	struct qmp *q = NULL;
	struct peer p;
	int failures = check_failures;
	int64_t id;

	REQUIRE(peer_start(&p, &opts, false, &q) == 0);
	REQUIRE(command(q, "query-status", NULL, &a) == 0);
	REQUIRE(peer_puts(&p, q, greeting) == 0);
	id = peer_expect(&p, q, "qmp_capabilities");
	REQUIRE(id == 0);
	REQUIRE(peer_puts(&p, q, "{\"id\": 0, \"error\": {\"class\": \"GenericError\", "
			  "\"desc\": \"x\\n<0>forged\\u001b[2J\"}}\r\n") == 0);
	REQUIRE(RUN_UNTIL(q, a.calls, WAIT_MS) == -EIO);
	REQUIRE(a.calls == 1 && a.err == -EIO);
	REQUIRE(streq(a.msg, "qmp_capabilities failed: x\\n<0>forged\\x1b[2J"));
out:
	qmp_close(q);
	peer_fini(&p);
	reply_clear(&a);
	return check_failures == failures;
}

/* A command bigger than the socket buffer goes out in pieces on EPOLLOUT. */
static bool test_partial_write(void)
{
	struct qmp_options opts = { .timeout_ms = WAIT_MS };
	size_t big = 1024 * 1024, got = 0, cap = big + 256;
	struct json_object *args = NULL, *cmd = NULL, *o;
	struct reply a = { 0 };
	struct qmp *q = NULL;
	char *blob = NULL, *buf = NULL;
	struct peer p;
	int failures = check_failures;
	bool saw_pollout = false;
	int64_t end;
	ssize_t n;

	REQUIRE(peer_start(&p, &opts, true, &q) == 0);
	blob = malloc(big + 1);
	buf = malloc(cap);
	REQUIRE(blob && buf);
	memset(blob, 'y', big);
	blob[big] = '\0';
	args = json_object_new_object();
	REQUIRE(args);
	json_object_object_add(args, "blob", json_object_new_string(blob));
	REQUIRE(qmp_command(q, "x-blob", args, on_reply, &a) == 0);
	for (end = clock_now_ms() + WAIT_MS; clock_now_ms() < end;) {
		saw_pollout |= !!(qmp_wanted_events(q) & EPOLLOUT);
		REQUIRE(pump(q, 10) == 0);
		n = recv(p.fd, buf + got, cap - got, 0);
		if (n > 0)
			got += n;
		if (got && buf[got - 1] == '\n')
			break;
	}
	REQUIRE(saw_pollout);
	REQUIRE(got > big && buf[got - 1] == '\n');
	buf[got - 1] = '\0';
	cmd = json_tokener_parse(buf);
	REQUIRE(cmd && json_object_object_get_ex(cmd, "arguments", &o));
	REQUIRE(json_object_object_get_ex(o, "blob", &o) && json_object_get_string_len(o) == (int)big);
	REQUIRE(json_object_object_get_ex(cmd, "id", &o));
	REQUIRE(peer_reply(&p, q, "{}", json_object_get_int64(o)) == 0);
	REQUIRE(RUN_UNTIL(q, a.calls, WAIT_MS) == 0);
	REQUIRE(a.calls == 1 && a.err == 0);
out:
	json_object_put(cmd);
	free(blob);
	free(buf);
	qmp_close(q);
	peer_fini(&p);
	reply_clear(&a);
	return check_failures == failures;
}

/* qmp_close() on a healthy connection cancels, exactly once. */
static bool test_cancel(void)
{
	struct qmp_options opts = { .timeout_ms = WAIT_MS };
	struct reply a = { 0 }, b = { 0 };
	struct qmp *q = NULL;
	struct peer p;
	int failures = check_failures;

	REQUIRE(peer_start(&p, &opts, true, &q) == 0);
	REQUIRE(command(q, "query-status", NULL, &a) == 0);
	REQUIRE(command(q, "query-name", "{}", &b) == 0);
	REQUIRE(peer_expect(&p, q, "query-status") > 0);
	REQUIRE(qmp_pending(q) == 2);
	qmp_close(q);
	q = NULL;
	REQUIRE(a.calls == 1 && a.err == -ECANCELED);
	REQUIRE(b.calls == 1 && b.err == -ECANCELED);
out:
	qmp_close(q);
	peer_fini(&p);
	reply_clear(&a);
	reply_clear(&b);
	return check_failures == failures;
}

/*
 * qmp_when_ready(): a mark queued before the greeting is answered after
 * qmp_capabilities and after the commands queued before it, and writes
 * nothing; on a ready, idle connection it is answered at once.
 */
static bool test_when_ready(void)
{
	struct qmp_options opts = { .timeout_ms = WAIT_MS };
	int clock = 0;
	struct reply a = { .clock = &clock }, mark = { .clock = &clock }, now = { .clock = &clock };
	struct qmp *q = NULL;
	struct peer p;
	int64_t id;
	int failures = check_failures;

	REQUIRE(peer_start(&p, &opts, false, &q) == 0);
	REQUIRE(command(q, "query-status", NULL, &a) == 0);
	REQUIRE(qmp_when_ready(q, on_reply, &mark) == 0);
	REQUIRE(qmp_pending(q) == 2);
	REQUIRE(peer_puts(&p, q, greeting) == 0);
	id = peer_expect(&p, q, "qmp_capabilities");
	REQUIRE(id >= 0 && peer_reply(&p, q, "{}", id) == 0);
	id = peer_expect(&p, q, "query-status");
	REQUIRE(id > 0);
	REQUIRE(mark.calls == 0);	/* not before what was queued before it */
	REQUIRE(peer_reply(&p, q, "{}", id) == 0);
	REQUIRE(RUN_UNTIL(q, mark.calls, WAIT_MS) == 0);
	REQUIRE(a.calls == 1 && a.err == 0 && mark.calls == 1 && mark.err == 0);
	REQUIRE(a.seq == 1 && mark.seq == 2);
	REQUIRE(qmp_pending(q) == 0);
	/* It wrote nothing: the peer has nothing to read. */
	REQUIRE(RUN_UNTIL(q, false, 100) == 0);
	REQUIRE(!peer_readable(&p) && p.len == 0);
	/* Ready and idle: answered from inside the call. */
	REQUIRE(qmp_when_ready(q, on_reply, &now) == 0);
	REQUIRE(now.calls == 1 && now.err == 0 && qmp_pending(q) == 0);
out:
	qmp_close(q);
	peer_fini(&p);
	reply_clear(&a);
	reply_clear(&mark);
	reply_clear(&now);
	return check_failures == failures;
}

/* qmp_flush(): a command queued on a ready connection is written at once, not at EPOLLOUT. */
static bool test_flush(void)
{
	struct qmp_options opts = { .timeout_ms = WAIT_MS };
	struct reply a = { 0 };
	struct qmp *q = NULL;
	struct peer p;
	int failures = check_failures;

	REQUIRE(peer_start(&p, &opts, true, &q) == 0);
	REQUIRE(RUN_UNTIL(q, false, 50) == 0);	/* the capabilities answer is read */
	REQUIRE(command(q, "query-status", NULL, &a) == 0);
	REQUIRE(qmp_wanted_events(q) & EPOLLOUT);
	REQUIRE(!peer_readable(&p));
	REQUIRE(qmp_flush(q) == 0);
	REQUIRE(peer_readable(&p));
	REQUIRE(!(qmp_wanted_events(q) & EPOLLOUT));
	REQUIRE(peer_expect(&p, q, "query-status") > 0);
out:
	qmp_close(q);
	peer_fini(&p);
	reply_clear(&a);
	return check_failures == failures;
}

/* A mark on a connection that dies is failed like a command. */
static bool test_when_ready_dead(void)
{
	struct qmp_options opts = { .timeout_ms = WAIT_MS };
	struct reply mark = { 0 };
	struct qmp *q = NULL;
	struct peer p;
	int failures = check_failures;

	REQUIRE(peer_start(&p, &opts, false, &q) == 0);
	REQUIRE(qmp_when_ready(q, on_reply, &mark) == 0);
	REQUIRE(peer_puts(&p, q, "not QMP\r\n") == 0);
	REQUIRE(RUN_UNTIL(q, mark.calls, WAIT_MS) == -EPROTO);
	REQUIRE(mark.calls == 1 && mark.err == -EPROTO);
	REQUIRE(qmp_when_ready(q, on_reply, &mark) == -EPROTO);
	REQUIRE(mark.calls == 1);
out:
	qmp_close(q);
	peer_fini(&p);
	reply_clear(&mark);
	return check_failures == failures;
}

/* ---- real QEMU ---- */

static bool find_in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];
	const char *s, *e;

	for (s = path ? path : "/usr/bin:/bin"; *s; s = *e ? e + 1 : e) {
		e = strchrnul(s, ':');
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(e - s), s, name);
		if (access(buf, X_OK) == 0)
			return true;
	}
	return false;
}

static pid_t start_qemu(const char *sock)
{
	char qmparg[256];
	pid_t pid;

	snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", sock);
	pid = fork();
	if (pid != 0)
		return pid;
	/* Do not outlive a crashed or killed test. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	execlp("qemu-system-x86_64", "qemu-system-x86_64", "-M", "q35", "-nodefaults", "-display", "none",
	       "-S", "-device", "qemu-xhci,id=xhci", "-qmp", qmparg, (char *)NULL);
	_exit(127);
}

static int connect_qemu(pid_t pid, const char *sock, const struct qmp_options *opts, struct qmp **q)
{
	int64_t end = clock_now_ms() + 10000;
	int r;

	do {
		r = qmp_open(sock, opts, q);
		if (r != -ENOENT && r != -ECONNREFUSED)
			return r;
		if (waitpid(pid, NULL, WNOHANG) != 0)
			return -ECHILD;
		usleep(20 * 1000);
	} while (clock_now_ms() < end);
	return r;
}

static bool has_peripheral(struct json_object *list, const char *name)
{
	struct json_object *o;
	size_t i;

	if (!json_object_is_type(list, json_type_array))
		return false;
	for (i = 0; i < json_object_array_length(list); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(list, i), "name", &o) &&
		    streq(json_object_get_string(o), name))
			return true;
	return false;
}

/* Queued from inside a callback: must be sent after the reply that ran it. */
static void chain_reply(struct qmp *q, void *userdata, struct json_object *ret, int err, const char *msg)
{
	struct reply *r = userdata;

	on_reply(q, userdata, ret, err, msg);
	if (err == 0 && qmp_command(q, "query-version", NULL, on_reply, r + 1) < 0)
		r->err = -EFAULT;
}

static bool test_qemu(int *skip)
{
	int clock = 0;
	struct events ev = { 0 };
	struct qmp_options opts = { .timeout_ms = WAIT_MS, .on_event = on_event, .event_userdata = &ev };
	struct reply a = { 0 }, b = { .clock = &clock }, c[2] = { { .clock = &clock }, { .clock = &clock } };
	char dir[64] = "", sock[128] = "";
	struct json_object *o;
	struct qmp *q = NULL;
	int failures = check_failures;
	pid_t pid = -1;
	int r;

	if (!find_in_path("qemu-system-x86_64")) {
		fprintf(stderr, "qemu-system-x86_64 not found, skipping the QEMU test\n");
		*skip = 1;
		return true;
	}
	REQUIRE(make_tmpdir(dir, sizeof(dir)));
	snprintf(sock, sizeof(sock), "%s/qmp.sock", dir);
	pid = start_qemu(sock);
	REQUIRE(pid > 0);
	r = connect_qemu(pid, sock, &opts, &q);
	REQUIRE(r == 0);

	REQUIRE(command(q, "query-status", NULL, &a) == 0);
	REQUIRE(RUN_UNTIL(q, a.calls, WAIT_MS) == 0);
	REQUIRE(a.err == 0 && json_object_object_get_ex(a.ret, "status", &o));
	REQUIRE(streq(json_object_get_string(o), "prelaunch"));
	reply_clear(&a);

	/* By vendor/product QEMU accepts the device and waits for it to appear. */
	REQUIRE(command(q, "device_add",
		      "{\"driver\": \"usb-host\", \"vendorid\": 4660, \"productid\": 22136, \"id\": \"vhp-test\"}",
		      &a) == 0);
	REQUIRE(RUN_UNTIL(q, a.calls, WAIT_MS) == 0);
	REQUIRE(a.err == 0);
	reply_clear(&a);

	REQUIRE(command(q, "qom-list", "{\"path\": \"/machine/peripheral\"}", &a) == 0);
	REQUIRE(RUN_UNTIL(q, a.calls, WAIT_MS) == 0);
	REQUIRE(a.err == 0 && has_peripheral(a.ret, "vhp-test"));
	reply_clear(&a);

	REQUIRE(command(q, "device_add", "{\"driver\": \"usb-host\", \"hostbus\": 1, \"hostaddr\": 99}", &a) == 0);
	REQUIRE(RUN_UNTIL(q, a.calls, WAIT_MS) == 0);
	REQUIRE(a.calls == 1 && a.err == -EIO && !a.ret);
	REQUIRE(strstr(a.msg, "failed to find host usb device"));
	reply_clear(&a);

	REQUIRE(command(q, "device_del", "{\"id\": \"vhp-test\"}", &a) == 0);
	REQUIRE(RUN_UNTIL(q, a.calls && ev.n, WAIT_MS) == 0);
	REQUIRE(a.err == 0);
	REQUIRE(streq(ev.last, "DEVICE_DELETED") && streq(ev.device, "vhp-test"));
	reply_clear(&a);

	/* Back to back, and a third queued from inside a callback. */
	REQUIRE(command(q, "query-status", NULL, &b) == 0);
	REQUIRE(qmp_command(q, "query-name", NULL, chain_reply, c) == 0);
	REQUIRE(qmp_pending(q) == 2);
	REQUIRE(RUN_UNTIL(q, b.calls && c[0].calls && c[1].calls, WAIT_MS) == 0);
	REQUIRE(b.err == 0 && c[0].err == 0 && c[1].err == 0);
	REQUIRE(b.seq < c[0].seq && c[0].seq < c[1].seq);
	REQUIRE(json_object_object_get_ex(c[1].ret, "qemu", &o));
	REQUIRE(qmp_pending(q) == 0);
out:
	qmp_close(q);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (*sock)
		unlink(sock);
	if (*dir)
		rmdir(dir);
	reply_clear(&a);
	reply_clear(&b);
	reply_clear(&c[0]);
	reply_clear(&c[1]);
	return check_failures == failures;
}

int main(void)
{
	static const struct {
		const char *name;
		bool (*fn)(void);
	} tests[] = {
		{ "garbage", test_garbage },
		{ "timeout", test_timeout },
		{ "msgsize", test_msgsize },
		{ "reset-eof", test_reset_eof },
		{ "reset-unread", test_reset_unread },
		{ "split", test_split },
		{ "no-vm", test_no_vm },
		{ "event", test_event },
		{ "partial-write", test_partial_write },
		{ "cancel", test_cancel },
		{ "hostile-text", test_hostile_text },
		{ "hostile-caps-error", test_hostile_caps_error },
		{ "when-ready", test_when_ready },
		{ "when-ready-dead", test_when_ready_dead },
		{ "flush", test_flush },
	};
	int failures = 0, skip = 0;
	size_t i;

	log_open("test-qmp", LOG_TARGET_PLAIN);
	if (getenv("TEST_QMP_DEBUG"))
		log_set_max_level(LOG_DEBUG);
	/* Last resort against a hang; QEMU dies with us through PDEATHSIG. */
	alarm(60);
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		bool ok = tests[i].fn();

		fprintf(stderr, "%s: %s\n", ok ? "PASS" : "FAIL", tests[i].name);
		failures += !ok;
	}
	if (!test_qemu(&skip))
		failures++;
	else
		fprintf(stderr, "%s: qemu\n", skip ? "SKIP" : "PASS");
	if (failures)
		return 1;
	return skip ? EXIT_SKIP : 0;
}
