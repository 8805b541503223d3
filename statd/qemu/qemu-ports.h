/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The QEMU backend's hot-plug ports of one VM: which pcie-root-port each of
 * the devices it added sits on, and the ports an attach in flight may try.
 *
 * A paused guest (-S, firmware not run yet) shows nothing behind any port in
 * query-pci, so the ports our own devices hold count as busy; a port taken by
 * something else is found by QEMU's "not available" error, and the next one
 * is tried. The record is kept in memory, pruned and completed at each
 * reconcile from what QEMU lists and the ports the attachments recorded, so
 * a restarted statd knows them again once its reconcile at start is done.
 */
#include <stddef.h>

struct json_object;
struct qemu_ports;

int qemu_ports_new(struct qemu_ports **out);
void qemu_ports_free(struct qemu_ports *p);

/* From a query-pci answer: the ports the attach in flight tries, in QEMU's order. 0 or -errno. */
int qemu_ports_plan(struct qemu_ports *p, struct json_object *query_pci);
/* The next of those, or NULL when none is left. Valid until the next call. */
const char *qemu_ports_next(struct qemu_ports *p);
/* QDEV_ID went on the port qemu_ports_next() gave last. */
void qemu_ports_hold(struct qemu_ports *p, const char *qdev_id);
/* QDEV_ID is on PORT (as recorded in the database). */
void qemu_ports_hold_at(struct qemu_ports *p, const char *qdev_id, const char *port);
/* QDEV_ID left its port (nothing when it held none). */
void qemu_ports_release(struct qemu_ports *p, const char *qdev_id);
/* The VM has the devices IDS (N of them) and no others: the ports the rest held are free. */
void qemu_ports_keep_only(struct qemu_ports *p, const char *const *ids, size_t n);
