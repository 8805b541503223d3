/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The line between statd's scheduler (sched/) and the VMM backends (qemu/,
 * crosvm/), in the manner of ndctl's struct ndctl_dimm_ops: the scheduler
 * picks one ops table per VM from a table indexed by the VM's type
 * (sched/queue.c), when it makes the VM's worker, and hands the backend one
 * job at a time. The backend does the VM I/O and says how the job ended
 * with vmm_job_done(), which only queues the answer: the scheduler acts on
 * it after the loop's batch, never on the backend's stack. It never writes to
 * the database and never retries on its own: recording outcomes, retries,
 * backoff and cancellation all belong to the scheduler.
 *
 * Host-side preparation of a device (vfio binding, USB authorization) is not
 * a backend's business either: it goes apart, with a prepare/restore pair.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct loop;

/* One attach or detach, as the backend sees it. All read-only to the backend. */
struct vmm_job {
	enum dev_kind kind;
	bool detach;
	bool reconcile;		/* list what the VM has (ops->list): the rest is unset */
	/* Asked before (claimed by a statd that died, or no answer in time): the
	 * VMM may have it already, and must not get it twice. */
	bool redo;
	/* Attach: the database has no row for QDEV_ID in this VM (none statd put
	 * there): device_add needs no look at the VM first. */
	bool absent;
	int64_t device_id;
	const char *vm;		/* the VM's name */
	const char *label;	/* for log messages */
	const char *sysname;	/* "1-3", "0000:00:14.0", "event5" */
	const char *devpath;	/* udev DEVPATH ("/devices/..."); "" when unknown */
	const char *devnode;	/* may be NULL */
	/* Attach: the id to give the device in the VM. Detach: the one recorded. */
	const char *qdev_id;
	int busnum, devnum;	/* USB, of the event; -1 when unknown */
	int vendor_id, product_id;
};

enum vmm_outcome {
	/* Attach: the device is in the VM (DETAIL: its id, or why nothing was
	 * added, e.g. "already attached"). Detach: it is out (DETAIL may say why). */
	VMM_OK,
	/* The VMM said no for good: DETAIL is its words. Recorded, not retried. */
	VMM_REFUSED,
	/* The VMM said "not yet" (device not visible to it yet, no free port):
	 * the scheduler retries the job shortly, within a budget, then records
	 * it as refused with DETAIL. */
	VMM_NOT_YET,
	/* No answer: not running, connection lost, timeout, hostile peer. ERR
	 * says which (-ECONNREFUSED, -ETIMEDOUT, ...; -ENOBUFS a flood, -EPROTO
	 * or -EMSGSIZE garbage: a poke does not cut such a peer's backoff short).
	 * The VM's whole queue waits and is retried with backoff. */
	VMM_UNREACHABLE,
	/* Detach: the VMM took the request, but the device did not leave within
	 * its bound (no DEVICE_DELETED). Recorded as detach_timeout; the
	 * attachment is kept, marked so, and no retry. */
	VMM_TIMEOUT,
};

/*
 * The backend's answer for J, exactly once per job it was given; it may come
 * from inside the attach/detach call itself. J must not be touched after.
 */
void vmm_job_done(struct vmm_job *j, enum vmm_outcome outcome, int err, const char *detail);
/*
 * The backend is about to ask the VMM to change the VM for J: the intent is
 * claimed, and the attachment written, before the VMM hears of it. < 0: it
 * could not be recorded; the backend must not ask, and ends J with
 * VMM_UNREACHABLE (the scheduler knows why and reads the intent again).
 */
int vmm_job_attempt(struct vmm_job *j);
/* Attach: the hot-plug port (QEMU bus) J goes on, recorded by the next vmm_job_attempt(). */
int vmm_job_set_bus(struct vmm_job *j, const char *bus);
/*
 * Attach: the VMM named the device itself (crosvm's port): KEY is recorded
 * as the attachment's id instead of J's qdev_id, and a detach gets it back
 * as its qdev_id. Call before vmm_job_done(VMM_OK). 0 or -ENOMEM.
 */
int vmm_job_set_key(struct vmm_job *j, const char *key);

/*
 * Reconcile: the ids of the N devices the VM has (QEMU: every named device
 * under /machine/peripheral; crosvm: its USB ports), and MODELS, NULL or
 * each device's "vvvv:pppp" where the VMM names devices itself (crosvm): a
 * device of ours whose key was never recorded is found by it. Copied. Call
 * before vmm_job_done(VMM_OK). 0 or -ENOMEM.
 */
int vmm_job_set_seen(struct vmm_job *j, const char *const *ids, const char *const *models,
		     size_t n);

/* A backend's state for one VM; each backend defines its own struct. */
struct vmm_backend;

/*
 * Start J on VM (the VM's entry in the config in use; CFG for the general
 * settings such as qmpTimeoutMs). Never blocks: the answer comes through
 * vmm_job_done().
 */
typedef void (*vmm_job_fn)(struct vmm_backend *b, const struct config *cfg, const struct vm *vm,
			   struct vmm_job *j);

struct vmm_backend_ops {
	const char *name;	/* "qemu": in messages such as "not supported by qemu backend" */
	/* Required. LOOP is where the backend watches its fds and lives as long as it. */
	int (*new)(struct loop *loop, const char *vm_name, struct vmm_backend **out);
	/* Required. Ends any job in flight with VMM_UNREACHABLE -ECANCELED. */
	void (*free)(struct vmm_backend *b);
	/* Per device kind; a NULL entry means the backend cannot do it, which
	 * the scheduler records as attach_failed/detach_failed, not a wait. */
	vmm_job_fn attach[DEV_KIND_MAX];
	vmm_job_fn detach[DEV_KIND_MAX];
	/* What the VM has, for a reconcile (vmm_job_set_seen()); NULL: it cannot be read. */
	vmm_job_fn list;
	/* Optional: a reconcile found QDEV_ID in the VM, recorded (by this statd
	 * or one before) on hot-plug port BUS: that port is not offered again. */
	void (*held)(struct vmm_backend *b, const char *qdev_id, const char *bus);
	/* Optional: the worker has no work left (called after each dispatch
	 * while so): let go of the VM, now or soon (its socket is shared with
	 * other tools). */
	void (*idle)(struct vmm_backend *b);
	/* Optional: earliest CLOCK_MONOTONIC ms at which timer() must run, or -1... */
	int64_t (*deadline)(const struct vmm_backend *b);
	/* ...and the call at that time (deadlines are the backend's, kept on the clock). */
	void (*timer)(struct vmm_backend *b, int64_t now_ms);
	/*
	 * Optional, 0 for the scheduler's defaults: how VMM_NOT_YET is retried
	 * (first delay, doubling up to the longest, for a budget in all).
	 */
	int not_yet_first_ms, not_yet_max_ms, not_yet_budget_ms;
};

extern const struct vmm_backend_ops qemu_backend_ops;
extern const struct vmm_backend_ops crosvm_backend_ops;
