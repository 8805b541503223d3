/* SPDX-License-Identifier: Apache-2.0 */
/*
 * USB: never a hub or a device that backs a mount, swap or the boot disk
 * (lib/safety.c), whatever the rules say.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "prep.h"
#include "prep-private.h"
#include "safety.h"

int prep_usb_prepare(struct db *db, const struct vmm_job *j, char *reason, size_t size)
{
	char why[256];
	int r;

	if (!j->devpath[0]) {
		snprintf(reason, size, "cannot tell whether it is safe to pass: no sysfs path");
		return PREP_REFUSED;
	}
	r = safety_check_usb(j->devpath, why, sizeof(why));
	/*
	 * Gone from sysfs: it backs nothing and is no hub here now (hubs are
	 * refused by the helper from the event, too); its remove event follows.
	 */
	if (r == -ENOENT)
		return PREP_READY;
	if (r < 0) {
		snprintf(reason, size, "cannot tell whether it is safe to pass: %s", strerror(-r));
		return PREP_REFUSED;
	}
	if (r > 0)
		snprintf(reason, size, "never passed to a VM: it %s", why);
	return r ? PREP_REFUSED : PREP_READY;
}
