/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-kind host preparation (see prep.h): one row per device kind, each
 * kind in its own file (prep-private.h).
 */
#include "prep.h"
#include "prep-private.h"

struct prep_kind {
	/* NULL: nothing to prepare. */
	int (*prepare)(struct db *db, const struct config *cfg,
		       const struct vmm_job *j, char *reason, size_t size);
	/* NULL: nothing to give back. */
	int (*restore)(struct db *db, const struct config *cfg,
		       const struct vmm_job *j, char *detail, size_t size);
};

static const struct prep_kind kinds[DEV_KIND_MAX] = {
	[DEV_USB] = { .prepare = prep_usb_prepare, .restore = prep_usb_restore },
	[DEV_PCI] = { .prepare = prep_pci_prepare, .restore = prep_pci_restore },
	[DEV_EVDEV] = { .prepare = prep_evdev_prepare },
};

int prep_attach(struct db *db, const struct config *cfg,
		const struct vmm_job *j, char *reason, size_t size)
{
	const struct prep_kind *k = &kinds[j->kind];

	reason[0] = '\0';
	return k->prepare ? k->prepare(db, cfg, j, reason, size) : PREP_READY;
}

int prep_restore(struct db *db, const struct config *cfg,
		 const struct vmm_job *j, char *detail, size_t size)
{
	const struct prep_kind *k = &kinds[j->kind];

	detail[0] = '\0';
	return k->restore ? k->restore(db, cfg, j, detail, size) : 0;
}
