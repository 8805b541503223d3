/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The QEMU backend: one QMP connection per VM while it has work, and a
 * moment after (qemu-conn.c). How each device kind is added is a row of
 * qemu-kinds.c; kinds on a hot-plug port get one from qemu-ports.c and are
 * gone only at DEVICE_DELETED. A plain attach is one command (device_add);
 * QEMU is looked at first (qom-list) only when the database cannot say the
 * id is not there.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "clock.h"
#include "log.h"
#include "macro.h"
#include "qemu-args.h"
#include "qemu-private.h"

/* ---- attach ---- */

static void device_add(struct vmm_backend *b);

/* QEMU has a device named ID already: "Duplicate device ID 'ID'" (7.2), "Duplicate ID 'ID' for device". */
static bool duplicate_id(const char *desc, const char *id)
{
	char quoted[QEMU_ARGS_ID_MAX + 3];

	if (!desc || (size_t)snprintf(quoted, sizeof(quoted), "'%s'", id) >= sizeof(quoted))
		return false;
	return strstr(desc, "Duplicate ") && strstr(desc, quoted);
}

static void on_device_add(struct qmp *q, void *userdata, struct json_object *ret, int err,
			  const char *errstr)
{
	struct vmm_backend *b = userdata;

	if (err == 0 && b->kind->needs_port)
		qemu_ports_hold(b->ports, b->job->qdev_id);
	if (err == 0)
		qemu_done(b, VMM_OK, 0, b->job->qdev_id);
	else if (err == -EIO && duplicate_id(errstr, b->job->qdev_id))
		/* No qom-list was asked: a repeated event, or a device our records lost. */
		qemu_done(b, VMM_OK, 0, "already attached");
	else if (err == -EIO && b->kind->needs_port && qemu_args_port_occupied(errstr))
		/* Taken by a device our records do not know (-S hides it from query-pci). */
		device_add(b);
	else if (err == -EIO && b->kind->not_yet && strstr(errstr, b->kind->not_yet))
		qemu_done(b, VMM_NOT_YET, err, errstr);
	else if (err == -EIO)
		qemu_done(b, VMM_REFUSED, err, errstr);
	else
		qemu_lost(b, err, errstr);
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
			qemu_done(b, VMM_NOT_YET, -ENOSPC, note);
			return;
		}
		args = b->kind->args(NULL, j, port);
		if (!args) {
			qemu_done(b, VMM_REFUSED, -EINVAL, "cannot build device_add arguments");
			return;
		}
	}
	if (vmm_job_set_bus(j, port) < 0 || vmm_job_attempt(j) < 0) {
		json_object_put(args);
		qemu_done(b, VMM_UNREACHABLE, -EAGAIN, "not recorded");
		return;
	}
	if (log_get_max_level() >= LOG_DEBUG)
		log_debug("%s: device_add %s to %s", j->label,
			  json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN), b->name);
	if (qmp_command(b->q, "device_add", args, on_device_add, b) < 0)
		qemu_lost(b, -ENOMEM, "cannot queue device_add");
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

static void ask_host(struct vmm_backend *b);

/* The "host" of a device with the job's vendor:device: a vfio-pci of this very function? */
static void on_host(struct qmp *q, void *userdata, struct json_object *ret, int err,
		    const char *errstr)
{
	struct vmm_backend *b = userdata;

	if (err < 0 && err != -EIO) {
		qemu_lost(b, err, errstr);
		return;
	}
	/* -EIO: QEMU says it has no "host" (an emulated device): not ours to worry about. */
	if (err == 0 && streq(json_object_get_string(ret) ?: "", b->job->sysname)) {
		qemu_done(b, VMM_OK, 0, "already in the guest (a vfio-pci device of this host address)");
		return;
	}
	b->i_like++;
	ask_host(b);
}

