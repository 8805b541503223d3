/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* One device a name fits. */
struct devname_hit {
	int64_t id;		/* devices.id: the number `vhotplugctl list` shows */
	char *ident, *label, *kind, *sysname, *devpath;
	bool present;
};

/*
 * The devices NAME names, plugged-in ones first: an identity
 * (devices.ident), its exact label, "vid:pid" (hex), a USB bus-port ("1-3"), a device node
 * ("/dev/..."), a PCI address ("0000:06:00.0" or "06:00.0") or the number
 * `list` shows ("3" or "#3"). When a plugged-in device fits, unplugged ones
 * are left out. *HITS (devname_free()) gets them, *N how many: 0 none, more
 * than 1 ambiguous (the caller changes nothing). Returns 0 or -errno.
 */
int devname_resolve(struct db *db, const char *name, struct devname_hit **hits, size_t *n);
void devname_free(struct devname_hit *hits, size_t n);
