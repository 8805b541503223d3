/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "device.h"
#include "match.h"

struct db;

/* DEV is plugged in now; M says which rule set takes it (M->set NULL: none). */
typedef int (*present_fn)(void *userdata, const struct device *dev, const struct match_result *m);
/*
 * Call FN for every USB device, PCI function and input event node udev
 * knows now, with CFG's decision on it; stops at FN's error. Used by
 * --attach-connected, which is for devices the database never heard of.
 */
int present_each(const struct config *cfg, present_fn fn, void *userdata);

/*
 * What reconcile wants: the devices the database records as plugged in (the
 * only ones it would put back) that sysfs still has, read once and shared by
 * the reconciles answered together. One libudev device per recorded device,
 * never an enumeration of all of sysfs.
 */
struct present_look;
int present_look_take(const struct config *cfg, struct db *db, struct present_look **out);
/*
 * May LOOK serve a reconcile under CFG whose VM was listed at SINCE_MS: taken
 * after it (or within that millisecond, the race any look has with a plug)?
 */
bool present_look_fresh(const struct present_look *look, const struct config *cfg,
			int64_t since_ms);
/* FN for each device of LOOK, as present_each(). */
int present_look_each(const struct present_look *look, present_fn fn, void *userdata);
void present_look_free(struct present_look *look);
