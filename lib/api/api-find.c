/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device a request's selector names, among those recorded plugged in
 * (the rows lib/ops works on), first in the database's order, as the
 * original took the first udev gave. Read again from udev and matched, for
 * the original's checks and its friendly_name() in messages.
 */
#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "api-req.h"

void api_dev_clear(struct api_dev *d)
{
	free(d->ident);
	free(d->label);
	device_free(d->dev);
	*d = (struct api_dev){ 0 };
}

/* NUM (a JSON number) equals N, as Python's == between an int or float and an int. */
static bool num_is(json_object *num, int n)
{
	if (json_object_is_type(num, json_type_int))
		return json_object_get_int64(num) == n;
	if (json_object_is_type(num, json_type_double))
		return json_object_get_double(num) == n;
	return false;	/* a string never equals an int */
}

static bool usb_fits(const struct api_sel *sel, const struct db_device_name_row *row)
{
	int bus = -1, ports[DEVICE_MAX_PORTS], n_ports = 0;
	char hex[16];

	if (sel->devnode)
		return row->devnode && streq(row->devnode, sel->devnode);
	if (sel->bus)
		return device_parse_usb_sysname(row->sysname, &bus, ports, &n_ports) == 0 &&
		       n_ports > 0 && num_is(sel->bus, bus) && num_is(sel->port, ports[0]);
	/* The original compares udev's text ("046d") without case. */
	if (row->vendor_id < 0 || row->product_id < 0)
		return false;
	snprintf(hex, sizeof(hex), "%04x", (unsigned)row->vendor_id);
	if (strcasecmp(hex, sel->vid))
		return false;
	snprintf(hex, sizeof(hex), "%04x", (unsigned)row->product_id);
	return !strcasecmp(hex, sel->pid);
}

static bool pci_fits(const struct api_sel *sel, const struct db_device_name_row *row)
{
	if (sel->address)
		return streq(row->sysname, sel->address);
	return row->vendor_id > 0 && row->vendor_id == sel->pci_vid &&
	       row->product_id > 0 && row->product_id == sel->pci_did;
}

struct find {
	const struct api_sel *sel;
	struct api_dev *d;
	int r;
};

static int find_one(void *userdata, const struct db_device_name_row *row)
{
	struct find *f = userdata;

	if (!row->present)
		return 1;	/* plugged in ones come first: the rest are not */
	if (!streq(row->kind, dev_kind_to_string(f->sel->kind)))
		return 0;
	if (!(f->sel->kind == DEV_USB ? usb_fits(f->sel, row) : pci_fits(f->sel, row)))
		return 0;
	*f->d = (struct api_dev){ .id = row->id, .ident = strdup(row->ident),
				  .label = strdup(row->label) };
	f->r = f->d->ident && f->d->label ? 1 : -ENOMEM;
	if (f->r > 0) {
		struct udev *udev = udev_new();
		struct udev_device *ud = NULL;
		char syspath[DEVICE_DEVPATH_MAX + 8];

		snprintf(syspath, sizeof(syspath), "/sys%s", row->devpath);
		ud = udev ? udev_device_new_from_syspath(udev, syspath) : NULL;
		/* Gone meanwhile: found, but nothing to read (its remove is on its way). */
		if (ud && device_from_udev(ud, &f->d->dev) < 0)
			f->d->dev = NULL;
		udev_device_unref(ud);
		udev_unref(udev);
	}
	return 1;
}

int api_find(struct api_ctx *ctx, const struct api_sel *sel, struct api_dev *d)
{
	struct find f = { .sel = sel, .d = d };
	int r;

	*d = (struct api_dev){ 0 };
	r = db_devices_each_named(ctx->db, find_one, &f);
	if (r == 0)
		r = f.r;
	if (r < 0) {
		api_dev_clear(d);
		return r;
	}
	if (r > 0 && d->dev && !match_never_reason(d->dev))
		match_device(ctx->cfg, d->dev, &d->m, NULL);
	return r;
}

/* Python's str() of a name that may be missing. */
static const char *none(const char *s)
{
	return s ?: "None";
}

const char *api_friendly(const struct api_dev *d, char *buf, size_t size)
{
	const struct device *dev = d->dev;

	if (!dev)
		return d->label;
	/* usb.py and pci.py's friendly_name(): udev's "046d" and PCI_ID's "8086" as they are. */
	if (dev->kind == DEV_PCI)
		snprintf(buf, size, "%s %04X:%04X (%s %s)", dev->sysname, (unsigned)dev->vendor_id,
			 (unsigned)dev->product_id, none(dev->vendor_name), none(dev->product_name));
	else if (dev->vendor_id >= 0 && dev->product_id >= 0)
		snprintf(buf, size, "%04x:%04x (%s %s)", (unsigned)dev->vendor_id,
			 (unsigned)dev->product_id, none(dev->vendor_name), none(dev->product_name));
	else
		snprintf(buf, size, "%s", none(dev->devnode));
	return buf;
}
