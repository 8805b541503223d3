/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <libudev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "macro.h"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Parse an integer attribute in BASE; -1 when absent or malformed. */
static int parse_int(const char *s, int base)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, base);
	while (*end == '\n' || *end == ' ')
		end++;
	if (errno || *end || v < 0 || v > INT_MAX)
		return -1;
	return (int)v;
}

static const char *attr(struct udev_device *d, const char *name)
{
	return udev_device_get_sysattr_value(d, name);
}

static const char *prop(struct udev_device *d, const char *name)
{
	return udev_device_get_property_value(d, name);
}

/* Prefer the hwdb's names: they are stable, and what users see in lsusb. */
static const char *first_of(const char *a, const char *b)
{
	return a && *a ? a : b;
}

int device_parse_usb_sysname(const char *sysname, int *bus, int *ports, int *n_ports)
{
	const char *p = sysname;
	char *end;
	long v;

	*n_ports = 0;
	errno = 0;
	v = strtol(p, &end, 10);
	if (end == p || *end != '-' || errno || v < 0 || v > INT_MAX)
		return -EINVAL;
	*bus = (int)v;
	p = end;
	while (*p == '-' || *p == '.') {
		p++;
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno || v < 0 || v > INT_MAX || *n_ports >= DEVICE_MAX_PORTS)
			return -EINVAL;
		ports[(*n_ports)++] = (int)v;
		p = end;
	}
	return *p ? -EINVAL : 0;
}

static int hex2(const char *s)
{
	char buf[3] = { s[0], s[1], 0 };
	char *end;
	long v = strtol(buf, &end, 16);

	return *end || end == buf ? -1 : (int)v;
}

int device_parse_usb_interfaces(const char *s, struct usb_iface *ifaces, int max)
{
	int n = 0;

	if (!s)
		return 0;
	while (*s == ':')
		s++;
	while (*s && n < max) {
		if (strspn(s, "0123456789abcdefABCDEF") < 6)
			return -EINVAL;
		ifaces[n].cls = hex2(s);
		ifaces[n].subclass = hex2(s + 2);
		ifaces[n].protocol = hex2(s + 4);
		n++;
		s += 6;
		if (*s && *s != ':')
			return -EINVAL;
		while (*s == ':')
			s++;
	}
	return n;
}

/* ID_USB_INTERFACES is absent before udev's builtin ran: read the interface children then. */
static void usb_ifaces_from_sysfs(struct udev_device *d, struct device *dev)
{
	struct udev *udev = udev_device_get_udev(d);
	struct udev_enumerate *e = udev_enumerate_new(udev);
	struct udev_list_entry *entry;

	if (!e)
		return;
	udev_enumerate_add_match_parent(e, d);
	udev_enumerate_add_match_property(e, "DEVTYPE", "usb_interface");
	udev_enumerate_scan_devices(e);
	udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e)) {
		struct udev_device *c;

		if (dev->n_ifaces >= DEVICE_MAX_IFACES)
			break;
		c = udev_device_new_from_syspath(udev, udev_list_entry_get_name(entry));
		if (!c)
			continue;
		dev->ifaces[dev->n_ifaces].cls = parse_int(attr(c, "bInterfaceClass"), 16);
		dev->ifaces[dev->n_ifaces].subclass = parse_int(attr(c, "bInterfaceSubClass"), 16);
		dev->ifaces[dev->n_ifaces].protocol = parse_int(attr(c, "bInterfaceProtocol"), 16);
		dev->n_ifaces++;
		udev_device_unref(c);
	}
	udev_enumerate_unref(e);
}

/* PRODUCT=46d/c52b/1211 is in the event environment even when sysfs is gone. */
static void usb_ids_from_product(struct device *dev, const char *product)
{
	unsigned v, p;

	if (product && sscanf(product, "%x/%x/", &v, &p) == 2 && v <= 0xffff && p <= 0xffff) {
		dev->vendor_id = (int)v;
		dev->product_id = (int)p;
	}
}

