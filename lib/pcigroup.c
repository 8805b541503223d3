/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "match.h"
#include "pcigroup.h"
#include "vfio.h"

static bool set_takes(const struct config *cfg, const struct ruleset *set, struct udev *udev,
		      const char *addr)
{
	struct udev_device *ud = udev_device_new_from_subsystem_sysname(udev, "pci", addr);
	struct device *dev = NULL;
	struct match_result m = { 0 };
	bool takes = false;

	if (ud && device_from_udev(ud, &dev) == 0)
		takes = match_device(cfg, dev, &m, NULL) && m.set == set;
	device_free(dev);
	udev_device_unref(ud);
	return takes;
}

int pcigroup_unmatched(const struct config *cfg, const struct ruleset *set,
		       const struct device *dev, char *buf, size_t size)
{
	struct vfio_group g;
	struct udev *udev;
	size_t len = 0;
	int r = vfio_group_plan(dev->sysname, &g);

	if (r < 0)
		return r;
	udev = udev_new();
	if (!udev)
		return -ENOMEM;
	buf[0] = '\0';
	for (size_t i = 0; i < g.n; i++) {
		const struct vfio_member *mb = &g.members[i];

		if (mb->bridge || streq(mb->addr, dev->sysname) || set_takes(cfg, set, udev, mb->addr))
			continue;
		if (len < size)
			len += snprintf(buf + len, size - len, "%s%s", len ? ", " : "", mb->addr);
	}
	udev_unref(udev);
	return buf[0] ? 1 : 0;
}
