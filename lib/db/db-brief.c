/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite set up for a process that opens the database once, writes one
 * transaction and exits (the helper, on udev's clock). Measured on the
 * development VM, where a page fault costs about 40 us: most of the helper's
 * time was first touches of memory, and the rest its fsyncs
 * (bench/helper-faults.sh, HACKING.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "macro.h"

static sqlite3_vfs *base;
static sqlite3_vfs brief_vfs;
static char mark[PATH_MAX];	/* empty: every WAL is opened as SQLite asks */

/* Which WAL: a file deleted and made again gets another birth time. */
static int wal_identify(const char *wal, char *id, size_t size)
{
	struct statx stx;

	if (statx(AT_FDCWD, wal, AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_BTIME, &stx) < 0)
		return -errno;
	if (!(stx.stx_mask & STATX_BTIME) || !S_ISREG(stx.stx_mode))
		return -EOPNOTSUPP;
	snprintf(id, size, "%u:%u %llu %lld.%09u\n", stx.stx_dev_major, stx.stx_dev_minor,
		 (unsigned long long)stx.stx_ino, (long long)stx.stx_btime.tv_sec,
		 stx.stx_btime.tv_nsec);
	return 0;
}

static bool mark_says(const char *id)
{
	char have[128];
	_cleanup_close_ int fd = open(mark, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, have, sizeof(have) - 1);

	if (n <= 0)
		return false;
	have[n] = '\0';
	return streq(have, id);
}

/* Written only once the directory is synced; it may be lost, and then is written again. */
static int mark_write(const char *id)
{
	char tmp[PATH_MAX + 32];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(id);

	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", mark, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, id, len) != (ssize_t)len || rename(tmp, mark) < 0) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

static int dir_sync(const char *file)
{
	char dir[PATH_MAX];
	char *slash;
	_cleanup_close_ int fd = -1;

	snprintf(dir, sizeof(dir), "%s", file);
	slash = strrchr(dir, '/');
	if (!slash)
		return -EINVAL;	/* SQLite hands the VFS full paths */
	slash[slash == dir] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

/*
 * A WAL whose directory entry is known durable: MARK names it, or the
 * directory was synced now and MARK written. A WAL that another program
 * made (statd, reading, or vhotplugctl) may not be in the directory after a
 * power cut yet, and then the helper's commit, synced into it, would be lost.
 */
static bool wal_durable(const char *wal, char *id, size_t size)
{
	if (!mark[0] || wal_identify(wal, id, size) < 0)
		return false;
	return mark_says(id) || (dir_sync(wal) == 0 && mark_write(id) == 0);
}

/*
 * SQLite opens the WAL with O_CREAT and then, at the first commit, fsyncs
 * the directory too, so that a WAL it created is found after a power cut:
 * about 1 ms per event. An existing WAL known durable (wal_durable()) is
 * opened without O_CREAT, which SQLite takes as "not created": no directory
 * fsync. Checked again after the open, in case the WAL was deleted and made
 * again meanwhile; anything else is opened as SQLite asked.
 */
static int brief_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
		      int *out_flags)
{
	char id[128], now[128];

	if (name && (flags & SQLITE_OPEN_WAL) && (flags & SQLITE_OPEN_CREATE) &&
	    wal_durable(name, id, sizeof(id)) &&
	    base->xOpen(base, name, file, flags & ~SQLITE_OPEN_CREATE, out_flags) == SQLITE_OK) {
		if (wal_identify(name, now, sizeof(now)) == 0 && streq(id, now))
			return SQLITE_OK;
		file->pMethods->xClose(file);
		file->pMethods = NULL;
	}
	return base->xOpen(base, name, file, flags, out_flags);
}

int db_setup_brief(const char *mark_file)
{
	int rc;

	if (mark_file && snprintf(mark, sizeof(mark), "%s", mark_file) >= (int)sizeof(mark))
		mark[0] = '\0';

	/*
	 * Each of these made SQLite touch memory a single transaction never
	 * uses: 100+ KiB of lookaside slots per connection and a first bulk of
	 * 20 page-cache slots, about 70 page faults per event; the memory
	 * statistics take a mutex per allocation.
	 */
	rc = sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
	if (rc == SQLITE_OK)
		rc = sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
	if (rc == SQLITE_OK)
		rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (rc != SQLITE_OK)
		return -EBUSY;	/* SQLite was initialized already: too late */
	base = sqlite3_vfs_find(NULL);
	if (!base)
		return -ENOENT;
	brief_vfs = *base;
	brief_vfs.zName = "vhotplug-brief";
	brief_vfs.xOpen = brief_open;
	rc = sqlite3_vfs_register(&brief_vfs, 1);
	return rc == SQLITE_OK ? 0 : db_errno(rc);
}
