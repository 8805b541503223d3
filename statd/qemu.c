/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The QEMU backend: one QMP connection per VM while it has work. How each
 * device kind is added is a row of qemu-kinds.c; kinds on a hot-plug port
 * get one from qemu-ports.c and are gone only at DEVICE_DELETED.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "backend.h"
#include "log.h"
#include "loop.h"
#include "macro.h"
#include "qemu-args.h"
#include "qemu-kinds.h"
#include "qemu-ports.h"
#include "qmp.h"
#include "sockcheck.h"

/* One per connection: its source may outlive it for the rest of an epoll batch. */
struct qemu_conn {
	struct source src;
	struct vmm_backend *b;
};

struct vmm_backend {
	struct loop *loop;
	char *name;
	struct qmp *q;
	struct qemu_conn *conn;
	struct vmm_job *job;	/* in flight */
	const struct qemu_kind *kind;
	/* Built when the attach starts, from the config then in use. */
	struct json_object *add_args;
	struct qemu_ports *ports;	/* the ports this VM's devices hold, and the attach's choice */
	/* A detach waiting for DEVICE_DELETED: until DELETE_DUE_MS (-1: not waiting). */
	int64_t delete_due_ms;
	int delete_timeout_ms;
	bool deleted;		/* DEVICE_DELETED for the job's id came */
	bool in_qmp;		/* in a qmp_*() call, which must not be closed under it */
	bool shutdown;		/* QEMU said SHUTDOWN on this connection */
	bool idle;		/* the worker has no work: hang up after that call */
};

static void done(struct vmm_backend *b, enum vmm_outcome o, int err, const char *detail)
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
static void lost(struct vmm_backend *b, int err, const char *errstr)
{
	char note[512];

	snprintf(note, sizeof(note), "QMP to %s failed: %s", b->name, errstr ?: "unknown error");
	/* The VM went away under us: what was in it is not any more. */
	if (b->shutdown || err == -ECONNRESET)
		err = -ESHUTDOWN;
	done(b, VMM_UNREACHABLE, err, note);
}

static void disconnect(struct vmm_backend *b)
{
	if (!b->q)
		return;
	if (b->conn)
		loop_remove(b->loop, qmp_fd(b->q), &b->conn->src);
	b->conn = NULL;
	qmp_close(b->q);	/* a command in flight ends with -ECANCELED */
	b->q = NULL;
	b->shutdown = false;
}

static void update_epoll(struct vmm_backend *b)
{
	if (b->q && b->conn)
		loop_mod(b->loop, qmp_fd(b->q), qmp_wanted_events(b->q) | EPOLLIN, &b->conn->src);
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
		done(b, VMM_OK, 0, NULL);
	}
}

/* After a qmp_*() call that returned R: drop a dead connection, or one no longer needed. */
static void after_qmp(struct vmm_backend *b, int r)
{
	b->in_qmp = false;
	if (r < 0 || (b->idle && !b->job))
		disconnect(b);
	b->idle = false;
	update_epoll(b);
}

static void dispatch(struct source *s, uint32_t events)
{
	struct vmm_backend *b = container_of(s, struct qemu_conn, src)->b;

	b->in_qmp = true;
	after_qmp(b, qmp_dispatch(b->q, events));
}

static void release_conn(struct source *s)
{
	free(container_of(s, struct qemu_conn, src));
}

/*
 * Talk only to the VM meant: the socket path and then the peer must belong
 * to root or the VM's user (lib/sockcheck.h says why). 0 when trusted; a
 * refusal ends the job as VMM_REFUSED, recorded, and returns -EPERM.
 */
static int trust_vm(struct vmm_backend *b, const struct vm *vm, int fd)
{
	char reason[512], detail[700];
	int r = fd < 0 ? sockcheck_path(vm->socket, vm->uid, reason, sizeof(reason)) :
		sockcheck_peer(fd, vm->uid, reason, sizeof(reason));

	if (r != 1)
		return 0;	/* errors are qmp_open()'s to report */
	disconnect(b);
	snprintf(detail, sizeof(detail), "refused to talk to %s: %s", b->name, reason);
	done(b, VMM_REFUSED, -EPERM, detail);
	return -EPERM;
}

