/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "sysfs.h"
#include "vfio.h"

#define VFIO_DRIVER "vfio-pci"

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

bool vfio_addr_valid(const char *addr)
{
	static const char shape[] = "xxxx:xx:xx.x";

	if (!addr || strlen(addr) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == 'x' ? !isxdigit((unsigned char)addr[i]) : addr[i] != shape[i])
			return false;
	}
	return true;
}

static int device_dir(const char *addr)
{
	char rel[64];

	if (!vfio_addr_valid(addr))
		return -EINVAL;
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s", addr);
	return sysfs_open_dir(rel);
}

/* Fill M from the device directory: driver name and whether it is a bridge. */
static int member_read(int dirfd, struct vfio_member *m)
{
	char class[32];
	int r = sysfs_link_name_at(dirfd, "driver", m->driver, sizeof(m->driver));

	if (r == -ENOENT)
		m->driver[0] = '\0';
	else if (r < 0)
		return r;
	r = sysfs_read_at(dirfd, "class", class, sizeof(class));
	if (r < 0)
		return r;
	m->bridge = (strtoul(class, NULL, 16) >> 8) == 0x0604;
	return 0;
}

static int member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vfio_member *)a)->addr, ((const struct vfio_member *)b)->addr);
}

int vfio_group_plan(const char *addr, struct vfio_group *g)
{
	_cleanup_close_ int fd = device_dir(addr);
	_cleanup_(closedirp) DIR *d = NULL;
	char name[32], rel[96];
	struct dirent *e;
	int r, dfd;

	memset(g, 0, sizeof(*g));
	if (fd < 0)
		return fd;
	r = sysfs_link_name_at(fd, "iommu_group", name, sizeof(name));
	if (r < 0)
		return r == -ENOENT ? -ENODEV : r;
	g->group = atoi(name);
	snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d/devices", g->group);
	dfd = sysfs_open_dir(rel);
	if (dfd < 0)
		return dfd;
	d = fdopendir(dfd);
	if (!d) {
		r = -errno;
		close(dfd);
		return r;
	}
	while ((e = readdir(d))) {
		struct vfio_member *m;
		_cleanup_close_ int mfd = -1;

		if (e->d_name[0] == '.')
			continue;
		if (!vfio_addr_valid(e->d_name))
			continue;
		if (g->n == VFIO_GROUP_MAX)
			return -E2BIG;
		m = &g->members[g->n];
		memcpy(m->addr, e->d_name, VFIO_ADDR_MAX - 4);	/* valid: 12 chars */
		m->addr[VFIO_ADDR_MAX - 4] = '\0';
		mfd = device_dir(m->addr);
		if (mfd < 0)
			return mfd;
		r = member_read(mfd, m);
		if (r < 0)
			return r;
		g->n++;
	}
	qsort(g->members, g->n, sizeof(g->members[0]), member_cmp);
	return 0;
}

/* Unbind through the device's driver directory, so no path is built from a name. */
static int unbind(int devfd, const char *addr)
{
	_cleanup_close_ int drv = openat(devfd, "driver", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (drv < 0)
		return errno == ENOENT ? 0 : -errno;
	return sysfs_write_at(drv, "unbind", addr);
}

static int probe(const char *addr)
{
	return sysfs_write("bus/pci", "drivers_probe", addr);
}

int vfio_bind_member(const char *addr)
{
	_cleanup_close_ int fd = device_dir(addr);
	struct vfio_member m = { 0 };
	int r;

	if (fd < 0)
		return fd;
	r = member_read(fd, &m);
	if (r < 0)
		return r;
	if (m.bridge)
		return -EPERM;
	/* Override first: from then on no other driver can claim it. */
	r = sysfs_write_verify_at(fd, "driver_override", VFIO_DRIVER);
	if (r < 0)
		return r;
	if (streq(m.driver, VFIO_DRIVER))
		return 0;
	r = unbind(fd, addr);
	if (r < 0)
		return r;
	log_debug("%s: unbound from %s", addr, m.driver[0] ? m.driver : "(none)");
	return probe(addr);
}

int vfio_restore_member(const char *addr, const char *driver)
{
	_cleanup_close_ int fd = device_dir(addr);
	char cur[VFIO_DRIVER_MAX] = "", back[VFIO_DRIVER_MAX];
	int r;

	if (fd < 0)
		return fd;
	if (driver && *driver && (strchr(driver, '/') || driver[0] == '.'))
		return -EINVAL;
	/* "\n" clears the override; the kernel then shows "(null)". */
	r = sysfs_write_at(fd, "driver_override", "\n");
	if (r < 0)
		return r;
	r = sysfs_read_at(fd, "driver_override", back, sizeof(back));
	if (r < 0)
		return r;
	if (r > 0 && !streq(back, "(null)"))
		return -EREMOTEIO;
	r = sysfs_link_name_at(fd, "driver", cur, sizeof(cur));
	if (r < 0 && r != -ENOENT)
		return r;
	if (driver && streq(cur, driver))
		return 0;
	/* Another driver took it meanwhile (an operator, a rebind): leave it be. */
	if (cur[0] && !streq(cur, VFIO_DRIVER))
		return 0;
	r = unbind(fd, addr);
	if (r < 0)
		return r;
	if (driver && *driver) {
		char rel[128];

		snprintf(rel, sizeof(rel), "bus/pci/drivers/%s", driver);
		r = sysfs_write(rel, "bind", addr);
		/* The driver may be gone (module unloaded): let the core find one. */
		if (r != -ENOENT)
			return r;
	}
	return probe(addr);
}

int vfio_dev_dir(char *buf, size_t size)
{
	const char *root = getenv("VHOTPLUG_DEV_ROOT");
	const char *mock = getenv("UMOCKDEV_DIR");
	int n;

	if (root && *root)
		n = snprintf(buf, size, "%s/vfio", root);
	else if (mock && *mock)
		n = snprintf(buf, size, "%s/dev/vfio", mock);
	else
		n = snprintf(buf, size, "/dev/vfio");
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int vfio_dev_path(int group, char *buf, size_t size)
{
	size_t len;
	int n, r;

	if (group < 0)
		return -EINVAL;
	r = vfio_dev_dir(buf, size);
	if (r < 0)
		return r;
	len = strlen(buf);
	n = snprintf(buf + len, size - len, "/%d", group);
	return n < 0 || (size_t)n >= size - len ? -ENAMETOOLONG : 0;
}

bool vfio_dev_ready(int group)
{
	char p[512];

	return vfio_dev_path(group, p, sizeof(p)) == 0 && access(p, F_OK) == 0;
}
