/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>

#include "config.h"
#include "device.h"

/*
 * pciIommuSkipIfShared: the functions of DEV's IOMMU group (bridges aside)
 * that CFG's rules do not give to SET, as "ADDR, ADDR" into BUF. A function
 * some other rule set takes first counts as not given to SET.
 * 0: none (DEV may go), 1: some, -errno: the group cannot be read (no IOMMU,
 * no such device: statd will say so when it prepares the attach).
 */
int pcigroup_unmatched(const struct config *cfg, const struct ruleset *set,
		       const struct device *dev, char *buf, size_t size);