static int connect_vm(struct vmm_backend *b, const struct config *cfg, const struct vm *vm)
{
	struct qmp_options opts = { .on_event = on_event, .event_userdata = b };
	char note[512];
	int r;

	opts.timeout_ms = cfg->qmp_timeout_ms;
	if (trust_vm(b, vm, -1) < 0)
		return -EPERM;
	r = qmp_open(vm->socket, &opts, &b->q);
	if (r == 0 && trust_vm(b, vm, qmp_fd(b->q)) < 0)
		return -EPERM;
	if (r == 0 && !(b->conn = calloc(1, sizeof(*b->conn))))
		r = -ENOMEM;
	if (r == 0) {
		b->conn->b = b;
		b->conn->src.dispatch = dispatch;
		b->conn->src.release = release_conn;
		r = loop_add(b->loop, qmp_fd(b->q), qmp_wanted_events(b->q) | EPOLLIN, &b->conn->src);
	}
	if (r < 0) {
		disconnect(b);
		snprintf(note, sizeof(note), "VM %s is not running (%s: %s)", b->name, vm->socket,
			 strerror(-r));
		done(b, VMM_UNREACHABLE, r, note);
	}
	return r;
}

/* ---- attach ---- */

static void device_add(struct vmm_backend *b);

static void on_device_add(struct qmp *q, void *userdata, struct json_object *ret, int err,
			  const char *errstr)
{
	struct vmm_backend *b = userdata;

	if (err == 0 && b->kind->needs_port)
		qemu_ports_hold(b->ports, b->job->qdev_id);
	if (err == 0)
		done(b, VMM_OK, 0, b->job->qdev_id);
	else if (err == -EIO && b->kind->needs_port && qemu_args_port_occupied(errstr))
		/* Taken by a device our records do not know (-S hides it from query-pci). */
		device_add(b);
	else if (err == -EIO && b->kind->not_yet && strstr(errstr, b->kind->not_yet))
		done(b, VMM_NOT_YET, err, errstr);
	else if (err == -EIO)
		done(b, VMM_REFUSED, err, errstr);
	else
		lost(b, err, errstr);
}

static void device_add(struct vmm_backend *b)
{
	struct vmm_job *j = b->job;
	struct json_object *args = b->add_args;
	const char *port = NULL;

	b->add_args = NULL;
	if (b->kind->needs_port) {
		port = qemu_ports_next(b->ports);
		if (!port) {
			char note[256];

			snprintf(note, sizeof(note), "no free pcie-root-port in %s", b->name);
			done(b, VMM_NOT_YET, -ENOSPC, note);
			return;
		}
		args = b->kind->args(NULL, j, port);
		if (!args) {
			done(b, VMM_REFUSED, -EINVAL, "cannot build device_add arguments");
			return;
		}
	}
	if (vmm_job_attempt(j) < 0) {
		json_object_put(args);
		done(b, VMM_UNREACHABLE, -EAGAIN, "not recorded");
		return;
	}
	if (log_get_max_level() >= LOG_DEBUG)
		log_debug("%s: device_add %s to %s", j->label,
			  json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN), b->name);
	if (qmp_command(b->q, "device_add", args, on_device_add, b) < 0)
		lost(b, -ENOMEM, "cannot queue device_add");
}

static bool peripheral_has(struct json_object *list, const char *id)
{
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *name;

		if (json_object_object_get_ex(json_object_array_get_idx(list, i), "name", &name) &&
		    streq(json_object_get_string(name), id))
			return true;
	}
	return false;
}

static void on_query_pci(struct qmp *q, void *userdata, struct json_object *ret, int err,
			 const char *errstr)
{
	struct vmm_backend *b = userdata;
	struct vmm_job *j = b->job;
	int r;

	if (err < 0) {
		lost(b, err, errstr);
		return;
	}
	if (j->kind == DEV_PCI && qemu_args_has_device(ret, j->vendor_id, j->product_id)) {
		done(b, VMM_OK, 0, "already in the guest (same vendor:device in query-pci)");
		return;
	}
	r = qemu_ports_plan(b->ports, ret);
	if (r < 0)
		done(b, VMM_REFUSED, r, "cannot read query-pci");
	else
		device_add(b);
}

