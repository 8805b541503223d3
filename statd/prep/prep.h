/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Host-side preparation of a device before a backend gets its attach, and
 * the undoing of it after a detach: one {prepare, restore} row per device
 * kind, apart from the VMM backends (a USB device needs the same checks
 * whether QEMU or crosvm takes it). Called by the scheduler only.
 */
#include <stddef.h>

#include "backend.h"

struct db;

enum prep_result {
	PREP_READY = 0,		/* hand the attach to the backend */
	PREP_REFUSED = 1,	/* never attach it: REASON goes to history as "ignored" */
	/* Under way (vfio-pci binding, /dev/vfio/GROUP not there yet): ask again
	 * when a node appears in vfio_dev_dir() (or, without inotify, after
	 * PREP_RECHECK_MS), for up to PREP_WAIT_MS, then it failed. */
	PREP_NOT_YET = 2,
};

#define PREP_RECHECK_MS 50
#define PREP_WAIT_MS 5000

/*
 * Before J's attach: PREP_READY, PREP_REFUSED or PREP_NOT_YET with REASON,
 * or -errno with REASON (the preparation failed: recorded as attach_failed).
 * Asked again after PREP_NOT_YET, it takes up where it was.
 */
int prep_attach(struct db *db, const struct config *cfg,
		const struct vmm_job *j, char *reason, size_t size);

/*
 * After J's detach succeeded: give back to the host what prep_attach took.
 * 0, or -errno with DETAIL (logged and recorded; the detach stays done).
 */
int prep_restore(struct db *db, const struct config *cfg,
		 const struct vmm_job *j, char *detail, size_t size);
