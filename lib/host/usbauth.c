/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "match.h"
#include "sysfs.h"
#include "usbauth.h"

int usbauth_get(const char *dir, const char *attr)
{
	char buf[16];
	int r = sysfs_read(dir, attr, buf, sizeof(buf));

	if (r < 0)
		return r;
	if (streq(buf, "0") || streq(buf, "1"))
		return buf[0] - '0';
	return -EBADMSG;
}

int usbauth_set(const char *dir, const char *attr, const char *value)
{
	return sysfs_write_verify(dir, attr, value);
}

const char *usbauth_strerror(int r)
{
	if (r == -ELOOP)
		return "a symbolic link, not the kernel's attribute: refused";
	if (r == -EREMOTEIO)
		return "the kernel kept another value";
	return strerror(-r);
}

const char *usbauth_name(const char *dir)
{
	const char *s = strrchr(dir, '/');

	return s ? s + 1 : dir;
}

bool usbauth_is_hub(const struct device *dev)
{
	if (dev->dev_class == 9)
		return true;
	for (int i = 0; i < dev->n_ifaces; i++)
		if (dev->ifaces[i].cls == 9)
			return true;
	return false;
}

const struct rule *usbauth_host_rule(const struct config *cfg, const struct device *dev)
{
	const struct usb_authorization *a = &cfg->usb_auth;

	if (!a->enabled || dev->kind != DEV_USB)
		return NULL;
	for (size_t i = 0; i < a->n_host_allow; i++)
		if (!a->host_allow[i].disabled && match_rule(cfg, &a->host_allow[i], dev, NULL))
			return &a->host_allow[i];
	return NULL;
}

int usbauth_root_hub(const char *sysname, char *buf, size_t size)
{
	size_t bus = strspn(sysname, "0123456789");
	int n;

	/* "3-2.1" is on bus 3, whose root hub is "usb3". */
	if (bus == 0 || sysname[bus] != '-')
		return -ENODEV;
	n = snprintf(buf, size, "bus/usb/devices/usb%.*s", (int)bus, sysname);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int usbauth_interfaces_set(const char *dir, const char *value, size_t *n)
{
	_cleanup_close_ int fd = sysfs_open_dir(dir);
	const char *name = usbauth_name(dir);
	size_t len = strlen(name);
	DIR *d;
	struct dirent *e;
	int r = 0;

	*n = 0;
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d)
		return -errno;
	fd = -1;	/* the DIR has it */
	while (r == 0 && (e = readdir(d))) {
		int ifd;

		/* "1-3:1.0": an interface of configuration 1; a real directory, never a link. */
		if (strncmp(e->d_name, name, len) != 0 || e->d_name[len] != ':')
			continue;
		ifd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (ifd < 0) {
			r = -errno;
			break;
		}
		r = sysfs_write_verify_at(ifd, "authorized", value);
		close(ifd);
		if (r == 0)
			(*n)++;
	}
	closedir(d);
	return r;
}
