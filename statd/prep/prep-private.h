/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Host preparation, one file per device kind (prep-usb.c, prep-evdev.c,
 * prep-pci.c), put together by prep.c's table indexed by dev_kind. Adding a
 * kind: one file here, one row there.
 */
#include <stddef.h>

#include "backend.h"

struct db;

int prep_usb_prepare(struct db *db, const struct config *cfg,
		     const struct vmm_job *j, char *reason, size_t size);
int prep_usb_restore(struct db *db, const struct config *cfg,
		     const struct vmm_job *j, char *detail, size_t size);
int prep_evdev_prepare(struct db *db, const struct config *cfg,
		       const struct vmm_job *j, char *reason, size_t size);
int prep_pci_prepare(struct db *db, const struct config *cfg,
		     const struct vmm_job *j, char *reason, size_t size);
int prep_pci_restore(struct db *db, const struct config *cfg,
		     const struct vmm_job *j, char *detail, size_t size);
