/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/*
 * Every sysfs write of vhotplug goes through here: the attribute is opened
 * relative to the device's directory fd (never through a symlink), the whole
 * value goes out in one write(2) and the byte count is checked, and where the
 * kernel may silently keep its old value the attribute is read back.
 *
 * Paths may be given as the kernel names them ("/sys/devices/...", as libudev
 * reports them) or relative to the sysfs root; either is re-rooted at
 * sysfs_root(), so a umockdev testbed sees the writes.
 */

/* $VHOTPLUG_SYSFS_ROOT, else umockdev's testbed ($UMOCKDEV_DIR/sys), else /sys. */
int sysfs_root(char *buf, size_t size);

/* PATH ("/sys/x", "x" or "/x") under the sysfs root, into BUF. 0 or -ENAMETOOLONG. */
int sysfs_path(char *buf, size_t size, const char *path);

/* Open a device directory (symlinks to it are followed: sysfs links them). fd or -errno. */
int sysfs_open_dir(const char *path);

/*
 * Write VALUE to ATTR of DIRFD: opened O_NOFOLLOW, one write(2) of all of VALUE.
 * 0, -errno of open/write, or -EIO when fewer bytes were taken.
 */
int sysfs_write_at(int dirfd, const char *attr, const char *value);

/*
 * As sysfs_write_at, then read ATTR back and compare with VALUE (a trailing
 * newline ignored on both sides). -EREMOTEIO when the kernel kept another value.
 */
int sysfs_write_verify_at(int dirfd, const char *attr, const char *value);

/* Read ATTR of DIRFD into BUF, without the trailing newline. Length or -errno. */
int sysfs_read_at(int dirfd, const char *attr, char *buf, size_t size);

/* The last component of the symlink ATTR of DIRFD (a driver, a group), into BUF. */
int sysfs_link_name_at(int dirfd, const char *attr, char *buf, size_t size);

/* The same, by directory path. */
int sysfs_write(const char *dir, const char *attr, const char *value);
int sysfs_write_verify(const char *dir, const char *attr, const char *value);
int sysfs_read(const char *dir, const char *attr, char *buf, size_t size);
