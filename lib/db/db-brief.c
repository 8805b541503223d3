/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite set up for a process that opens the database once, writes one
 * transaction and exits (the helper, on udev's clock). Measured on the
 * development VM, where a page fault costs about 40 us: most of the helper's
 * time was first touches of memory, and the rest its fsyncs (bench/helper.sh,
 * HACKING.md).
 */
#include <errno.h>
#include <sqlite3.h>

#include "db.h"

static sqlite3_vfs *base;
static sqlite3_vfs brief_vfs;

/*
 * SQLite opens the WAL with O_CREAT and then, at the first commit, fsyncs
 * the directory too, so that a WAL it created is found after a power cut.
 * statd keeps the WAL there, so a helper opening it without O_CREAT creates
 * nothing and owes the directory no fsync (about 1 ms per event). When it is
 * not there (statd down and the last connection gone), it is opened as
 * SQLite asked, with the directory's fsync.
 */
static int brief_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
		      int *out_flags)
{
	if (name && (flags & SQLITE_OPEN_WAL) && (flags & SQLITE_OPEN_CREATE) &&
	    base->xOpen(base, name, file, flags & ~SQLITE_OPEN_CREATE, out_flags) == SQLITE_OK)
		return SQLITE_OK;
	return base->xOpen(base, name, file, flags, out_flags);
}

int db_setup_brief(void)
{
	int rc;

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
