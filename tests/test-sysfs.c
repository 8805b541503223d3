/* SPDX-License-Identifier: Apache-2.0 */
/* lib/sysfs: re-rooting, whole writes through the directory fd, read-back. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "check.h"
#include "macro.h"
#include "sysfs.h"

static char root[] = "/tmp/test-sysfs-XXXXXX";

static void put(const char *rel, const char *content)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	if (!f || fputs(content, f) < 0 || fclose(f) != 0)
		abort();
}

static void get(const char *rel, char *buf, size_t size)
{
	char p[512];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "r");
	if (!f)
		abort();
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void test_root_follows_environment(void)
{
	char buf[256];

	setenv("VHOTPLUG_SYSFS_ROOT", "/x/sys", 1);
	CHECK(sysfs_path(buf, sizeof(buf), "/sys/devices/pci0000:00") == 0);
	CHECK(streq(buf, "/x/sys/devices/pci0000:00"));
	CHECK(sysfs_path(buf, sizeof(buf), "bus/pci/drivers_probe") == 0);
	CHECK(streq(buf, "/x/sys/bus/pci/drivers_probe"));
	CHECK(sysfs_path(buf, sizeof(buf), "/sysfoo") == 0);
	CHECK(streq(buf, "/x/sys/sysfoo"));
	unsetenv("VHOTPLUG_SYSFS_ROOT");

	setenv("UMOCKDEV_DIR", "/tmp/umockdev.abc", 1);
	CHECK(sysfs_path(buf, sizeof(buf), "/sys/devices") == 0);
	CHECK(streq(buf, "/tmp/umockdev.abc/sys/devices"));
	unsetenv("UMOCKDEV_DIR");

	CHECK(sysfs_path(buf, sizeof(buf), "/sys/devices") == 0);
	CHECK(streq(buf, "/sys/devices"));
	CHECK(sysfs_path(buf, 8, "/sys/devices") == -ENAMETOOLONG);
}

static void test_write_is_whole_and_replaces(void)
{
	char buf[64];

	put("dev/driver_override", "(null)\n");
	CHECK(sysfs_write("/sys/dev", "driver_override", "vfio-pci") == 0);
	get("dev/driver_override", buf, sizeof(buf));
	CHECK(streq(buf, "vfio-pci"));
	CHECK(sysfs_write("dev", "driver_override", "\n") == 0);
	get("dev/driver_override", buf, sizeof(buf));
	CHECK(streq(buf, "\n"));
}

static void test_read_strips_newline(void)
{
	char buf[64];

	put("dev/class", "0x060400\n");
	CHECK(sysfs_read("/sys/dev", "class", buf, sizeof(buf)) == 8);
	CHECK(streq(buf, "0x060400"));
	CHECK(sysfs_read("/sys/dev", "nothing", buf, sizeof(buf)) == -ENOENT);
}

static void test_symlinked_attribute_is_refused(void)
{
	char p[512];

	put("dev/elsewhere", "x\n");
	snprintf(p, sizeof(p), "%s/dev/link", root);
	CHECK(symlink("elsewhere", p) == 0);
	CHECK(sysfs_write("/sys/dev", "link", "y") == -ELOOP);
	CHECK(sysfs_write("/sys/missing", "attr", "y") == -ENOENT);
	CHECK(sysfs_write("/sys/dev", "absent", "y") == -ENOENT);
}

static void test_verify_sees_kept_value(void)
{
	char p[512];

	put("dev/driver_override", "(null)\n");
	CHECK(sysfs_write_verify("/sys/dev", "driver_override", "vfio-pci\n") == 0);
	/* A character device that swallows writes and reads back empty plays a
	 * kernel that refuses the value without an error. Needs root for mknod. */
	snprintf(p, sizeof(p), "%s/dev/null", root);
	if (mknod(p, S_IFCHR | 0600, makedev(1, 3)) == 0) {
		CHECK(sysfs_write_verify("/sys/dev", "null", "vfio-pci") == -EREMOTEIO);
		CHECK(sysfs_write("/sys/dev", "null", "vfio-pci") == 0);
	} else {
		fprintf(stderr, "skip: mknod: %s\n", strerror(errno));
	}
	/* /dev/full fails the write: the error comes back, not success. */
	snprintf(p, sizeof(p), "%s/dev/full", root);
	if (mknod(p, S_IFCHR | 0600, makedev(1, 7)) == 0)
		CHECK(sysfs_write("/sys/dev", "full", "x") == -ENOSPC);
}

static void test_link_name(void)
{
	char p[512], buf[64];
	_cleanup_close_ int fd = -1;

	snprintf(p, sizeof(p), "%s/dev/driver", root);
	CHECK(symlink("../../bus/pci/drivers/nvme", p) == 0);
	fd = sysfs_open_dir("/sys/dev");
	CHECK(fd >= 0);
	CHECK(sysfs_link_name_at(fd, "driver", buf, sizeof(buf)) == 0);
	CHECK(streq(buf, "nvme"));
	CHECK(sysfs_link_name_at(fd, "class", buf, sizeof(buf)) == -EINVAL);
}

int main(void)
{
	char cmd[600];

	if (!mkdtemp(root))
		abort();
	test_root_follows_environment();
	setenv("VHOTPLUG_SYSFS_ROOT", root, 1);
	snprintf(cmd, sizeof(cmd), "%s/dev", root);
	if (mkdir(cmd, 0755) < 0)
		abort();
	test_write_is_whole_and_replaces();
	test_read_strips_newline();
	test_symlinked_attribute_is_refused();
	test_verify_sees_kept_value();
	test_link_name();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		CHECK(!"cleanup");
	return check_result();
}
