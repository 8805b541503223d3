/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "sysfs.h"

static int fmt(char *buf, size_t size, const char *a, const char *b)
{
	int n = snprintf(buf, size, "%s%s", a, b);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int sysfs_root(char *buf, size_t size)
{
	const char *v = getenv("VHOTPLUG_SYSFS_ROOT");

	if (v && *v)
		return fmt(buf, size, v, "");
	/* umockdev-run redirects "/sys" for libudev; name the testbed directly so
	 * that a write lands there with or without its preload. */
	v = getenv("UMOCKDEV_DIR");
	if (v && *v)
		return fmt(buf, size, v, "/sys");
	return fmt(buf, size, "/sys", "");
}

int sysfs_path(char *buf, size_t size, const char *path)
{
	char root[512];
	int r = sysfs_root(root, sizeof(root));

	if (r < 0)
		return r;
	if (strncmp(path, "/sys/", 5) == 0 || streq(path, "/sys"))
		path += 4;
	while (*path == '/')
		path++;
	if (!*path)
		return fmt(buf, size, root, "");
	int n = snprintf(buf, size, "%s/%s", root, path);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int sysfs_open_dir(const char *path)
{
	char p[1024];
	int r = sysfs_path(p, sizeof(p), path);

	if (r < 0)
		return r;
	r = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return r < 0 ? -errno : r;
}

/*
 * A value must be written whole and alone: the kernel parses each write(2).
 * O_TRUNC is what a shell's ">" does; sysfs ignores it, a testbed file needs it.
 */
int sysfs_write_at(int dirfd, const char *attr, const char *value)
{
	_cleanup_close_ int fd = openat(dirfd, attr, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	size_t len = strlen(value);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int sysfs_read_at(int dirfd, const char *attr, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dirfd, attr, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	ssize_t n;

	if (size == 0)
		return -EINVAL;
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return (int)n;
}

static size_t trimmed_len(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '\n')
		n--;
	return n;
}

int sysfs_write_verify_at(int dirfd, const char *attr, const char *value)
{
	char back[4096];
	size_t want = trimmed_len(value);
	int r = sysfs_write_at(dirfd, attr, value);

	if (r < 0)
		return r;
	r = sysfs_read_at(dirfd, attr, back, sizeof(back));
	if (r < 0)
		return r;
	if ((size_t)r != want || memcmp(back, value, want) != 0)
		return -EREMOTEIO;
	return 0;
}

int sysfs_link_name_at(int dirfd, const char *attr, char *buf, size_t size)
{
	char target[1024];
	ssize_t n = readlinkat(dirfd, attr, target, sizeof(target) - 1);
	const char *base;

	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	return fmt(buf, size, base, "");
}

int sysfs_write(const char *dir, const char *attr, const char *value)
{
	_cleanup_close_ int fd = sysfs_open_dir(dir);

	return fd < 0 ? fd : sysfs_write_at(fd, attr, value);
}

int sysfs_write_verify(const char *dir, const char *attr, const char *value)
{
	_cleanup_close_ int fd = sysfs_open_dir(dir);

	return fd < 0 ? fd : sysfs_write_verify_at(fd, attr, value);
}

int sysfs_read(const char *dir, const char *attr, char *buf, size_t size)
{
	_cleanup_close_ int fd = sysfs_open_dir(dir);

	return fd < 0 ? fd : sysfs_read_at(fd, attr, buf, size);
}