/* Ask the next device like the job's for its host address; none left: device_add. */
static void ask_host(struct vmm_backend *b)
{
	struct json_object *args;
	char path[sizeof(b->like[0]) + 32];

	if (b->i_like >= b->n_like) {
		device_add(b);
		return;
	}
	snprintf(path, sizeof(path), "/machine/peripheral/%s", b->like[b->i_like]);
	args = json_object_new_object();
	json_object_object_add(args, "path", json_object_new_string(path));
	json_object_object_add(args, "property", json_object_new_string("host"));
	if (qmp_command(b->q, "qom-get", args, on_host, b) < 0)
		qemu_lost(b, -ENOMEM, "cannot queue qom-get");
}

static void on_query_pci(struct qmp *q, void *userdata, struct json_object *ret, int err,
			 const char *errstr)
{
	struct vmm_backend *b = userdata;
	struct vmm_job *j = b->job;
	int r;

	if (err < 0) {
		qemu_lost(b, err, errstr);
		return;
	}
	r = qemu_ports_plan(b->ports, ret);
	if (r < 0) {
		qemu_done(b, VMM_REFUSED, r, "cannot read query-pci");
		return;
	}
	/* Given on QEMU's command line, maybe: the same ids alone prove nothing. */
	b->n_like = j->kind == DEV_PCI ?
		    qemu_args_named_like(ret, j->vendor_id, j->product_id, b->like,
					 ARRAY_SIZE(b->like)) : 0;
	b->i_like = 0;
	ask_host(b);
}

static void on_ready(struct qmp *q, void *userdata, struct json_object *ret, int err,
		     const char *errstr)
{
	struct vmm_backend *b = userdata;

	if (err < 0)
		qemu_lost(b, err, errstr);
	else
		device_add(b);
}

static void on_qom_list(struct qmp *q, void *userdata, struct json_object *ret, int err,
			const char *errstr)
{
	struct vmm_backend *b = userdata;

	if (err < 0)
		qemu_lost(b, err, errstr);
	else if (peripheral_has(ret, b->job->qdev_id))
		/* Attached already (a repeated event, or statd restarted mid-way): add nothing. */
		qemu_done(b, VMM_OK, 0, "already attached");
	else if (b->kind->needs_port && qmp_command(b->q, "query-pci", NULL, on_query_pci, b) < 0)
		qemu_lost(b, -ENOMEM, "cannot queue query-pci");
	else if (!b->kind->needs_port)
		device_add(b);
}

/* Connected if need be, the VM's named devices (qom-list) go to CB. */
static void ask_peripherals(struct vmm_backend *b, const struct config *cfg, const struct vm *vm,
			    qmp_reply_fn cb)
{
	struct json_object *args;

	if (!b->q && qemu_connect(b, cfg, vm) < 0)
		return;
	args = json_object_new_object();
	json_object_object_add(args, "path", json_object_new_string("/machine/peripheral"));
	if (qmp_command(b->q, "qom-list", args, cb, b) < 0)
		qemu_lost(b, -ENOMEM, "cannot queue qom-list");
	qemu_send(b);
}

/*
 * Every kind with a row: device_add, QEMU's "Duplicate ID" meaning it is there
 * already. A redone job (the VM may have it from a statd that died), an id
 * the database has a row for (a repeated event: not added twice) and a kind
 * on a hot-plug port (whose port must be learnt from query-pci first) look at
 * the VM's devices before.
 */
