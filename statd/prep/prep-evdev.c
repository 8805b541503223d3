/* SPDX-License-Identifier: Apache-2.0 */
/* evdev: only a real /dev/input/eventN node. */
#include <stdio.h>
#include <string.h>

#include "prep.h"
#include "prep-private.h"
#include "qemu-args.h"

/* A mouseN or jsN node in the guest broke a touchpad: only eventN. */
int prep_evdev_prepare(struct db *db, const struct config *cfg,
		       const struct vmm_job *j, char *reason, size_t size)
{
	if (strncmp(j->sysname, "event", 5) != 0 || !j->devnode ||
	    !qemu_args_evdev_node_valid(j->devnode)) {
		snprintf(reason, size, "not an evdev event node: %s", j->devnode ?: j->sysname);
		return PREP_REFUSED;
	}
	return PREP_READY;
}
