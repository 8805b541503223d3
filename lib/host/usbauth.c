/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

void usbauth_append(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n && n + 2 < size)
		n += (size_t)snprintf(buf + n, size - n, ", ");
	if (n >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
}

bool usbauth_by_interface(const struct rule *rule, const struct device *dev)
{
	if (!(rule->fields & (RF_IF_CLASS | RF_IF_SUBCLASS | RF_IF_PROTOCOL)))
		return false;
	for (int i = 0; i < dev->n_ifaces; i++)
		if (!match_iface(rule, &dev->ifaces[i]))
			return true;
	return false;
}

/* The class, subclass and protocol of the interface at IFD, as sysfs gives them (hex). */
static int iface_read(int ifd, struct usb_iface *f)
{
	static const char *const attrs[] = { "bInterfaceClass", "bInterfaceSubClass",
					     "bInterfaceProtocol" };
	int *v[] = { &f->cls, &f->subclass, &f->protocol };
	char buf[16], *end;

	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		int r = sysfs_read_at(ifd, attrs[i], buf, sizeof(buf));

		if (r < 0)
			return r;
		*v[i] = (int)strtol(buf, &end, 16);
		if (end == buf || *end)
			return -EBADMSG;
	}
	return 0;
}

/* Interface NAME (at IFD) for the host: authorized, then offered to the drivers. */
static int iface_allow(int ifd, const char *name, char *done, size_t size)
{
	int r = sysfs_write_verify_at(ifd, "authorized", "1");

	if (r < 0)
		return r;
	usbauth_append(done, size, "%s/authorized 1", name);
	/* Write-only, and the kernel answers a probe that binds nothing with an error: not read back. */
	r = sysfs_write("bus/usb", "drivers_probe", name);
	if (r < 0)
		return r;
	usbauth_append(done, size, "%s to drivers_probe", name);
	return 0;
}

/* "1-3:1.0", an interface of configuration 1, for scandirat(); NAME is the device's. */
static const char *filter_name;

static int is_iface(const struct dirent *e)
{
	size_t len = strlen(filter_name);

	return strncmp(e->d_name, filter_name, len) == 0 && e->d_name[len] == ':';
}

/*
 * Walk the interfaces of DIR in order: those RULE names go to ON_NAMED, the
 * others to ON_OTHER (NULL: only listed in OTHERS).
 */
typedef int (*iface_fn)(int ifd, const char *name, char *done, size_t size);

static int walk(const char *dir, const struct rule *rule, iface_fn on_named, iface_fn on_other,
		char *done, size_t dsize, char *others, size_t osize)
{
	_cleanup_close_ int fd = sysfs_open_dir(dir);
	struct dirent **v = NULL;
	int n, r = 0;

	if (fd < 0)
		return fd;
	/* In order, so that history names them as lsusb would. */
	filter_name = usbauth_name(dir);
	n = scandirat(fd, ".", &v, is_iface, alphasort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		struct usb_iface f;
		int ifd = -1;

		if (r == 0) {
			ifd = openat(fd, v[i]->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			r = ifd < 0 ? -errno : iface_read(ifd, &f);
		}
		if (r == 0 && match_iface(rule, &f))
			r = on_named(ifd, v[i]->d_name, done, dsize);
		else if (r == 0 && on_other)
			r = on_other(ifd, v[i]->d_name, done, dsize);
		else if (r == 0)
			usbauth_append(others, osize, "%s", v[i]->d_name);
		if (ifd >= 0)
			close(ifd);
		free(v[i]);
	}
	free(v);
	return r;
}

int usbauth_interfaces_allow(const char *dir, const struct rule *rule, char *done, size_t dsize,
			     char *skipped, size_t ssize)
{
	return walk(dir, rule, iface_allow, NULL, done, dsize, skipped, ssize);
}

static int iface_keep(int ifd, const char *name, char *done, size_t size)
{
	(void)ifd, (void)name, (void)done, (void)size;
	return 0;
}

/* Interface NAME (at IFD) from the host: 0 unbinds its driver. Already 0: nothing written. */
static int iface_deny(int ifd, const char *name, char *done, size_t size)
{
	char buf[16];
	int r = sysfs_read_at(ifd, "authorized", buf, sizeof(buf));

	if (r >= 0 && streq(buf, "0"))
		return 0;
	r = sysfs_write_verify_at(ifd, "authorized", "0");
	if (r == 0)
		usbauth_append(done, size, "%s/authorized 0", name);
	return r;
}

int usbauth_interfaces_deny_others(const char *dir, const struct rule *rule, char *done,
				   size_t size)
{
	return walk(dir, rule, iface_keep, iface_deny, done, size, NULL, 0);
}