static void qemu_attach(struct vmm_backend *b, const struct config *cfg, const struct vm *vm,
			struct vmm_job *j)
{
	b->job = j;
	b->linger_due_ms = -1;
	b->kind = qemu_kind_get(j->kind);
	if (!b->kind->needs_port) {
		b->add_args = b->kind->args(vm, j, NULL);
		if (!b->add_args) {
			qemu_lost(b, -ENOMEM, "cannot build device_add arguments");
			return;
		}
		json_object_object_add(b->add_args, "driver", json_object_new_string(b->kind->driver));
		json_object_object_add(b->add_args, "id", json_object_new_string(j->qdev_id));
	}
	if (j->redo || !j->absent || b->kind->needs_port) {
		ask_peripherals(b, cfg, vm, on_qom_list);
		return;
	}
	if (!b->q && qemu_connect(b, cfg, vm) < 0)
		return;
	/* Claimed only once QEMU can be asked: a VM that does not answer gets no row. */
	if (qmp_when_ready(b->q, on_ready, b) < 0)
		qemu_lost(b, -ENOMEM, "cannot queue device_add");
	qemu_send(b);
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
		qemu_lost(b, err, errstr);
		return;
	}
	if (!ids) {
		qemu_lost(b, -ENOMEM, "out of memory");
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
		qemu_lost(b, -ENOMEM, "out of memory");
	else
		qemu_done(b, VMM_OK, 0, NULL);
}

static void qemu_held(struct vmm_backend *b, const char *qdev_id, const char *bus)
{
	qemu_ports_hold_at(b->ports, qdev_id, bus);
}

static void qemu_list(struct vmm_backend *b, const struct config *cfg, const struct vm *vm,
		      struct vmm_job *j)
{
	b->job = j;
	b->linger_due_ms = -1;
	ask_peripherals(b, cfg, vm, on_inventory);
}

/* ---- detach ---- */

static void on_device_del(struct qmp *q, void *userdata, struct json_object *ret, int err,
			  const char *errstr)
{
	struct vmm_backend *b = userdata;

	if (err == 0 && b->kind->waits_deleted && !b->deleted) {
		/* The guest is asked to let go: done at DEVICE_DELETED, or timed out. */
		b->delete_due_ms = clock_now_ms() + b->delete_timeout_ms;
		return;
	}
	if (err == -EIO && b->kind->waits_deleted && strstr(errstr, "in the process of unplug")) {
		/* Asked before (the connection was lost meanwhile): wait on. */
		b->delete_due_ms = clock_now_ms() + b->delete_timeout_ms;
		return;
	}
	if (err == 0 || (err == -EIO && strstr(errstr, "not found")))
		qemu_ports_release(b->ports, b->job->qdev_id);
	if (err == 0)
		qemu_done(b, VMM_OK, 0, NULL);
	else if (err == -EIO && strstr(errstr, "not found"))
		qemu_done(b, VMM_OK, 0, "already gone from the VM");
	else if (err == -EIO)
		qemu_done(b, VMM_REFUSED, err, errstr);
	else
		qemu_lost(b, err, errstr);
}

static void qemu_detach(struct vmm_backend *b, const struct config *cfg, const struct vm *vm,
			struct vmm_job *j)
{
	struct json_object *args;

	b->job = j;
	b->linger_due_ms = -1;
	b->kind = qemu_kind_get(j->kind);
	b->delete_timeout_ms = cfg->device_deleted_timeout_ms;
	if (!b->q && qemu_connect(b, cfg, vm) < 0)
		return;
	if (vmm_job_attempt(j) < 0) {
		qemu_done(b, VMM_UNREACHABLE, -EAGAIN, "not recorded");
		return;
	}
	args = json_object_new_object();
	json_object_object_add(args, "id", json_object_new_string(j->qdev_id));
	if (qmp_command(b->q, "device_del", args, on_device_del, b) < 0)
		qemu_lost(b, -ENOMEM, "cannot queue device_del");
	qemu_send(b);
}

const struct vmm_backend_ops qemu_backend_ops = {
	.name = "qemu",
	.new = qemu_new,
	.free = qemu_free,
	/* One per row of qemu-kinds.c. */
	.attach = { [DEV_USB] = qemu_attach, [DEV_PCI] = qemu_attach, [DEV_EVDEV] = qemu_attach },
	.detach = { [DEV_USB] = qemu_detach, [DEV_PCI] = qemu_detach, [DEV_EVDEV] = qemu_detach },
	.list = qemu_list,
	.held = qemu_held,
	.idle = qemu_idle,
	.deadline = qemu_deadline,
	.timer = qemu_timer,
};