static int usb_fill(struct udev_device *d, struct device *dev)
{
	const char *s;
	int n;

	dev->vendor_id = parse_int(first_of(attr(d, "idVendor"), prop(d, "ID_VENDOR_ID")), 16);
	dev->product_id = parse_int(first_of(attr(d, "idProduct"), prop(d, "ID_MODEL_ID")), 16);
	if (dev->vendor_id < 0 || dev->product_id < 0)
		usb_ids_from_product(dev, prop(d, "PRODUCT"));
	dev->vendor_name = dup_or_null(first_of(prop(d, "ID_VENDOR_FROM_DATABASE"),
						first_of(attr(d, "manufacturer"), prop(d, "ID_VENDOR"))));
	dev->product_name = dup_or_null(first_of(prop(d, "ID_MODEL_FROM_DATABASE"),
						 first_of(attr(d, "product"), prop(d, "ID_MODEL"))));
	dev->serial = dup_or_null(first_of(attr(d, "serial"), prop(d, "ID_SERIAL_SHORT")));
	dev->busnum = parse_int(first_of(attr(d, "busnum"), prop(d, "BUSNUM")), 10);
	dev->devnum = parse_int(first_of(attr(d, "devnum"), prop(d, "DEVNUM")), 10);
	if (dev->sysname) {
		int bus;

		if (device_parse_usb_sysname(dev->sysname, &bus, dev->ports, &dev->n_ports) == 0 &&
		    dev->busnum < 0)
			dev->busnum = bus;
	}
	dev->bcd_device = parse_int(first_of(attr(d, "bcdDevice"), prop(d, "ID_REVISION")), 16);
	dev->dev_class = parse_int(attr(d, "bDeviceClass"), 16);
	dev->dev_subclass = parse_int(attr(d, "bDeviceSubClass"), 16);
	dev->dev_protocol = parse_int(attr(d, "bDeviceProtocol"), 16);
	s = prop(d, "TYPE");	/* "9/0/1" in the environment, for remove events */
	if (dev->dev_class < 0 && s)
		sscanf(s, "%d/%d/%d", &dev->dev_class, &dev->dev_subclass, &dev->dev_protocol);
	n = device_parse_usb_interfaces(prop(d, "ID_USB_INTERFACES"), dev->ifaces, DEVICE_MAX_IFACES);
	dev->n_ifaces = n > 0 ? n : 0;
	if (n <= 0)
		usb_ifaces_from_sysfs(d, dev);
	dev->removable = dup_or_null(attr(d, "removable"));
	return 0;
}

