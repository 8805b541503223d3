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
 * DEV appeared. CFG may be NULL when the config failed to load: the plug is
 * then recorded undecided (intent 'decide', state 'held', CONFIG_ERROR as
 * its rule and in an 'undecided' history row) for intake_decide(). EVENT is
 * the history event for the appearance (HISTORY_PLUGGED, HISTORY_PRESENT).
 */
int intake_add(struct db *db, const struct config *cfg, const char *config_error,
	       const struct device *dev, enum history_event event);

/* An intent 'decide' the helper recorded; strings borrowed. */
struct intake_undecided {
	int64_t intent_id;
	int64_t device_id;
	int busnum, devnum;		/* of the plug, -1 when unknown */
	const char *config_error;	/* why it was not decided then */
};

/*
 * Decide U with CFG (statd's last good config), DEV read again from sysfs:
 * a 'decided' history row that says why it waited, the 'decide' intent done,
 * and the attach, select or ignore it comes to, as intake_add() would have.
 */
int intake_decide(struct db *db, const struct config *cfg, const struct device *dev,
		  const struct intake_undecided *u);

/*
 * usbAuthorization (intake-auth.c): DEV, recorded as DEVICE_ID, stays on the
 * host; authorize it when it is a hub or a hostAllow rule takes it, with a
 * history row. At most one sysfs write; a write that fails is recorded
 * (authorization_failed) and is no error. 0 or -errno of the database.
 */
int intake_authorize(struct db *db, const struct config *cfg, const struct device *dev,
		     int64_t device_id, const char *label);

/* The device at DEVPATH went away: history, and a detach for statd. */
int intake_remove(struct db *db, const char *devpath);
