/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the input is what a QMP peer writes to statd's client. A real
 * unix socket carries it, so the target runs the client's own read path
 * (qmp_dispatch) with no test seam in statd/qmp.c. Two commands are queued,
 * the callbacks queue more as statd's do, and the peer hangs up at the end.
 *
 * The first byte picks how the rest is cut into writes (1 to 64 bytes, or
 * all at once), so messages split anywhere are tried.
 */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz.h"
#include "log.h"
#include "qmp.h"

/* Enough to end any run; the target must never wait for it. */
#define FUZZ_MAX_DISPATCH 10000

struct state {
	int replies;
	int events;
};

static char dir[] = "/tmp/vhotplug-fuzz-qmp.XXXXXX";
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static int listen_fd = -1;

static void cleanup(void)
{
	unlink(sock_path);
	rmdir(dir);
}

static void listen_once(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (!mkdtemp(dir))
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/qmp.sock", dir);
	strcpy(sa.sun_path, sock_path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(listen_fd, 4) < 0)
		abort();
	atexit(cleanup);
	log_set_max_level(LOG_CRIT);
}

static void on_reply(struct qmp *q, void *userdata, struct json_object *ret, int err,
		     const char *msg)
{
	struct state *st = userdata;

	/* Use what the peer sent, as statd does with a device list. */
	if (ret)
		json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PLAIN);
	if (msg)
		(void)strlen(msg);
	/* The first success queues a follow-up, as an attach queues its check. */
	if (st->replies++ == 0 && err == 0)
		qmp_command(q, "query-status", NULL, on_reply, st);
}

static void on_event(struct qmp *q, void *userdata, const char *event, struct json_object *data)
{
	struct state *st = userdata;

	if (data)
		json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN);
	if (strcmp(event, "DEVICE_DELETED") == 0 && st->events++ < 4)
		qmp_command(q, "qom-list", json_object_new_object(), on_reply, st);
}

/* Keep the peer's receive side empty, so the client's writes never block. */
static void drain_peer(int peer)
{
	char buf[4096];

	while (recv(peer, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

/* Dispatch until the client has read what is there or died. */
static int pump(struct qmp *q, int peer)
{
	int r = 0;

	for (int i = 0; r == 0 && i < FUZZ_MAX_DISPATCH; i++) {
		r = qmp_dispatch(q, EPOLLIN | EPOLLOUT);
		if (peer >= 0)
			drain_peer(peer);
		if (!readable(qmp_fd(q)))
			break;
	}
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmp_options opts = { .timeout_ms = 60000, .max_reply = 2048, .on_event = on_event };
	struct state st = { 0 };
	struct json_object *args;
	struct qmp *q;
	size_t step, off;
	int peer, r;

	if (listen_fd < 0)
		listen_once();
	if (size == 0)
		return 0;
	step = data[0] < 128 ? (size_t)data[0] % 64 + 1 : size;
	data++;
	size--;
	opts.event_userdata = &st;
	if (qmp_open(sock_path, &opts, &q) < 0)
		abort();
	peer = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (peer < 0)
		abort();
	args = json_object_new_object();
	json_object_object_add(args, "driver", json_object_new_string("usb-host"));
	json_object_object_add(args, "id", json_object_new_string("vhp-usb-1-3"));
	if (qmp_command(q, "device_add", args, on_reply, &st) < 0 ||
	    qmp_command(q, "query-status", NULL, on_reply, &st) < 0)
		abort();
	r = qmp_dispatch(q, EPOLLOUT);	/* finishes the connect */
	for (off = 0; r == 0 && off < size; off += step) {
		size_t n = size - off < step ? size - off : step;

		if (send(peer, data + off, n, MSG_NOSIGNAL) != (ssize_t)n)
			abort();
		r = pump(q, peer);
	}
	close(peer);
	if (r == 0)
		r = pump(q, -1);
	/* A reply still awaited times out; then the connection is closed. */
	if (r == 0)
		qmp_check_timeout(q, qmp_deadline_ms(q) >= 0 ? qmp_deadline_ms(q) : 0);
	qmp_close(q);
	return 0;
}