static void on_qom_list(struct qmp *q, void *userdata, struct json_object *ret, int err,
			const char *errstr)
{
	struct vmm_backend *b = userdata;

	if (err < 0)
		lost(b, err, errstr);
	else if (peripheral_has(ret, b->job->qdev_id))
		/* Attached already (a repeated event, or statd restarted mid-way): add nothing. */
		done(b, VMM_OK, 0, "already attached");
	else if (b->kind->needs_port && qmp_command(b->q, "query-pci", NULL, on_query_pci, b) < 0)
		lost(b, -ENOMEM, "cannot queue query-pci");
	else if (!b->kind->needs_port)
		device_add(b);
}

/* Every kind with a row: first look whether the VM has it already, then device_add. */
static void qemu_attach(struct vmm_backend *b, const struct config *cfg, const struct vm *vm,
			struct vmm_job *j)
{
	struct json_object *args;

	b->job = j;
	b->idle = false;
	b->kind = qemu_kind_get(j->kind);
	if (!b->kind->needs_port) {
		b->add_args = b->kind->args(vm, j, NULL);
		if (!b->add_args) {
			lost(b, -ENOMEM, "cannot build device_add arguments");
			return;
		}
		json_object_object_add(b->add_args, "driver", json_object_new_string(b->kind->driver));
		json_object_object_add(b->add_args, "id", json_object_new_string(j->qdev_id));
	}
	if (!b->q && connect_vm(b, cfg, vm) < 0)
		return;
	args = json_object_new_object();
	json_object_object_add(args, "path", json_object_new_string("/machine/peripheral"));
	if (qmp_command(b->q, "qom-list", args, on_qom_list, b) < 0)
		lost(b, -ENOMEM, "cannot queue qom-list");
	update_epoll(b);
}

/* ---- reconcile ---- */

