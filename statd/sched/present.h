/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "config.h"
#include "device.h"
#include "match.h"

/* DEV is plugged in now; M says which rule set takes it (M->set NULL: none). */
typedef int (*present_fn)(void *userdata, const struct device *dev, const struct match_result *m);
/*
 * Call FN for every USB device, PCI function and input event node udev
 * knows now, with CFG's decision on it; stops at FN's error. Used by
 * --attach-connected and by reconcile, which wants what is really there
 * rather than what the database last heard.
 */
int present_each(const struct config *cfg, present_fn fn, void *userdata);
