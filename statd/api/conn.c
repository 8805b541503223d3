/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One API client: what it sends cut into lines, each line one request for
 * lib/api, the answers sent in request order as the socket takes them. A
 * request whose answer is pending holds the lines after it (and the reading)
 * until it ends; other clients go on meanwhile. Nothing here blocks: a
 * client that sends too long a line or reads too little is dropped.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "pyjson.h"
#include "server-private.h"
#include "vmm.h"

/* One read a turn: a 10 MiB line takes a few turns to pass API_LINE_MAX, others get theirs. */
#define READ_CHUNK (16 * 1024)

static bool reading(const struct api_conn *c)
{
	return !c->gone && !c->pending && !c->resume && !c->eof;
}

/* Watch for what C can do now: read when no request holds it, write while output waits. */
static void watch(struct api_conn *c)
{
	uint32_t want = (reading(c) ? EPOLLIN : 0) | (outq_empty(&c->out) ? 0 : EPOLLOUT);

	if (!c->gone && want != c->events && loop_mod(c->srv->loop, c->fd, want, &c->src) == 0)
		c->events = want;
}

static void unlink_conn(struct api_conn *c)
{
	struct api_server *srv = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	srv->n_conns--;
	if (c->subscribed)
		srv->n_subscribers--;
	api_call_free(c->pending);
	c->pending = NULL;
	c->gone = true;
}

static void release(struct source *src)
{
	struct api_conn *c = container_of(src, struct api_conn, src);

	close(c->fd);
	free(c->in);
	outq_free(&c->out);
	free(c->vm);
	free(c);
}

/* Drop C: out of the server at once, its memory after the loop's batch. */
static void drop(struct api_conn *c)
{
	if (c->gone)
		return;
	unlink_conn(c);
	loop_remove(c->srv->loop, c->fd, &c->src);
}

void conn_free(struct api_conn *c)
{
	unlink_conn(c);
	release(&c->src);
}

/* A client that said all it will (shutdown) is closed once everything is answered and sent. */
static void finish_if_done(struct api_conn *c)
{
	if (c->eof && !c->gone && !c->pending && !c->resume && outq_empty(&c->out)) {
		log_debug("%s: done", c->caller.who);
		drop(c);
	}
}

