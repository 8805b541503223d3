/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/*
 * Pure helpers for the QEMU backend's PCI and evdev rows: device_add
 * arguments, and reading `query-pci` for a free hot-plug port and for a
 * device the guest already has. No I/O.
 */

#define QEMU_ARGS_ID_MAX 128

/* QEMU's rule for a device id: a letter, then letters, digits, '-', '.', '_'. */
bool qemu_args_id_valid(const char *id);

/* "/dev/input/eventN" and nothing else: never mouseN, jsN or a symlink name. */
bool qemu_args_evdev_node_valid(const char *path);

/* {"driver":"vfio-pci","host":HOST,"id":ID,"bus":BUS,"addr":"0"}, or NULL for a bad HOST, ID or BUS. */
struct json_object *qemu_args_vfio_pci(const char *host, const char *id, const char *bus);

/* {"driver":"virtio-input-host-pci","evdev":EVDEV,"id":ID,"bus":BUS,"addr":"0"}, or NULL. */
struct json_object *qemu_args_evdev(const char *evdev, const char *id, const char *bus);

/*
 * The ids of the pcie-root-ports (1b36:000c) of a query-pci return value that
 * have an id, nothing behind them, and are not in BUSY (NULL-terminated; may
 * be NULL): the ports vhotplug has itself recorded as in use. A guest that
 * has not run its firmware yet (-S) shows nothing behind any port, so BUSY
 * and QEMU's error for an occupied port are what guard it then.
 * Fills up to MAX ids in QEMU's order; returns how many, or -EINVAL.
 */
int qemu_args_free_ports(struct json_object *query_pci, const char *const *busy,
			 char ports[][QEMU_ARGS_ID_MAX], size_t max);

/*
 * Whether any device in QUERY_PCI, behind bridges too, is VENDOR:DEVICE:
 * one the guest was given otherwise (its command line). Devices with
 * statd's own ids ("vhp-...") do not count: statd finds those by id.
 */
bool qemu_args_has_device(struct json_object *query_pci, uint16_t vendor, uint16_t device);
/*
 * The qdev ids of those devices that have one (up to MAX into IDS; how
 * many). Same ids are not the same device (an emulated e1000e is 8086:10d3
 * like a real 82574L): the caller asks each one's "host".
 */
size_t qemu_args_named_like(struct json_object *query_pci, uint16_t vendor, uint16_t device,
			    char ids[][QEMU_ARGS_ID_MAX], size_t max);

/*
 * QEMU's error descriptions that change what the caller does next:
 * the port is taken ("PCI: slot 0 function 0 not available for X, in use by
 * Y,id=Z": try the next port), and another process holds the evdev node
 * (EBUSY from its grab: record it, do not retry).
 */
bool qemu_args_port_occupied(const char *desc);
bool qemu_args_evdev_busy(const char *desc);
