/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The QEMU backend's QMP connection: opened, after the socket and then its
 * peer are trusted, when the VM has work; kept QEMU_LINGER_MS after the last
 * job, so that the next one (an unplug after a plug, a burst) does not pay for
 * a connection and its greeting again, then closed (the socket is shared with
 * other tools, and QEMU serves one client at a time). QEMU's events
 * (DEVICE_DELETED ends a detach, SHUTDOWN says the VM went) and the deadlines
 * are kept here.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "macro.h"
#include "qemu-private.h"
#include "sockcheck.h"

#define QEMU_LINGER_MS 500

void qemu_done(struct vmm_backend *b, enum vmm_outcome o, int err, const char *detail)
{
	struct vmm_job *j = b->job;

	b->job = NULL;
	json_object_put(b->add_args);
	b->add_args = NULL;
	b->delete_due_ms = -1;
	b->deleted = false;
	if (j)
		vmm_job_done(j, o, err, detail);
}

/* A QMP failure that is not QEMU's answer: the VM is unreachable. */
void qemu_lost(struct vmm_backend *b, int err, const char *errstr)
{
	char note[512];

	snprintf(note, sizeof(note), "QMP to %s failed: %s", b->name, errstr ?: "unknown error");
	/* The VM went away under us: what was in it is not any more. */
	if (b->shutdown || err == -ECONNRESET)
		err = -ESHUTDOWN;
	qemu_done(b, VMM_UNREACHABLE, err, note);
}

void qemu_disconnect(struct vmm_backend *b)
{
	if (!b->q)
		return;
	if (b->conn)
		loop_remove(b->loop, qmp_fd(b->q), &b->conn->src);
	b->conn = NULL;
	qmp_close(b->q);	/* a command in flight ends with -ECANCELED */
	b->q = NULL;
	b->shutdown = false;
	b->linger_due_ms = -1;
}

void qemu_update_epoll(struct vmm_backend *b)
{
	if (b->q && b->conn)
		loop_mod(b->loop, qmp_fd(b->q), qmp_wanted_events(b->q) | EPOLLIN, &b->conn->src);
}

static void qemu_after_qmp(struct vmm_backend *b, int r);

void qemu_send(struct vmm_backend *b)
{
	/* The socket takes it now: no trip round the loop for an EPOLLOUT first. */
	if (b->q)
		qemu_after_qmp(b, qmp_flush(b->q));
}

static bool deleted_is(struct json_object *data, const char *id)
{
	struct json_object *dev;

	/* Without "device": one of its parts (a bus, a sub-object) went, not it. */
	return json_object_object_get_ex(data, "device", &dev) &&
	       streq(json_object_get_string(dev), id);
}

static void on_event(struct qmp *q, void *userdata, const char *event, struct json_object *data)
{
	struct vmm_backend *b = userdata;
	struct vmm_job *j = b->job;

	log_debug("%s: QMP event %s %s", b->name, event,
		  data ? json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN) : "");
	if (streq(event, "SHUTDOWN"))
		b->shutdown = true;
	if (!j || !j->detach || !b->kind->waits_deleted || !streq(event, "DEVICE_DELETED") ||
	    !deleted_is(data, j->qdev_id))
		return;
	/* It may come before device_del's own answer (an unplug QEMU does at once). */
	b->deleted = true;
	if (b->delete_due_ms >= 0) {
		qemu_ports_release(b->ports, j->qdev_id);
		qemu_done(b, VMM_OK, 0, NULL);
	}
}

/* After a qmp_*() call that returned R: drop a dead connection. */
static void qemu_after_qmp(struct vmm_backend *b, int r)
{
	if (r < 0)
		qemu_disconnect(b);
	qemu_update_epoll(b);
}

static void dispatch(struct source *s, uint32_t events)
{
	struct vmm_backend *b = container_of(s, struct qemu_conn, src)->b;

	qemu_after_qmp(b, qmp_dispatch(b->q, events));
}

static void release_conn(struct source *s)
{
	free(container_of(s, struct qemu_conn, src));
}