/* Lines wait in the input: take them up at the kick, a turn of the loop away. */
static void kick(struct api_conn *c)
{
	uint64_t one = 1;

	c->resume = true;
	if (write(c->srv->kickfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_err("api: kick: %m");	/* cannot fail on a counter far from its maximum */
}

void conn_send(struct api_conn *c, const char *buf, size_t len)
{
	int r;

	if (c->gone)
		return;
	r = outq_send(&c->out, c->fd, buf, len, API_OUT_MAX);
	if (r == -ENOBUFS)
		log_warn("%s does not read what it is sent (over %d KiB waiting): dropped",
			 c->caller.who, API_OUT_MAX / 1024);
	else if (r < 0)
		log_debug("%s: %s, closed", c->caller.who, strerror(-r));
	if (r < 0)
		drop(c);
	else
		watch(c);
}

static void flush(struct api_conn *c)
{
	int r = outq_flush(&c->out, c->fd);

	if (r == -EAGAIN)
		return;
	if (r < 0) {
		log_debug("%s: %s, closed", c->caller.who, strerror(-r));
		drop(c);
		return;
	}
	watch(c);
	finish_if_done(c);
}

static void send_reply(struct api_conn *c, json_object *reply)
{
	size_t len;
	char *buf = pyjson_dumps(reply, &len);

	if (!buf) {
		log_err("%s: out of memory: dropped", c->caller.who);
		drop(c);
		return;
	}
	buf[len] = '\n';	/* over the NUL: pyjson_dumps() leaves room for it */
	conn_send(c, buf, len + 1);
	free(buf);
}

static void subscribe(struct api_conn *c)
{
	struct api_server *srv = c->srv;
	int r;

	c->subscribed = true;
	srv->n_subscribers++;
	if (srv->notifying)
		return;
	r = api_notify_start(&srv->ctx, &srv->last_id);
	if (r < 0)
		log_err("api: notifications: %s", strerror(-r));
	srv->notifying = r == 0;
}

/* A JSON object per line; NULL for anything else, *VALID false when it is not JSON at all. */
static json_object *parse_line(const char *line, size_t len, bool *valid)
{
	json_tokener *tok = json_tokener_new();
	json_object *obj = NULL;

	*valid = false;
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(obj);
		obj = NULL;
	} else {
		*valid = true;
	}
	json_tokener_free(tok);
	if (obj && !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

static void handle_line(struct api_conn *c, const char *line, size_t len)
{
	struct api_answer ans;
	json_object *req;
	bool valid;
	int r;

	if (len && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return;
	req = parse_line(line, len, &valid);
	if (!valid) {
		/*
		 * As the original: logged, and no reply. Not the text: it is the
		 * client's. A warning once per client, so it cannot flood the journal.
		 */
		log_at(c->bad_lines++ ? LOG_DEBUG : LOG_WARNING,
		       "%s: a line of %zu bytes that is not JSON: ignored", c->caller.who, len);
		return;
	}
	r = api_request(&c->srv->ctx, &c->caller, req, &ans);
	json_object_put(req);
	if (r < 0) {
		log_err("%s: request failed: %s; dropped", c->caller.who, strerror(-r));
		drop(c);
		return;
	}
	if (ans.queued)
		vmm_poke(c->srv->vmm);
	if (ans.subscribe && !c->subscribed)
		subscribe(c);
	if (ans.pending)
		c->pending = ans.pending;
	if (ans.reply) {
		if (!ans.pending)
			send_reply(c, ans.reply);
		json_object_put(ans.reply);
	}
}

/* Answer the whole lines in C's input, a turn's worth; the rest at the next kick. */
static void process(struct api_conn *c)
{
	size_t start = 0;

	if (!c->in) {
		watch(c);
		finish_if_done(c);
		return;
	}
	for (int n = 0; !c->gone && !c->pending && n < API_LINES_PER_TURN; n++) {
		char *nl = memchr(c->in + start, '\n', c->in_len - start);

		if (!nl)
			break;
		handle_line(c, c->in + start, (size_t)(nl - (c->in + start)));
		start = (size_t)(nl - c->in) + 1;
	}
	if (c->gone)
		return;
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->in_len && memchr(c->in, '\n', c->in_len)) {
		if (!c->pending)
			kick(c);
	} else if (c->in_len > API_LINE_MAX) {
		log_warn("%s sent a line longer than %d KiB: dropped", c->caller.who,
			 API_LINE_MAX / 1024);
		drop(c);
		return;
	} else if (c->eof) {
		c->in_len = 0;	/* a last line without its newline: the original drops it too */
	}
	if (c->in_len == 0) {
		free(c->in);
		c->in = NULL;
	}
	watch(c);
	finish_if_done(c);
}

static void read_some(struct api_conn *c)
{
	size_t room = API_LINE_MAX + 1 - c->in_len;
	ssize_t n;
	char *in;

	if (room > READ_CHUNK)
		room = READ_CHUNK;
	in = realloc(c->in, c->in_len + room);
	if (!in) {
		log_err("%s: out of memory: dropped", c->caller.who);
		drop(c);
		return;
	}
	c->in = in;
	n = recv(c->fd, c->in + c->in_len, room, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		log_debug("%s: %m, closed", c->caller.who);
		drop(c);
		return;
	}
	if (n == 0)
		c->eof = true;
	c->in_len += (size_t)n;
	process(c);
}

static void dispatch(struct source *src, uint32_t events)
{
	struct api_conn *c = container_of(src, struct api_conn, src);

	if (events & EPOLLOUT)
		flush(c);
	if (reading(c) && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		read_some(c);
	/* Gone for good, with nothing left to read: nobody would get the answers. */
	if (!c->gone && !reading(c) && (events & (EPOLLHUP | EPOLLERR))) {
		log_debug("%s: hung up", c->caller.who);
		drop(c);
	}
}

void conn_resume(struct api_conn *c)
{
	if (!c->resume)
		return;
	c->resume = false;
	process(c);
}

void conn_poll(struct api_conn *c)
{
	json_object *reply = NULL;
	int r;

	if (!c->pending)
		return;
	r = api_call_poll(c->pending, &c->srv->ctx, &reply);
	if (r > 0)
		return;
	api_call_free(c->pending);
	c->pending = NULL;
	if (r < 0) {
		log_err("%s: request failed: %s; dropped", c->caller.who, strerror(-r));
		drop(c);
		return;
	}
	if (reply) {
		send_reply(c, reply);
		json_object_put(reply);
	}
	if (c->gone)
		return;
	/* The lines behind it, at the next turn: a reply never re-enters a request here. */
	if (c->in_len && memchr(c->in, '\n', c->in_len))
		kick(c);
	watch(c);
	finish_if_done(c);
}

int conn_new(struct api_server *srv, int fd, const struct api_caller *caller, uint32_t peer,
	     const char *vm)
{
	struct api_conn *c = calloc(1, sizeof(*c));
	int r;

	if (!c || (vm && !(c->vm = strdup(vm)))) {
		free(c);
		close(fd);
		return -ENOMEM;
	}
	c->src.dispatch = dispatch;
	c->src.release = release;
	c->srv = srv;
	c->fd = fd;
	c->transport = caller->transport;
	c->peer = peer;
	c->caller = *caller;
	c->caller.vm = c->vm;
	c->events = EPOLLIN;
	r = loop_add(srv->loop, fd, EPOLLIN, &c->src);
	if (r < 0) {
		release(&c->src);
		return r;
	}
	c->next = srv->conns;
	if (c->next)
		c->next->prev = c;
	srv->conns = c;
	srv->n_conns++;
	log_debug("%s: connected", c->caller.who);
	return 0;
}