static int iommu_group(struct udev_device *d)
{
	char link[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(link, sizeof(link), "%s/iommu_group", udev_device_get_syspath(d));
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return -1;
	target[n] = '\0';
	base = strrchr(target, '/');
	return parse_int(base ? base + 1 : target, 10);
}

static int pci_fill(struct udev_device *d, struct device *dev)
{
	int cls;
	unsigned v, p;

	dev->vendor_id = parse_int(attr(d, "vendor"), 16);
	dev->product_id = parse_int(attr(d, "device"), 16);
	if ((dev->vendor_id < 0 || dev->product_id < 0) &&
	    sscanf(prop(d, "PCI_ID") ?: "", "%x:%x", &v, &p) == 2) {
		dev->vendor_id = (int)(v & 0xffff);
		dev->product_id = (int)(p & 0xffff);
	}
	cls = parse_int(first_of(attr(d, "class"), prop(d, "PCI_CLASS")), 16);
	if (cls >= 0) {
		dev->dev_class = (cls >> 16) & 0xff;
		dev->dev_subclass = (cls >> 8) & 0xff;
		dev->dev_protocol = cls & 0xff;
	}
	dev->vendor_name = dup_or_null(prop(d, "ID_VENDOR_FROM_DATABASE"));
	dev->product_name = dup_or_null(prop(d, "ID_MODEL_FROM_DATABASE"));
	dev->driver = dup_or_null(first_of(udev_device_get_driver(d), prop(d, "DRIVER")));
	dev->iommu_group = iommu_group(d);
	return 0;
}

static int evdev_props(struct udev_device *d, struct device *dev)
{
	struct udev_list_entry *e;
	int n = 0;

	udev_list_entry_foreach(e, udev_device_get_properties_list_entry(d))
		n++;
	dev->props = calloc(n ? n : 1, sizeof(*dev->props));
	if (!dev->props)
		return -ENOMEM;
	udev_list_entry_foreach(e, udev_device_get_properties_list_entry(d)) {
		struct dev_property *p = &dev->props[dev->n_props];

		p->name = strdup(udev_list_entry_get_name(e));
		p->value = strdup(udev_list_entry_get_value(e) ?: "");
		if (!p->name || !p->value) {
			free(p->name);
			free(p->value);
			return -ENOMEM;
		}
		dev->n_props++;
	}
	return 0;
}

static int evdev_fill(struct udev_device *d, struct device *dev)
{
	struct udev_device *parent = udev_device_get_parent_with_subsystem_devtype(d, "input", NULL);

	dev->name = dup_or_null(first_of(parent ? attr(parent, "name") : NULL, prop(d, "NAME")));
	/* The environment quotes NAME ("\"AT keyboard\""): strip that form too. */
	if (dev->name && dev->name[0] == '"') {
		size_t len = strlen(dev->name);

		memmove(dev->name, dev->name + 1, len);
		if (len >= 2 && dev->name[len - 2] == '"')
			dev->name[len - 2] = '\0';
	}
	dev->path_tag = dup_or_null(prop(d, "ID_PATH_TAG"));
	return evdev_props(d, dev);
}

/*
 * Whether libudev takes NAME as a path below /dev/: each part 1 to NAME_MAX
 * bytes, none "." or "..". It asserts (aborts) on a device node that is
 * not, and DEVNAME comes from the event environment. Found by fuzzing: a
 * part of 287 bytes.
 */
static bool devname_valid(const char *name)
{
	if (strncmp(name, "/dev/", 5) != 0 || !name[5] || strlen(name) >= PATH_MAX)
		return false;
	for (const char *p = name + 5; *p;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || n > NAME_MAX || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		p += *p == '/';
	}
	return true;
}

static const char *devnode(struct udev_device *d)
{
	const char *name = prop(d, "DEVNAME");

	if (name && !devname_valid(name))
		return NULL;
	return udev_device_get_devnode(d);
}

/* One row per device kind: the udev devices it is (NULL: any devtype or name). */
static const struct {
	const char *subsystem, *devtype, *sysname_prefix;
} kind_udev[DEV_KIND_MAX] = {
	[DEV_USB] = { "usb", "usb_device", NULL },
	[DEV_PCI] = { "pci", NULL, NULL },
	[DEV_EVDEV] = { "input", NULL, "event" },
};

static int kind_of(struct udev_device *d, enum dev_kind *kind)
{
	const char *subsystem = udev_device_get_subsystem(d);
	const char *devtype = udev_device_get_devtype(d);
	const char *sysname = udev_device_get_sysname(d);

	for (int k = 0; k < DEV_KIND_MAX; k++) {
		const char *prefix = kind_udev[k].sysname_prefix;

		if (!streq(subsystem, kind_udev[k].subsystem) ||
		    (kind_udev[k].devtype && !streq(devtype, kind_udev[k].devtype)) ||
		    (prefix && (!sysname || strncmp(sysname, prefix, strlen(prefix)) != 0)))
			continue;
		*kind = k;
		return 0;
	}
	return -ENOTSUP;
}

int device_from_udev(struct udev_device *d, struct device **out)
{
	struct device *dev;
	enum dev_kind kind;
	int r;

	r = kind_of(d, &kind);
	if (r < 0)
		return r;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->kind = kind;
	dev->vendor_id = dev->product_id = -1;
	dev->dev_class = dev->dev_subclass = dev->dev_protocol = -1;
	dev->bcd_device = -1;
	dev->busnum = dev->devnum = dev->iommu_group = -1;
	dev->syspath = dup_or_null(udev_device_get_syspath(d));
	dev->devpath = dup_or_null(udev_device_get_devpath(d));
	dev->sysname = dup_or_null(udev_device_get_sysname(d));
	dev->devnode = dup_or_null(devnode(d));
	if (kind == DEV_USB)
		r = usb_fill(d, dev);
	else if (kind == DEV_PCI)
		r = pci_fill(d, dev);
	else
		r = evdev_fill(d, dev);
	if (r < 0 || !dev->syspath || !dev->devpath) {
		device_free(dev);
		return r < 0 ? r : -ENOMEM;
	}
	*out = dev;
	return 0;
}

void device_free(struct device *dev)
{
	if (!dev)
		return;
	for (int i = 0; i < dev->n_props; i++) {
		free(dev->props[i].name);
		free(dev->props[i].value);
	}
	free(dev->props);
	free(dev->syspath);
	free(dev->devpath);
	free(dev->sysname);
	free(dev->devnode);
	free(dev->vendor_name);
	free(dev->product_name);
	free(dev->serial);
	free(dev->removable);
	free(dev->driver);
	free(dev->name);
	free(dev->path_tag);
	free(dev);
}

const char *device_property(const struct device *dev, const char *name)
{
	for (int i = 0; i < dev->n_props; i++)
		if (streq(dev->props[i].name, name))
			return dev->props[i].value;
	return NULL;
}
