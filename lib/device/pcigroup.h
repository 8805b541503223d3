/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>

#include "config.h"
#include "device.h"

/*
 * The other functions of a PCI device's IOMMU group, as the rule-set flags
 * pciIommuSkipIfShared and pciIommuAddAll need them. Reads sysfs only.
 */

/* MEMBER is NULL when sysfs cannot describe the function at ADDR. */
typedef int (*pcigroup_fn)(void *userdata, const char *addr, const struct device *member);

/*
 * Call FN for each function of DEV's IOMMU group, in address order, that is
 * neither DEV nor a bridge (the kernel keeps those) and that CFG's rules do
 * not give to SET by themselves: those have their own events, as DEV has.
 * A function some other rule set takes first counts as not given to SET.
 * Stops at FN's first error and returns it; -errno when the group cannot be
 * read (no IOMMU, no such device: statd will say so when it prepares the
 * attach).
 */
int pcigroup_foreach_other(const struct config *cfg, const struct ruleset *set,
			   const struct device *dev, pcigroup_fn fn, void *userdata);

/*
 * pciIommuSkipIfShared: pcigroup_foreach_other()'s addresses as
 * "ADDR, ADDR" into BUF. 0: none (DEV may go), 1: some, -errno as there.
 */
int pcigroup_unmatched(const struct config *cfg, const struct ruleset *set,
		       const struct device *dev, char *buf, size_t size);
