/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Records of host-side state that statd changes and must give back: the
 * drivers PCI functions had before vfio-pci took them. Rare writes: each
 * statement is prepared per call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db-private.h"
#include "macro.h"
#include "vfio.h"

static int finish(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(db, rc, what);
}

int db_host_driver_save(struct db *db, const char *address, const char *driver, const char *vm)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "INSERT INTO host_drivers (address, driver, vm) VALUES (?1, ?2, ?3)"
			" ON CONFLICT (address) DO NOTHING", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, driver ?: "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, vm, -1, SQLITE_TRANSIENT);
	return finish(db, st, "record host driver");
}

int db_host_drivers_save_group(struct db *db, const struct vfio_group *g, const char *vm)
{
	int r = db_begin(db);

	for (size_t i = 0; r == 0 && i < g->n; i++)
		if (!g->members[i].bridge)
			r = db_host_driver_save(db, g->members[i].addr, g->members[i].driver, vm);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r;
}

int db_host_driver_get(struct db *db, const char *address, char **driver)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT driver FROM host_drivers WHERE address = ?1", &st);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*driver = strdup((const char *)sqlite3_column_text(st, 0) ?: "");
		r = *driver ? 0 : -ENOMEM;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : db_fail(db, rc, "read host driver");
	}
	sqlite3_finalize(st);
	return r;
}

int db_host_driver_del(struct db *db, const char *address)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "DELETE FROM host_drivers WHERE address = ?1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_TRANSIENT);
	return finish(db, st, "remove host driver");
}

int db_pci_attached_count(struct db *db, const char *const *addresses, size_t n, int64_t device_id,
			  int *count)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT count(*) FROM attachments a JOIN devices d ON d.id = a.device_id"
			" WHERE d.kind = 'pci' AND d.id != ?1 AND d.sysname = ?2", &st);

	if (r < 0)
		return r;
	*count = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		sqlite3_bind_int64(st, 1, device_id);
		sqlite3_bind_text(st, 2, addresses[i], -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			*count += sqlite3_column_int(st, 0);
		else
			r = db_fail(db, sqlite3_errcode(db->sql), "count attachments");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}
