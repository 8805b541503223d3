/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "config.h"
#include "db.h"
#include "device.h"

/*
 * Turning a udev event into rows: the device, its history and one intent.
 * Shared by the helper (events) and statd --attach-connected (devices found
 * at start). Callers hold a transaction.
 */

/*
 * DEV appeared. CFG may be NULL when the config failed to load; CONFIG_ERROR
 * then says why and goes to history instead of a decision. EVENT is the
 * history event for the appearance ("plugged", "present").
 */
int intake_add(struct db *db, const struct config *cfg, const char *config_error,
	       const struct device *dev, const char *event);

/* The device at DEVPATH went away: history, and a detach for statd. */
int intake_remove(struct db *db, const char *devpath);
