/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite set up for a process that opens the database once, writes one
 * transaction and exits (the helper, on udev's clock). Measured on the
 * development VM, where a page fault costs about 40 us: most of the helper's
 * time was first touches of memory (bench/helper-faults.sh, HACKING.md).
 * Its commit has no fsync at all: DB_RELAXED (db.h).
 */
#include <errno.h>
#include <sqlite3.h>

#include "db.h"

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
	return rc == SQLITE_OK ? 0 : -EBUSY;	/* SQLite was initialized already: too late */
}
