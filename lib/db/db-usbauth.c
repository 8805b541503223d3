/* SPDX-License-Identifier: Apache-2.0 */
/*
 * usbAuthorization's records: the authorized_default values statd found
 * before it wrote 0 (table usb_auth_saved), and whether a device is in a VM
 * (deauthorizeUnmatched leaves those alone). Rare: prepared per call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db-private.h"
#include "macro.h"

int db_usbauth_save(struct db *db, const char *path, const char *value)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "INSERT INTO usb_auth_saved (path, value) VALUES (?1, ?2)"
			" ON CONFLICT (path) DO NOTHING", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
	r = db_step_done(db, st, "save authorized_default");
	sqlite3_finalize(st);
	return r;
}

int db_usbauth_saved_each(struct db *db, db_usbauth_saved_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT path, value FROM usb_auth_saved ORDER BY path", &st);
	int rc;

	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn(userdata, db_col_text(st, 0) ?: "", db_col_text(st, 1) ?: "");
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_fail(db, rc, "read saved authorized_default");
	sqlite3_finalize(st);
	return r;
}

int db_usbauth_forget(struct db *db, const char *path)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "DELETE FROM usb_auth_saved WHERE path = ?1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
	r = db_step_done(db, st, "forget authorized_default");
	sqlite3_finalize(st);
	return r;
}

int db_usbauth_in_vm(struct db *db, const char *devpath, bool *in_vm)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT count(*) FROM attachments a JOIN devices d ON d.id = a.device_id"
			" WHERE d.kind = 'usb' AND d.present = 1 AND d.devpath = ?1", &st);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, devpath, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*in_vm = sqlite3_column_int(st, 0) > 0;
	else
		r = db_fail(db, rc, "look for attachments");
	sqlite3_finalize(st);
	return r;
}
