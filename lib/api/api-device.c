/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device objects as the original's clients know them: USBInfo.to_dict() and
 * PCIInfo.to_dict() (vhotplug/usb.py, vhotplug/pci.py), the same keys in the
 * same order, each value read from the same udev property or attribute and
 * in the same format (vid "046d" as udev's ID_VENDOR_ID has it, PCI vid
 * "8086" as the kernel's PCI_ID). A value the original would not find is
 * null. A device gone from sysfs is described from what the database
 * recorded.
 */
#include <ctype.h>
#include <errno.h>
#include <libudev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-private.h"
#include "device.h"
#include "macro.h"

static json_object *text(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *number(int v)
{
	return v >= 0 ? json_object_new_int(v) : NULL;
}

/* Python's `a or b`: an empty A counts as none. */
static const char *either(const char *a, const char *b)
{
	return a && *a ? a : b;
}

/* int(S.strip(), BASE) of the original; -1 where it gives None (or would raise). */
static int parse(const char *s, int base)
{
	char *end;
	long v;

	if (!s)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, base);
	while (isspace((unsigned char)*end))
		end++;
	return errno || *end || end == s || v < 0 || v > INT_MAX ? -1 : (int)v;
}

/* The root port of "1-3.2" (3), as the original's root_port; -1 for a root hub ("usb1"). */
static int root_port(const char *sysname)
{
	int bus, ports[DEVICE_MAX_PORTS], n = 0;

	if (!sysname || device_parse_usb_sysname(sysname, &bus, ports, &n) < 0 || n == 0)
		return -1;
	return ports[0];
}

static json_object *usb_object(const char *devnode, const char *vid, const char *pid,
			       const char *vendor, const char *product, const char *interfaces,
			       const int cls[3], int busnum, int devnum, const char *serial,
			       const char *sysname)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "device_node", text(devnode));
	json_object_object_add(o, "vid", text(vid));
	json_object_object_add(o, "pid", text(pid));
	json_object_object_add(o, "vendor_name", text(vendor));
	json_object_object_add(o, "product_name", text(product));
	json_object_object_add(o, "interfaces", text(interfaces));
	json_object_object_add(o, "device_class", number(cls[0]));
	json_object_object_add(o, "device_subclass", number(cls[1]));
	json_object_object_add(o, "device_protocol", number(cls[2]));
	json_object_object_add(o, "busnum", number(busnum));
	json_object_object_add(o, "devnum", number(devnum));
	json_object_object_add(o, "portnum", number(root_port(sysname)));
	json_object_object_add(o, "serial", text(serial));
	json_object_object_add(o, "sys_name", text(sysname));
	return o;
}

static json_object *pci_object(const char *address, const char *driver, const char *vid,
			       const char *did, const char *vendor, const char *device, int cls,
			       const char *sub_vid, const char *sub_id)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "address", text(address));
	json_object_object_add(o, "driver", text(driver));
	json_object_object_add(o, "vendor_id", number(vid ? parse(vid, 16) : -1));
	json_object_object_add(o, "device_id", number(did ? parse(did, 16) : -1));
	json_object_object_add(o, "vid", text(vid));
	json_object_object_add(o, "did", text(did));
	json_object_object_add(o, "vendor_name", text(vendor));
	json_object_object_add(o, "device_name", text(device));
	json_object_object_add(o, "pci_class", number(cls < 0 ? -1 : (cls >> 16) & 0xff));
	json_object_object_add(o, "pci_subclass", number(cls < 0 ? -1 : (cls >> 8) & 0xff));
	/* The original masks the prog-if with 0xF, not 0xFF: its clients see that. */
	json_object_object_add(o, "pci_prog_if", number(cls < 0 ? -1 : cls & 0xf));
	json_object_object_add(o, "pci_subsystem_vendor_id", text(sub_vid));
	json_object_object_add(o, "pci_subsystem_id", text(sub_id));
	return o;
}

static const char *prop(struct udev_device *ud, const char *name)
{
	return udev_device_get_property_value(ud, name);
}

