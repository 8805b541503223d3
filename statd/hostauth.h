/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <libudev.h>

#include "config.h"
#include "db.h"
#include "device.h"

/*
 * usbAuthorization's hostAllow rules that name interfaces: the pending
 * 'ignore' intents the helper records for them (lib/intake/intake-auth.c),
 * carried out. For each device still there whose hostAllow rule names only
 * some of its interfaces: its root hub's interface_authorized_default 0, the
 * device authorized (its interfaces come up unauthorized, bound to nothing),
 * each interface the rule names authorized and offered to drivers_probe, the
 * bus default back. One history row (authorized, or authorization_failed)
 * and the intent closed, in one transaction. Only intents above *UPTO are
 * read, and *UPTO moves past them: a wake costs the new intents, not every
 * open one (an attach backlog). -errno when the database refused (the
 * intents stay pending, *UPTO where it was, for the next run).
 */
int hostauth_run(struct db *db, const struct config *cfg, struct udev *udev, int64_t *upto);

/*
 * The writes for one device, an unauthorized one whose hostAllow RULE names
 * only some of its interfaces. DETAIL gets what was written and the
 * interfaces left unauthorized, or why it stopped. 0 or -errno.
 */
int hostauth_authorize(const struct device *dev, const struct rule *rule, char *detail, size_t size);
