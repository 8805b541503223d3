/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-kind host preparation (see prep.h). USB: never a hub or a device that
 * backs a mount, swap or the boot disk (lib/safety.c), whatever the rules
 * say. evdev: only a real /dev/input/eventN node.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "prep.h"
#include "qemu-args.h"
#include "safety.h"

struct prep_kind {
	/* NULL: nothing to prepare. */
	int (*prepare)(struct db *db, const struct vmm_job *j, char *reason, size_t size);
	/* NULL: nothing to give back. */
	int (*restore)(struct db *db, const struct vmm_job *j, char *detail, size_t size);
};

static int usb_prepare(struct db *db, const struct vmm_job *j, char *reason, size_t size)
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

/* A mouseN or jsN node in the guest broke a touchpad: only eventN. */
static int evdev_prepare(struct db *db, const struct vmm_job *j, char *reason, size_t size)
{
	if (strncmp(j->sysname, "event", 5) != 0 || !j->devnode ||
	    !qemu_args_evdev_node_valid(j->devnode)) {
		snprintf(reason, size, "not an evdev event node: %s", j->devnode ?: j->sysname);
		return PREP_REFUSED;
	}
	return PREP_READY;
}

static const struct prep_kind kinds[DEV_KIND_MAX] = {
	[DEV_USB] = { .prepare = usb_prepare },
	[DEV_EVDEV] = { .prepare = evdev_prepare },
};

int prep_attach(struct db *db, const struct vmm_job *j, char *reason, size_t size)
{
	const struct prep_kind *k = &kinds[j->kind];

	reason[0] = '\0';
	return k->prepare ? k->prepare(db, j, reason, size) : PREP_READY;
}

int prep_restore(struct db *db, const struct vmm_job *j, char *detail, size_t size)
{
	const struct prep_kind *k = &kinds[j->kind];

	detail[0] = '\0';
	return k->restore ? k->restore(db, j, detail, size) : 0;
}
