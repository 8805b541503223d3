/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "device.h"

struct match_result {
	const struct ruleset *set;	/* NULL: no rule set takes the device */
	const struct rule *rule;	/* the allow rule that matched */
};

/*
 * Decide which rule set takes DEV: the first enabled set, in file order, with
 * an enabled allow rule that matches and no enabled deny rule that matches.
 * When WHY is not NULL, one line per rule set and rule tried says why it did
 * or did not decide. Returns true when a set matched.
 */
bool match_device(const struct config *cfg, const struct device *dev, struct match_result *res,
		  FILE *why);

/* Does every field present in RULE match DEV? On false, WHY gets the first field that did not. */
bool match_rule(const struct config *cfg, const struct rule *rule, const struct device *dev,
		FILE *why);

/* Devices no rule may take: USB hubs, USB input event devices (they go as USB), non-input event nodes. */
const char *match_never_reason(const struct device *dev);

/* Does interface I have RULE's interfaceClass/Subclass/Protocol (those it gives)? */
bool match_iface(const struct rule *r, const struct usb_iface *i);
