/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* The QEMU backend's table: one row per device kind, saying how QEMU takes it. */
#include <stdbool.h>

#include "backend.h"

struct json_object;

struct qemu_kind {
	const char *driver;	/* device_add's "driver" */
	/*
	 * device_add's arguments, driver and id included for a kind that needs
	 * a port (BUS: the port); without a port the caller adds them.
	 * NULL: cannot build them.
	 */
	struct json_object *(*args)(const struct vm *vm, const struct vmm_job *j, const char *bus);
	bool needs_port;	/* goes on a free pcie-root-port ("bus") */
	bool waits_deleted;	/* device_del is done only at DEVICE_DELETED */
	/* QEMU's error text meaning "not yet" (retried a while), or NULL. */
	const char *not_yet;
};

/* KIND's row; every kind has one (the ops table says which the backend takes). */
const struct qemu_kind *qemu_kind_get(enum dev_kind kind);