/* A refusal ends the job as VMM_REFUSED, recorded; returns -EPERM. */
static int refuse(struct vmm_backend *b, const char *reason)
{
	char detail[700];

	qemu_disconnect(b);
	snprintf(detail, sizeof(detail), "refused to talk to %s: %s", b->name, reason);
	qemu_done(b, VMM_REFUSED, -EPERM, detail);
	return -EPERM;
}

/*
 * Talk only to the VM meant: every component of the socket's path and then
 * the peer must belong to root or the VM's user (lib/host/sockcheck.h says why),
 * and the connect goes through the descriptor checked, not the path again.
 */
int qemu_connect(struct vmm_backend *b, const struct config *cfg, const struct vm *vm)
{
	struct qmp_options opts = { .on_event = on_event, .event_userdata = b, .name = vm->socket };
	_cleanup_close_ int pfd = -1;
	char note[512], reason[512], via[64];
	int r;

	opts.timeout_ms = cfg->qmp_timeout_ms;
	r = sockcheck_open(vm->socket, vm->uid, &pfd, reason, sizeof(reason));
	if (r == 1)
		return refuse(b, reason);
	if (r == 0) {
		sockcheck_via(pfd, via, sizeof(via));
		r = qmp_open(via, &opts, &b->q);
	}
	if (r == 0 && sockcheck_peer(qmp_fd(b->q), vm->uid, reason, sizeof(reason)) == 1)
		return refuse(b, reason);
	if (r == 0 && !(b->conn = calloc(1, sizeof(*b->conn))))
		r = -ENOMEM;
	if (r == 0) {
		b->conn->b = b;
		b->conn->src.dispatch = dispatch;
		b->conn->src.release = release_conn;
		r = loop_add(b->loop, qmp_fd(b->q), qmp_wanted_events(b->q) | EPOLLIN, &b->conn->src);
	}
	if (r < 0) {
		qemu_disconnect(b);
		snprintf(note, sizeof(note), "VM %s is not running (%s: %s)", b->name, vm->socket,
			 strerror(-r));
		qemu_done(b, VMM_UNREACHABLE, r, note);
	}
	return r;
}

/* ---- life cycle ---- */

int qemu_new(struct loop *loop, const char *vm_name, struct vmm_backend **out)
{
	struct vmm_backend *b = calloc(1, sizeof(*b));

	if (!b || !(b->name = strdup(vm_name)) || qemu_ports_new(&b->ports) < 0) {
		if (b)
			free(b->name);
		free(b);
		return -ENOMEM;
	}
	b->loop = loop;
	b->delete_due_ms = -1;
	b->linger_due_ms = -1;
	*out = b;
	return 0;
}

void qemu_free(struct vmm_backend *b)
{
	if (!b)
		return;
	qemu_disconnect(b);
	qemu_done(b, VMM_UNREACHABLE, -ECANCELED, "statd is stopping");
	qemu_ports_free(b->ports);
	free(b->name);
	free(b);
}

int64_t qemu_deadline(const struct vmm_backend *b)
{
	int64_t d = b->q ? qmp_deadline_ms(b->q) : -1;

	if (b->delete_due_ms >= 0 && (d < 0 || b->delete_due_ms < d))
		d = b->delete_due_ms;
	if (b->q && b->linger_due_ms >= 0 && (d < 0 || b->linger_due_ms < d))
		d = b->linger_due_ms;
	return d;
}

void qemu_timer(struct vmm_backend *b, int64_t now_ms)
{
	if (b->job && b->delete_due_ms >= 0 && b->delete_due_ms <= now_ms) {
		char note[256];

		/* Its port stays held: the device may be in the guest still. */
		snprintf(note, sizeof(note), "no DEVICE_DELETED for %s within %d ms",
			 b->job->qdev_id, b->delete_timeout_ms);
		qemu_done(b, VMM_TIMEOUT, -ETIMEDOUT, note);
	}
	if (!b->job && b->linger_due_ms >= 0 && b->linger_due_ms <= now_ms)
		qemu_disconnect(b);
	if (!b->q)
		return;
	qemu_after_qmp(b, qmp_check_timeout(b->q, now_ms));
}

/* The socket is shared with other tools: let go of it soon, not at once. */
void qemu_idle(struct vmm_backend *b)
{
	if (b->q && !b->job && b->linger_due_ms < 0)
		b->linger_due_ms = clock_now_ms() + QEMU_LINGER_MS;
}

