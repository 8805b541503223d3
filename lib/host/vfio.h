/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Host side of PCI passthrough: every function of the device's IOMMU group is
 * handed to vfio-pci before QEMU may open it, and given back afterwards.
 *
 * The order is the caller's contract: vfio_group_plan() writes nothing and
 * reports each member's current driver, which the caller records (database)
 * before any vfio_bind_member(); vfio_restore_member() takes that record.
 */

#define VFIO_GROUP_MAX 32
#define VFIO_ADDR_MAX 16	/* "dddd:bb:dd.f" */
#define VFIO_DRIVER_MAX 64

struct vfio_member {
	char addr[VFIO_ADDR_MAX];
	char driver[VFIO_DRIVER_MAX];	/* "" when no driver is bound */
	bool bridge;			/* class 0x0604xx: the kernel keeps it, we skip it */
};

struct vfio_group {
	int group;			/* /sys/kernel/iommu_groups/GROUP */
	size_t n;
	struct vfio_member members[VFIO_GROUP_MAX];	/* sorted by address */
};

/* "dddd:bb:dd.f" in lower- or upper-case hex, nothing else. */
bool vfio_addr_valid(const char *addr);

/*
 * The IOMMU group of ADDR and its members with their drivers. Writes nothing.
 * -EINVAL for a malformed address, -ENOENT for no such device, -ENODEV when
 * the device has no IOMMU group (no IOMMU: passthrough is impossible),
 * -E2BIG past VFIO_GROUP_MAX members.
 */
int vfio_group_plan(const char *addr, struct vfio_group *g);

/*
 * Give ADDR to vfio-pci: driver_override=vfio-pci (read back), unbind from
 * the current driver if any other, then ask the PCI core to probe it again.
 * Nothing to do when vfio-pci has it already. Bridges are refused (-EPERM).
 */
int vfio_bind_member(const char *addr);

/*
 * Give ADDR back: clear driver_override, unbind from vfio-pci, and bind it to
 * DRIVER (as recorded by the plan) or, when DRIVER is NULL or "", let the PCI
 * core probe for one. A device some other driver has taken meanwhile is left
 * with it (only the override is cleared).
 */
int vfio_restore_member(const char *addr, const char *driver);

/* The directory of the group nodes: $VHOTPLUG_DEV_ROOT, umockdev's testbed, or /dev; + /vfio. */
int vfio_dev_dir(char *buf, size_t size);
/* The node QEMU opens: vfio_dev_dir() + /GROUP. */
int vfio_dev_path(int group, char *buf, size_t size);

/* Whether vfio_dev_path(GROUP) exists yet (no wait: the caller's loop waits). */
bool vfio_dev_ready(int group);
