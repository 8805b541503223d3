/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The QEMU backend's insides, shared by qemu.c (attach, detach, reconcile:
 * what is asked of QEMU) and qemu-conn.c (the QMP connection, its events
 * and deadlines, and the backend's life).
 */
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "qemu-args.h"
#include "loop.h"
#include "qemu-kinds.h"
#include "qemu-ports.h"
#include "qmp.h"

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
	bool shutdown;		/* QEMU said SHUTDOWN on this connection */
	/* No work left: the connection is kept until then for the next job (-1: working). */
	int64_t linger_due_ms;
	/* A PCI attach: the guest's devices with the same vendor:device, whose
	 * "host" is asked before device_add (same ids are not the same device). */
	char like[8][QEMU_ARGS_ID_MAX];
	size_t n_like, i_like;
};

/* End the job in flight with O: the backend's only way to answer. */
void qemu_done(struct vmm_backend *b, enum vmm_outcome o, int err, const char *detail);
/* A QMP failure that is not QEMU's answer: the VM is unreachable. */
void qemu_lost(struct vmm_backend *b, int err, const char *errstr);
void qemu_disconnect(struct vmm_backend *b);
void qemu_update_epoll(struct vmm_backend *b);
/* After a job's first command is queued: write it now if the connection is ready. */
void qemu_send(struct vmm_backend *b);
/* Connect to VM's QMP socket, trusted first; on failure the job is ended. 0 or -errno. */
int qemu_connect(struct vmm_backend *b, const struct config *cfg, const struct vm *vm);

int qemu_new(struct loop *loop, const char *vm_name, struct vmm_backend **out);
void qemu_free(struct vmm_backend *b);
int64_t qemu_deadline(const struct vmm_backend *b);
void qemu_timer(struct vmm_backend *b, int64_t now_ms);
void qemu_idle(struct vmm_backend *b);
