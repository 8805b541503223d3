/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "match.h"
#include "pcigroup.h"
#include "vfio.h"

/* The member at ADDR as the rules see it; NULL when sysfs cannot say. */
static struct device *member_read(struct udev *udev, const char *addr)
{
	struct udev_device *ud = udev_device_new_from_subsystem_sysname(udev, "pci", addr);
	struct device *dev = NULL;

	if (ud && device_from_udev(ud, &dev) < 0)
		dev = NULL;
	udev_device_unref(ud);
	return dev;
}

static bool set_takes(const struct config *cfg, const struct ruleset *set,
		      const struct device *dev)
{
	struct match_result m = { 0 };

	return dev && match_device(cfg, dev, &m, NULL) && m.set == set;
}

int pcigroup_foreach_other(const struct config *cfg, const struct ruleset *set,
			   const struct device *dev, pcigroup_fn fn, void *userdata)
{
	struct vfio_group g;
	struct udev *udev;
	int r = vfio_group_plan(dev->sysname, &g);

	if (r < 0)
		return r;
	udev = udev_new();
	if (!udev)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < g.n; i++) {
		const struct vfio_member *mb = &g.members[i];
		struct device *other;

		if (mb->bridge || streq(mb->addr, dev->sysname))
			continue;
		other = member_read(udev, mb->addr);
		if (!set_takes(cfg, set, other))
			r = fn(userdata, mb->addr, other);
		device_free(other);
	}
	udev_unref(udev);
	return r;
}

struct text {
	char *buf;
	size_t size, len;
};

static int text_add(void *userdata, const char *addr, const struct device *member)
{
	struct text *t = userdata;

	if (t->len < t->size)
		t->len += snprintf(t->buf + t->len, t->size - t->len, "%s%s", t->len ? ", " : "",
				   addr);
	return 0;
}

int pcigroup_unmatched(const struct config *cfg, const struct ruleset *set,
		       const struct device *dev, char *buf, size_t size)
{
	struct text t = { .buf = buf, .size = size };
	int r;

	buf[0] = '\0';
	r = pcigroup_foreach_other(cfg, set, dev, text_add, &t);
	return r < 0 ? r : buf[0] ? 1 : 0;
}
