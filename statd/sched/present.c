/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <libudev.h>

#include "log.h"
#include "macro.h"
#include "present.h"

static int one(const struct config *cfg, struct udev *udev, const char *syspath, present_fn fn,
	       void *userdata)
{
	struct udev_device *ud = udev_device_new_from_syspath(udev, syspath);
	struct device *dev = NULL;
	struct match_result m = { 0 };
	int r = 0;

	/* Not a device statd handles (an interface, a mouse node): skipped. */
	if (ud && device_from_udev(ud, &dev) == 0) {
		if (!match_never_reason(dev))
			match_device(cfg, dev, &m, NULL);
		r = fn(userdata, dev, &m);
	}
	device_free(dev);
	udev_device_unref(ud);
	return r;
}

int present_each(const struct config *cfg, present_fn fn, void *userdata)
{
	static const char *const subsystems[] = { "usb", "pci", "input" };
	struct udev *udev = udev_new();
	int r = udev ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(subsystems); i++) {
		struct udev_enumerate *e = udev_enumerate_new(udev);
		struct udev_list_entry *entry;

		if (!e || udev_enumerate_add_match_subsystem(e, subsystems[i]) < 0 ||
		    udev_enumerate_scan_devices(e) < 0) {
			log_err("cannot list %s devices", subsystems[i]);
			r = -EIO;
		}
		udev_list_entry_foreach(entry, e ? udev_enumerate_get_list_entry(e) : NULL) {
			r = one(cfg, udev, udev_list_entry_get_name(entry), fn, userdata);
			if (r < 0)
				break;
		}
		udev_enumerate_unref(e);
	}
	udev_unref(udev);
	return r;
}
