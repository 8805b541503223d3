/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "device.h"

/*
 * A device's stable identity, what the database keys it on: the same device
 * keeps it wherever it is plugged, and another device plugged into the same
 * port gets another. USB: "usb:VVVV:PPPP:SERIAL", or "usb:VVVV:PPPP@PORT"
 * when it has no serial; PCI: "pci:ADDRESS"; evdev: "evdev:DEVPATH".
 * sql/migrate-5.sql works out the same for rows of older databases.
 * NULL: no memory. Caller frees.
 */
char *ident_make(const struct device *dev);
/* IDENT made apart from a device of the same identity still plugged elsewhere. */
char *ident_with_port(const char *ident, const char *sysname);
/*
 * The id statd gives the device in a VM (QEMU's qdev id), from its kind and
 * identity: "vhp-usb-046d-c077-SERIAL", "vhp-usb-046d-c077.1-3" (no serial),
 * "vhp-pci-0000-06-00.0", "vhp-evdev-event5-1a2b3c4d". QEMU takes letters,
 * digits, '-', '.' and '_' only: anything else is replaced, an over-long
 * identity cut, and then a hash of the whole identity appended, so two
 * identities never meet.
 */
char *ident_qdev_id(const char *kind, const char *ident);