static json_object *usb_from_udev(struct udev_device *ud)
{
	int cls[3] = {
		parse(udev_device_get_sysattr_value(ud, "bDeviceClass"), 16),
		parse(udev_device_get_sysattr_value(ud, "bDeviceSubClass"), 16),
		parse(udev_device_get_sysattr_value(ud, "bDeviceProtocol"), 16),
	};

	return usb_object(udev_device_get_devnode(ud), prop(ud, "ID_VENDOR_ID"),
			  prop(ud, "ID_MODEL_ID"),
			  either(prop(ud, "ID_VENDOR_FROM_DATABASE"), prop(ud, "ID_VENDOR")),
			  either(prop(ud, "ID_MODEL_FROM_DATABASE"), prop(ud, "ID_MODEL")),
			  prop(ud, "ID_USB_INTERFACES"), cls, parse(prop(ud, "BUSNUM"), 10),
			  parse(prop(ud, "DEVNUM"), 10), prop(ud, "ID_SERIAL_SHORT"),
			  udev_device_get_sysname(ud));
}

/* "8086:A0F0" into its two halves, as the original's split(":"). */
static void halves(const char *s, char *a, char *b, size_t size)
{
	const char *colon = s ? strchr(s, ':') : NULL;

	a[0] = b[0] = '\0';
	if (!colon || strchr(colon + 1, ':'))
		return;
	snprintf(a, size, "%.*s", (int)(colon - s), s);
	snprintf(b, size, "%s", colon + 1);
}

static json_object *pci_from_udev(struct udev_device *ud)
{
	char vid[16], did[16], sub_vid[16], sub_id[16];

	halves(prop(ud, "PCI_ID"), vid, did, sizeof(vid));
	halves(prop(ud, "PCI_SUBSYS_ID"), sub_vid, sub_id, sizeof(sub_vid));
	return pci_object(udev_device_get_sysname(ud), udev_device_get_driver(ud),
			  vid[0] ? vid : NULL, did[0] ? did : NULL,
			  either(prop(ud, "ID_VENDOR_FROM_DATABASE"), prop(ud, "ID_VENDOR")),
			  either(prop(ud, "ID_MODEL_FROM_DATABASE"), prop(ud, "ID_MODEL")),
			  parse(prop(ud, "PCI_CLASS"), 16), sub_vid[0] ? sub_vid : NULL,
			  sub_id[0] ? sub_id : NULL);
}

json_object *api_device_udev(struct udev_device *ud, enum dev_kind kind)
{
	if (kind == DEV_USB)
		return usb_from_udev(ud);
	return kind == DEV_PCI ? pci_from_udev(ud) : NULL;
}

/* Hex as udev's ID_VENDOR_ID (lower case) or the kernel's PCI_ID (upper case); NULL: unknown. */
static const char *hex4(char *buf, size_t size, int v, bool upper)
{
	if (v < 0)
		return NULL;
	snprintf(buf, size, upper ? "%04X" : "%04x", v);
	return buf;
}

json_object *api_device_recorded(const struct db_api_device *d)
{
	static const int none[3] = { -1, -1, -1 };
	char vid[16], pid[16];
	bool pci = streq(d->kind, "pci");
	const char *v = hex4(vid, sizeof(vid), d->vendor_id, pci);
	const char *p = hex4(pid, sizeof(pid), d->product_id, pci);

	if (pci)
		return pci_object(d->sysname, NULL, v, p, d->vendor_name, d->product_name, -1, NULL,
				  NULL);
	return usb_object(d->devnode, v, p, d->vendor_name, d->product_name, NULL, none, d->busnum,
			  d->devnum, d->serial, d->sysname);
}

json_object *api_device_object(struct udev *udev, const struct db_api_device *d)
{
	enum dev_kind kind = dev_kind_from_string(d->kind);
	char syspath[DEVICE_DEVPATH_MAX + 8];
	struct udev_device *ud = NULL;
	json_object *o = NULL;

	/* NULL when sysfs has no such directory: unplugged, its removal not read yet. */
	if (d->present && d->devpath && udev &&
	    snprintf(syspath, sizeof(syspath), "/sys%s", d->devpath) < (int)sizeof(syspath))
		ud = udev_device_new_from_syspath(udev, syspath);
	if (ud)
		o = api_device_udev(ud, kind);
	udev_device_unref(ud);
	return o ?: api_device_recorded(d);
}

bool api_device_usb_hub(json_object *usb)
{
	json_object *cls = json_object_object_get(usb, "device_class");
	const char *s = json_object_get_string(json_object_object_get(usb, "interfaces"));

	if (cls && json_object_get_int(cls) == 9)
		return true;
	/* ":090000:" and the like: six hex digits an interface, its class first. */
	for (s = s ?: ""; *s; s += strspn(s, ":")) {
		size_t n = strcspn(s, ":");

		if (n >= 6 && s[0] == '0' && s[1] == '9')
			return true;
		s += n;
	}
	return false;
}
