/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "config.h"
#include "db.h"
#include "device.h"

/* Where a device should be: the rules, plus a user's choice, minus a user's marks. */
struct decision {
	const char *vm;		/* the VM (the config's string), or NULL: none (a select waits) */
	bool chosen;		/* VM is a user's remembered choice */
	bool kept_out;		/* a user detached it, or its tag: VM is NULL */
	char why[128];		/* kept out or chosen: what says so, for history */
};

/* May VM take a device of rule set SET: its targetVm or one of its allowedVms? */
bool decisions_allowed(const struct ruleset *set, const char *vm);

/*
 * The one place the desired set is worked out, for the plug (lib/intake)
 * and every reconcile: the device of identity IDENT (DEVICE_ID, LABEL for
 * history; 0, NULL: not recorded) taken by SET (NULL: no rule set). A
 * remembered choice the rules no longer allow is ignored, with a
 * 'choice_ignored' history row the first time. Returns 0 or -errno.
 */
int decisions_desired(struct db *db, const struct ruleset *set, const char *ident,
		      int64_t device_id, const char *label, struct decision *d);

/* The same for DEV as udev has it now: the VM it should be in, or NULL. Errors: the rules alone. */
const char *decisions_vm(struct db *db, const struct device *dev, const struct ruleset *set);
