/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "db.h"
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

/* ---- one look, shared ---- */

struct present_entry {
	struct device *dev;
	struct match_result m;
};

struct present_look {
	const struct config *cfg;
	int64_t taken_ms;
	struct present_entry *v;
	size_t n;
	struct udev *udev;	/* while it is taken only */
};

/* DEVPATH, recorded as plugged in: kept if sysfs still has it. */
static int look_one(void *userdata, const char *devpath)
{
	struct present_look *look = userdata;
	struct present_entry e = { 0 };
	struct udev_device *ud;
	char syspath[DEVICE_DEVPATH_MAX + 8];
	void *v;

	if (snprintf(syspath, sizeof(syspath), "/sys%s", devpath) >= (int)sizeof(syspath))
		return 0;
	/* NULL when sysfs has no such directory: unplugged, its removal not recorded yet. */
	ud = udev_device_new_from_syspath(look->udev, syspath);
	if (!ud)
		return 0;
	if (device_from_udev(ud, &e.dev) < 0)
		e.dev = NULL;
	udev_device_unref(ud);
	if (!e.dev)
		return 0;
	if (!match_never_reason(e.dev))
		match_device(look->cfg, e.dev, &e.m, NULL);
	v = realloc(look->v, (look->n + 1) * sizeof(e));
	if (!v) {
		device_free(e.dev);
		return -ENOMEM;
	}
	look->v = v;
	look->v[look->n++] = e;
	return 0;
}

int present_look_take(const struct config *cfg, struct db *db, struct present_look **out)
{
	struct present_look *look = calloc(1, sizeof(*look));
	int r;

	if (!look)
		return -ENOMEM;
	look->cfg = cfg;
	look->taken_ms = clock_now_ms();
	look->udev = udev_new();
	r = look->udev ? db_devices_present(db, look_one, look) : -ENOMEM;
	look->udev = udev_unref(look->udev);
	if (r < 0) {
		present_look_free(look);
		return r;
	}
	log_debug("looked at what is plugged in: %zu device(s), %lld ms", look->n,
		  (long long)(clock_now_ms() - look->taken_ms));
	*out = look;
	return 0;
}

bool present_look_fresh(const struct present_look *look, const struct config *cfg,
			int64_t since_ms)
{
	return look && look->cfg == cfg && look->taken_ms >= since_ms;
}

int present_look_each(const struct present_look *look, present_fn fn, void *userdata)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < look->n; i++)
		r = fn(userdata, look->v[i].dev, &look->v[i].m);
	return r;
}

void present_look_free(struct present_look *look)
{
	if (!look)
		return;
	for (size_t i = 0; i < look->n; i++)
		device_free(look->v[i].dev);
	free(look->v);
	free(look);
}
