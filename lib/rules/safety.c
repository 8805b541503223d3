/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "macro.h"
#include "safety.h"
#include "sysfs.h"

#define BLOCK_MAX 64
#define HOLDER_DEPTH 4	/* partition → LUKS → LVM → ...: enough for real stacks */

struct blockdev {
	char name[64];
	dev_t dev;
};

struct blocklist {
	size_t n;
	struct blockdev b[BLOCK_MAX];
};

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/* "WHAT" or "WHAT ARG": the reason for the history and `explain`. */
static int refuse(char *reason, size_t size, const char *what, const char *arg)
{
	snprintf(reason, size, "%s%s%s", what, arg ? " " : "", arg ? arg : "");
	return 1;
}

static bool class_is_hub(int dirfd, const char *attr)
{
	char v[16];

	return sysfs_read_at(dirfd, attr, v, sizeof(v)) > 0 && streq(v, "09");
}

static int check_hub(int devfd, const char *devname, char *reason, size_t size)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *e;
	int fd;

	if (class_is_hub(devfd, "bDeviceClass"))
		return refuse(reason, size, "is a USB hub", NULL);
	fd = openat(devfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	/* Interfaces are the children named "DEVNAME:CONFIG.IFACE". */
	while ((e = readdir(d))) {
		_cleanup_close_ int ifd = -1;
		size_t n = strlen(devname);

		if (strncmp(e->d_name, devname, n) != 0 || e->d_name[n] != ':')
			continue;
		ifd = openat(devfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (ifd >= 0 && class_is_hub(ifd, "bInterfaceClass"))
			return refuse(reason, size, "is a USB hub: its interface", e->d_name);
	}
	return 0;
}

static int block_add(struct blocklist *l, const char *name)
{
	char rel[128], v[32];
	unsigned int maj, min;
	int r;

	for (size_t i = 0; i < l->n; i++)
		if (streq(l->b[i].name, name))
			return 0;
	if (l->n == BLOCK_MAX)
		return -E2BIG;
	snprintf(rel, sizeof(rel), "class/block/%s", name);
	r = sysfs_read(rel, "dev", v, sizeof(v));
	if (r < 0)
		return r;
	if (sscanf(v, "%u:%u", &maj, &min) != 2)
		return -EINVAL;
	snprintf(l->b[l->n].name, sizeof(l->b[0].name), "%s", name);
	l->b[l->n].dev = makedev(maj, min);
	l->n++;
	return 0;
}

/* Devices stacked on NAME (dm-crypt, LVM, md) back whatever they back. */
static int block_add_holders(struct blocklist *l, const char *name, int depth)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char rel[128];
	struct dirent *e;
	int fd, r;

	if (depth == HOLDER_DEPTH)
		return 0;
	snprintf(rel, sizeof(rel), "class/block/%s/holders", name);
	fd = sysfs_open_dir(rel);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		r = block_add(l, e->d_name);
		if (r == 0)
			r = block_add_holders(l, e->d_name, depth + 1);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	return 0;
}

/* Every disk and partition whose device path lies below DEVREL ("devices/..."). */
static int block_collect(const char *devrel, struct blocklist *l)
{
	_cleanup_(closedirp) DIR *d = NULL;
	size_t n = strlen(devrel);
	struct dirent *e;
	int fd = sysfs_open_dir("class/block"), r;

	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(d))) {
		char target[1024];
		const char *t = target;
		ssize_t len;

		if (e->d_name[0] == '.')
			continue;
		len = readlinkat(fd, e->d_name, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		while (strncmp(t, "../", 3) == 0)
			t += 3;
		if (strncmp(t, devrel, n) != 0 || t[n] != '/')
			continue;
		r = block_add(l, e->d_name);
		if (r == 0)
			r = block_add_holders(l, e->d_name, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

static FILE *proc_open(const char *name)
{
	const char *root = getenv("VHOTPLUG_PROC_ROOT");
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root && *root ? root : "/proc", name);
	return fopen(p, "re");
}

/* mountinfo and swaps escape space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static const struct blockdev *block_find(const struct blocklist *l, dev_t dev)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->b[i].dev == dev)
			return &l->b[i];
	return NULL;
}

static int check_mounts(const struct blocklist *l, char *reason, size_t size)
{
	_cleanup_(fclosep) FILE *f = proc_open("self/mountinfo");
	char line[4096];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned int maj, min;
		char mnt[4096];

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
		if (sscanf(line, "%*s %*s %u:%u %*s %4095s", &maj, &min, mnt) != 3)
			continue;
		if (!block_find(l, makedev(maj, min)))
			continue;
		unescape(mnt);
		return refuse(reason, size, "backs the filesystem mounted at", mnt);
	}
	return 0;
}

static int check_swaps(const struct blocklist *l, char *reason, size_t size)
{
	_cleanup_(fclosep) FILE *f = proc_open("swaps");
	char line[4096];

	if (!f)
		return errno == ENOENT ? 0 : -errno;	/* a kernel without swap support */
	while (fgets(line, sizeof(line), f)) {
		char path[4096];
		const char *base;
		struct stat st;

		if (sscanf(line, "%4095s", path) != 1 || path[0] != '/')
			continue;	/* the header line */
		unescape(path);
		base = strrchr(path, '/') + 1;
		for (size_t i = 0; i < l->n; i++)
			if (streq(l->b[i].name, base))
				return refuse(reason, size, "backs the swap area", path);
		if (stat(path, &st) < 0)
			continue;
		if (S_ISBLK(st.st_mode) && block_find(l, st.st_rdev))
			return refuse(reason, size, "backs the swap area", path);
		if (S_ISREG(st.st_mode) && block_find(l, st.st_dev))
			return refuse(reason, size, "holds the swap file", path);
	}
	return 0;
}

/* No "." or ".." component, no empty one: the path stays where it says. */
static bool plain_components(const char *p)
{
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

int safety_check_usb(const char *syspath, char *reason, size_t size)
{
	struct blocklist l = { 0 };
	_cleanup_close_ int fd = -1;
	const char *rel = syspath, *name;
	int r;

	if (strncmp(rel, "/sys/", 5) == 0)
		rel += 5;
	while (*rel == '/')
		rel++;
	if (strncmp(rel, "devices/", 8) != 0 || !plain_components(rel))
		return -EINVAL;
	name = strrchr(rel, '/') + 1;
	fd = sysfs_open_dir(rel);
	if (fd < 0)
		return fd;
	r = check_hub(fd, name, reason, size);
	if (r != 0)
		return r;
	r = block_collect(rel, &l);
	if (r < 0 || l.n == 0)
		return r;
	r = check_mounts(&l, reason, size);
	if (r != 0)
		return r;
	return check_swaps(&l, reason, size);
}
