/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads for the original's JSON API (lib/api): history rows with their
 * device, for notifications, and where a plugged-in device is, for lists.
 * Nothing here writes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db-private.h"
#include "macro.h"

static const char sql_history[] =
	"SELECT h.id, coalesce(h.device_id, 0), h.event, h.vm, h.detail,"
	" d.kind, d.devpath, d.sysname, d.devnode, d.vendor_name, d.product_name, d.serial,"
	" coalesce(d.vendor_id, -1), coalesce(d.product_id, -1), coalesce(d.busnum, -1),"
	" coalesce(d.devnum, -1), coalesce(d.present, 0)"
	" FROM history h LEFT JOIN devices d ON d.id = h.device_id WHERE h.id > ?1 ORDER BY h.id";
/*
 * The rows that end what an unplug's detach waits for: its outcome, or an
 * attach that failed or was cancelled (the device went while it was going in).
 */
static const char sql_detach_awaited[] =
	"SELECT EXISTS (SELECT 1 FROM attachments WHERE device_id = ?1)"
	" OR EXISTS (SELECT 1 FROM history WHERE id > ?2 AND device_id = ?1 AND event IN"
	" ('detached', 'detach_failed', 'detach_timeout', 'attach_failed', 'attach_cancelled',"
	" 'forgotten'))";
/* In a VM: asked to go in and not yet out (a detach that timed out may still be there). */
static const char sql_device_at[] =
	"SELECT d.ident, (SELECT vm FROM attachments WHERE device_id = d.id AND state IN"
	" ('attached', 'detaching', 'detach_timeout') ORDER BY id LIMIT 1)"
	" FROM devices d WHERE d.devpath = ?1 AND d.present = 1"
	" ORDER BY d.last_seen DESC, d.id DESC LIMIT 1";

int db_api_history(struct db *db, int64_t after_id, db_api_row_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(db, sql_history, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, after_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_api_row row = {
			.id = sqlite3_column_int64(st, 0),
			.device_id = sqlite3_column_int64(st, 1),
			.event = db_col_text(st, 2),
			.vm = db_col_text(st, 3),
			.detail = db_col_text(st, 4),
			.dev = {
				.kind = db_col_text(st, 5),
				.devpath = db_col_text(st, 6),
				.sysname = db_col_text(st, 7),
				.devnode = db_col_text(st, 8),
				.vendor_name = db_col_text(st, 9),
				.product_name = db_col_text(st, 10),
				.serial = db_col_text(st, 11),
				.vendor_id = sqlite3_column_int(st, 12),
				.product_id = sqlite3_column_int(st, 13),
				.busnum = sqlite3_column_int(st, 14),
				.devnum = sqlite3_column_int(st, 15),
				.present = sqlite3_column_int(st, 16),
			},
		};

		r = fn(userdata, &row);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_fail(db, rc, "read history");
	sqlite3_finalize(st);
	return r;
}

static int one_int64(struct db *db, const char *sql, int64_t a, int64_t b, int64_t *out,
		     const char *what)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(db, sql, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	r = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, rc, what);
	sqlite3_finalize(st);
	return r;
}

int db_api_history_last(struct db *db, int64_t *id)
{
	return one_int64(db, "SELECT coalesce(max(id), 0) FROM history", 0, 0, id,
			 "read history");
}

int db_api_detach_awaited(struct db *db, int64_t device_id, int64_t after_id, bool *awaited)
{
	int64_t v = 0;
	int r = one_int64(db, sql_detach_awaited, device_id, after_id, &v, "read attachments");

	*awaited = v != 0;
	return r;
}

static int dup_col(sqlite3_stmt *st, int i, char **out)
{
	const char *s = db_col_text(st, i);

	*out = s ? strdup(s) : NULL;
	return s && !*out ? -ENOMEM : 0;
}

int db_api_device_at(struct db *db, const char *devpath, char **ident, char **vm)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(db, sql_device_at, &st);

	*ident = *vm = NULL;
	if (r < 0)
		return r;
	db_bind_text(st, 1, devpath);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r = dup_col(st, 0, ident);
		if (r == 0)
			r = dup_col(st, 1, vm);
	} else if (rc != SQLITE_DONE) {
		r = db_fail(db, rc, "find device");
	}
	sqlite3_finalize(st);
	if (r < 0) {
		free(*ident);
		free(*vm);
		*ident = *vm = NULL;
	}
	return r;
}