static void on_inventory(struct qmp *q, void *userdata, struct json_object *ret, int err,
			 const char *errstr)
{
	struct vmm_backend *b = userdata;
	size_t n = json_object_is_type(ret, json_type_array) ? json_object_array_length(ret) : 0;
	_cleanup_free_ const char **ids = calloc(n ?: 1, sizeof(*ids));
	size_t k = 0;

	if (err < 0) {
		lost(b, err, errstr);
		return;
	}
	if (!ids) {
		lost(b, -ENOMEM, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *name, *type;
		struct json_object *o = json_object_array_get_idx(ret, i);

		/* Devices are child<...> properties; links and "type" are not. */
		if (json_object_object_get_ex(o, "name", &name) &&
		    json_object_object_get_ex(o, "type", &type) &&
		    !strncmp(json_object_get_string(type) ?: "", "child<", 6))
			ids[k++] = json_object_get_string(name);
	}
	/* A restarted VM: its ports are free again, except those still taken. */
	qemu_ports_keep_only(b->ports, ids, k);
	if (vmm_job_set_seen(b->job, ids, NULL, k) < 0)
		lost(b, -ENOMEM, "out of memory");
	else
		done(b, VMM_OK, 0, NULL);
}

static void qemu_list(struct vmm_backend *b, const struct config *cfg, const struct vm *vm,
		      struct vmm_job *j)
{
	struct json_object *args;

	b->job = j;
	b->idle = false;
	if (!b->q && connect_vm(b, cfg, vm) < 0)
		return;
	args = json_object_new_object();
	json_object_object_add(args, "path", json_object_new_string("/machine/peripheral"));
	if (qmp_command(b->q, "qom-list", args, on_inventory, b) < 0)
		lost(b, -ENOMEM, "cannot queue qom-list");
	update_epoll(b);
}

/* ---- detach ---- */

static void on_device_del(struct qmp *q, void *userdata, struct json_object *ret, int err,
			  const char *errstr)
{
	struct vmm_backend *b = userdata;

	if (err == 0 && b->kind->waits_deleted && !b->deleted) {
		/* The guest is asked to let go: done at DEVICE_DELETED, or timed out. */
		b->delete_due_ms = qmp_now_ms() + b->delete_timeout_ms;
		return;
	}
	if (err == -EIO && b->kind->waits_deleted && strstr(errstr, "in the process of unplug")) {
		/* Asked before (the connection was lost meanwhile): wait on. */
		b->delete_due_ms = qmp_now_ms() + b->delete_timeout_ms;
		return;
	}
	if (err == 0 || (err == -EIO && strstr(errstr, "not found")))
		qemu_ports_release(b->ports, b->job->qdev_id);
	if (err == 0)
		done(b, VMM_OK, 0, NULL);
	else if (err == -EIO && strstr(errstr, "not found"))
		done(b, VMM_OK, 0, "already gone from the VM");
	else if (err == -EIO)
		done(b, VMM_REFUSED, err, errstr);
	else
		lost(b, err, errstr);
}

static void qemu_detach(struct vmm_backend *b, const struct config *cfg, const struct vm *vm,
			struct vmm_job *j)
{
	struct json_object *args;

	b->job = j;
	b->idle = false;
	b->kind = qemu_kind_get(j->kind);
	b->delete_timeout_ms = cfg->device_deleted_timeout_ms;
	if (!b->q && connect_vm(b, cfg, vm) < 0)
		return;
	if (vmm_job_attempt(j) < 0) {
		done(b, VMM_UNREACHABLE, -EAGAIN, "not recorded");
		return;
	}
	args = json_object_new_object();
	json_object_object_add(args, "id", json_object_new_string(j->qdev_id));
	if (qmp_command(b->q, "device_del", args, on_device_del, b) < 0)
		lost(b, -ENOMEM, "cannot queue device_del");
	update_epoll(b);
}

/* ---- the ops ---- */

static int qemu_new(struct loop *loop, const char *vm_name, struct vmm_backend **out)
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
	*out = b;
	return 0;
}

static void qemu_free(struct vmm_backend *b)
{
	if (!b)
		return;
	disconnect(b);
	done(b, VMM_UNREACHABLE, -ECANCELED, "statd is stopping");
	qemu_ports_free(b->ports);
	free(b->name);
	free(b);
}

static int64_t qemu_deadline(const struct vmm_backend *b)
{
	int64_t d = b->q ? qmp_deadline_ms(b->q) : -1;

	if (b->delete_due_ms >= 0 && (d < 0 || b->delete_due_ms < d))
		d = b->delete_due_ms;
	return d;
}

static void qemu_timer(struct vmm_backend *b, int64_t now_ms)
{
	if (b->job && b->delete_due_ms >= 0 && b->delete_due_ms <= now_ms) {
		char note[256];

		/* Its port stays held: the device may be in the guest still. */
		snprintf(note, sizeof(note), "no DEVICE_DELETED for %s within %d ms",
			 b->job->qdev_id, b->delete_timeout_ms);
		done(b, VMM_TIMEOUT, -ETIMEDOUT, note);
	}
	if (!b->q)
		return;
	b->in_qmp = true;
	after_qmp(b, qmp_check_timeout(b->q, now_ms));
}

/* The socket is shared with other tools: do not sit on it. */
static void qemu_idle(struct vmm_backend *b)
{
	if (b->in_qmp)
		b->idle = true;
	else
		disconnect(b);
}

const struct vmm_backend_ops qemu_backend_ops = {
	.name = "qemu",
	.new = qemu_new,
	.free = qemu_free,
	/* One per row of qemu-kinds.c. */
	.attach = { [DEV_USB] = qemu_attach, [DEV_PCI] = qemu_attach, [DEV_EVDEV] = qemu_attach },
	.detach = { [DEV_USB] = qemu_detach, [DEV_PCI] = qemu_detach, [DEV_EVDEV] = qemu_detach },
	.list = qemu_list,
	.idle = qemu_idle,
	.deadline = qemu_deadline,
	.timer = qemu_timer,
};
