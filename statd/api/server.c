/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API server on statd's loop: a listening socket per transport of
 * general.api; each client accepted within the bounds, told who it is
 * (SO_PEERCRED, or its vsock CID and that CID's VM), and made a connection
 * (conn.c). After each batch, the notifications the batch wrote go to every
 * subscriber, then the replies of the requests that ended.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "clock.h"
#include "log.h"
#include "macro.h"
#include "pyjson.h"
#include "server-private.h"
#include "timer.h"

/* Connections accepted per turn of the loop: a burst of clients does not hold up the rest. */
#define ACCEPTS_PER_TURN 16

static const enum api_transport transports[] = { API_UNIX, API_TCP, API_VSOCK };

union peer {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_vm vm;
	struct sockaddr_un un;
};

/*
 * A refused client, logged at most once a second: a guest that connects
 * without end would otherwise flood the journal, whose rate limit would
 * then drop statd's other lines with them.
 */
static void log_refused(struct api_server *srv, const char *who, const char *why)
{
	int64_t now = clock_now_ms();

	if (srv->refused_ms && now - srv->refused_ms < 1000) {
		srv->refused_quiet++;
		return;
	}
	if (srv->refused_quiet)
		log_warn("%s: refused, %s (and %u more refused since the last such line)", who, why,
			 srv->refused_quiet);
	else
		log_warn("%s: refused, %s", who, why);
	srv->refused_ms = now;
	srv->refused_quiet = 0;
}

/* Who is at FD: fills CALLER, *KEY and *VM; false when the caller is turned away (logged). */
static bool identify(struct api_server *srv, int fd, const union peer *peer,
		     struct api_caller *caller, uint32_t *key, const char **vm)
{
	const struct config *cfg = srv->ctx.cfg;
	struct ucred cred = { .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t len = sizeof(cred);
	char addr[INET_ADDRSTRLEN] = "?";
	const struct vm *v;

	switch (caller->transport) {
	case API_UNIX:
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
			log_warn("api: unix client: SO_PEERCRED: %m");
		caller->uid = cred.uid;
		caller->pid = cred.pid;
		*key = cred.uid;
		snprintf(caller->who, sizeof(caller->who), "api unix uid=%u pid=%d", (unsigned)cred.uid,
			 (int)cred.pid);
		return true;
	case API_TCP:
		*key = peer->in.sin_addr.s_addr;
		inet_ntop(AF_INET, &peer->in.sin_addr, addr, sizeof(addr));
		snprintf(caller->who, sizeof(caller->who), "api tcp %s:%u", addr,
			 ntohs(peer->in.sin_port));
		return true;
	case API_VSOCK:
		caller->cid = peer->vm.svm_cid;
		*key = caller->cid;
		if (!config_api_cid_allowed(&cfg->api, caller->cid)) {
			/* As the original: closed without a word. */
			snprintf(caller->who, sizeof(caller->who), "api vsock cid=%u", caller->cid);
			log_refused(srv, caller->who, "not in general.api.allowedCids");
			return false;
		}
		v = config_find_vm_by_cid(cfg, caller->cid);
		*vm = v ? v->name : NULL;
		snprintf(caller->who, sizeof(caller->who), "api vsock cid=%u%s%s", caller->cid,
			 v ? " vm=" : "", v ? v->name : "");
		return true;
	}
	return false;
}

/* Bounds on clients, so that nobody else waits (see API_CLIENTS_MAX). */
static bool room_for(struct api_server *srv, const struct api_caller *caller, uint32_t key)
{
	size_t same = 0;
	char why[64];

	if (srv->n_conns >= API_CLIENTS_MAX) {
		snprintf(why, sizeof(why), "%d clients already", API_CLIENTS_MAX);
		log_refused(srv, caller->who, why);
		return false;
	}
	for (struct api_conn *c = srv->conns; c; c = c->next)
		same += c->transport == caller->transport && c->peer == key;
	if (same >= API_CLIENTS_PER_PEER) {
		snprintf(why, sizeof(why), "%d clients from it already", API_CLIENTS_PER_PEER);
		log_refused(srv, caller->who, why);
		return false;
	}
	return true;
}

static void on_accept(struct source *src, uint32_t events)
{
	struct api_listener *l = container_of(src, struct api_listener, src);
	struct api_server *srv = l->srv;

	for (int i = 0; i < ACCEPTS_PER_TURN; i++) {
		struct api_caller caller = { .transport = l->transport };
		union peer peer = { 0 };
		socklen_t len = sizeof(peer);
		const char *vm = NULL;
		uint32_t key = 0;
		int fd, r;

		fd = accept4(l->fd, &peer.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("api: accept: %m");
			return;
		}
		if (!identify(srv, fd, &peer, &caller, &key, &vm) || !room_for(srv, &caller, key)) {
			close(fd);
			continue;
		}
		r = conn_new(srv, fd, &caller, key, vm);
		if (r < 0)
			log_err("%s: %s", caller.who, strerror(-r));
	}
}

/* A connection has whole lines to take up: in a batch, so statd's post hook follows. */
static void on_kick(struct source *src, uint32_t events)
{
	struct api_server *srv = container_of(src, struct api_server, kick_src);
	struct api_conn *c, *next;
	uint64_t n;

	if (read(srv->kickfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_debug("api: kick: %m");
	for (c = srv->conns; c; c = next) {
		next = c->next;	/* C may be dropped, only C */
		conn_resume(c);
	}
}

/* A pending call's deadline: the batch it ends makes the post hook poll it. */
static void on_timer(struct source *src, uint32_t events)
{
	struct api_server *srv = container_of(src, struct api_server, timer_src);
	uint64_t n;

	if (read(srv->timerfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_debug("api: timer: %m");
	srv->timer_ms = -1;	/* it fired: arm it again even for the same time */
}

/* Arm the timer for the earliest time a pending call asked for, or disarm it. */
static void arm_timer(struct api_server *srv)
{
	int64_t next = -1;

	for (struct api_conn *c = srv->conns; c; c = c->next) {
		int64_t t = c->pending ? api_call_deadline(c->pending) : -1;

		if (t >= 0 && (next < 0 || t < next))
			next = t;
	}
	if (srv->timerfd < 0 || next == srv->timer_ms)
		return;
	if (timer_arm(srv->timerfd, next, true) == 0)
		srv->timer_ms = next;
}

static void emit(json_object *note, void *userdata)
{
	struct api_server *srv = userdata;
	struct api_conn *c, *next;
	size_t len;
	char *buf = pyjson_dumps(note, &len);

	if (!buf) {
		log_err("api: a notification: out of memory");
		return;
	}
	buf[len] = '\n';	/* over the NUL: pyjson_dumps() leaves room for it */
	for (c = srv->conns; c; c = next) {
		next = c->next;
		if (c->subscribed)
			conn_send(c, buf, len + 1);
	}
	free(buf);
}

void api_server_post(struct api_server *srv)
{
	struct api_conn *c, *next;
	int r;

	if (!srv)
		return;
	/* Nobody listening: the history is not read, and a new subscriber starts afresh. */
	if (srv->n_subscribers == 0)
		srv->notifying = false;
	else if (!srv->notifying)
		srv->notifying = api_notify_start(&srv->ctx, &srv->last_id) == 0;
	if (srv->notifying) {
		r = api_notify_collect(&srv->ctx, &srv->last_id, emit, srv);
		if (r < 0)
			log_err("api: notifications: %s", strerror(-r));
	}
	/* After the notifications, as the original sends them before the request's "ok". */
	for (c = srv->conns; c; c = next) {
		next = c->next;
		conn_poll(c);
	}
	arm_timer(srv);
}

static int add_listener(struct api_server *srv, enum api_transport t, size_t slot)
{
	struct api_listener *l;
	int fd = listen_open(&srv->ctx.cfg->api, t, &srv->unix_path);
	int r;

	if (fd < 0)
		return 0;	/* logged; the other transports go on */
	l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return -ENOMEM;
	}
	*l = (struct api_listener){ .src.dispatch = on_accept, .srv = srv, .transport = t, .fd = fd };
	r = loop_add(srv->loop, fd, EPOLLIN, &l->src);
	if (r < 0) {
		close(fd);
		free(l);
		return r;
	}
	srv->listeners[slot] = l;
	return 0;
}

int api_server_new(struct loop *loop, const struct paths *paths, const struct config *cfg,
		   struct db *db, struct vmm *vmm, struct api_server **out)
{
	struct api_server *srv = calloc(1, sizeof(*srv));
	int r = 0;

	if (!srv)
		return -ENOMEM;
	srv->ctx = (struct api_ctx){ .paths = paths, .cfg = cfg, .db = db };
	srv->loop = loop;
	srv->vmm = vmm;
	srv->kick_src.dispatch = on_kick;
	srv->kickfd = -1;
	srv->timer_src.dispatch = on_timer;
	srv->timerfd = -1;
	srv->timer_ms = -1;
	*out = srv;
	if (cfg->api.disabled || !cfg->api.transports)
		return 0;
	srv->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv->kickfd < 0)
		return -errno;
	r = loop_add(loop, srv->kickfd, EPOLLIN, &srv->kick_src);
	if (r < 0)
		return r;
	srv->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (srv->timerfd < 0)
		return -errno;
	r = loop_add(loop, srv->timerfd, EPOLLIN, &srv->timer_src);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(transports); i++)
		if (cfg->api.transports & transports[i])
			r = add_listener(srv, transports[i], i);
	return r;
}

void api_server_set_config(struct api_server *srv, const struct config *cfg)
{
	if (srv)
		srv->ctx.cfg = cfg;
}

void api_server_free(struct api_server *srv)
{
	if (!srv)
		return;
	while (srv->conns)
		conn_free(srv->conns);
	for (size_t i = 0; i < ARRAY_SIZE(srv->listeners); i++) {
		if (!srv->listeners[i])
			continue;
		loop_del(srv->loop, srv->listeners[i]->fd);
		close(srv->listeners[i]->fd);
		free(srv->listeners[i]);
	}
	/* As the original: the socket goes with the server. */
	if (srv->unix_path)
		unlink(srv->unix_path);
	free(srv->unix_path);
	if (srv->kickfd >= 0) {
		loop_del(srv->loop, srv->kickfd);
		close(srv->kickfd);
	}
	if (srv->timerfd >= 0) {
		loop_del(srv->loop, srv->timerfd);
		close(srv->timerfd);
	}
	free(srv);
}
