/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

struct udev_device;

#define DEVICE_MAX_PORTS 8
#define DEVICE_MAX_IFACES 32
#define DEVICE_DEVPATH_MAX 1024	/* with its NUL; the kernel's are far shorter */

struct usb_iface {
	int cls, subclass, protocol;
};

struct dev_property {
	char *name;
	char *value;
};

/*
 * What the matcher and statd know of a device. Integers are -1 and strings
 * NULL when unknown: an absent attribute never fails a lookup.
 */
struct device {
	enum dev_kind kind;
	char *syspath;
	char *devpath;		/* udev DEVPATH, the stable key across add/remove */
	char *sysname;		/* "3-2.1", "0000:00:14.3", "event4" */
	char *devnode;		/* "/dev/bus/usb/003/004", "/dev/input/event4" */

	/* usb and pci */
	int vendor_id;
	int product_id;		/* usb idProduct, pci device */
	char *vendor_name;
	char *product_name;
	int dev_class, dev_subclass, dev_protocol;	/* pci: class, subclass, prog-if */
	int bcd_device;		/* usb: release number, for the modalias */

	/* usb */
	char *serial;
	int busnum, devnum;
	int ports[DEVICE_MAX_PORTS];
	int n_ports;		/* ports[0] is the root port */
	struct usb_iface ifaces[DEVICE_MAX_IFACES];
	int n_ifaces;
	char *removable;	/* "removable", "fixed", "unknown" or NULL */

	/* pci */
	char *driver;
	int iommu_group;

	/* evdev */
	char *name;		/* sysfs name of the parent input device */
	char *path_tag;		/* ID_PATH_TAG */
	struct dev_property *props;
	int n_props;
};

/* Build a record from a udev device of subsystem usb (usb_device), pci or input (event*). */
int device_from_udev(struct udev_device *udev_dev, struct device **out);
void device_free(struct device *dev);

/* Parse "3-2.1" into bus 3 and ports [2, 1]. */
int device_parse_usb_sysname(const char *sysname, int *bus, int *ports, int *n_ports);
/* Parse ID_USB_INTERFACES (":030101:0e0100:") into ifaces. */
int device_parse_usb_interfaces(const char *s, struct usb_iface *ifaces, int max);

const char *device_property(const struct device *dev, const char *name);
/*
 * Write device-supplied STR to F as labels have it: one line, valid UTF-8,
 * controls, ill-formed bytes and invisible format characters (bidi overrides,
 * U+2028/2029, zero widths, the BOM) as \xNN, at most MAX characters then "...".
 */
void device_put_escaped(FILE *f, const char *str, size_t max);
/* One-line readable identity, e.g. "usb 0bda:4852 Realtek Bluetooth Radio serial X at 3-2". Caller frees. */
char *device_describe(const struct device *dev);

/*
 * DEVPATH as the kernel makes it: "/devices/..." of plain names (no "..",
 * ".", empty components or control bytes), shorter than DEVICE_DEVPATH_MAX.
 * Anything else did not come from the kernel and is refused.
 */
bool device_devpath_valid(const char *devpath);
/* S escaped as labels are (one line, valid UTF-8), for log lines. Caller frees. */
char *device_escape(const char *s);
