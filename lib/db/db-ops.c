/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What people decided (lib/ops/): the VM chosen for a device, the devices
 * and tags kept out of every VM, and what a suspend took out; and the reads
 * the operations need (every device, for naming one).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db-private.h"
#include "macro.h"

/* Run SQL with text parameters P1..P4 (NULL binds NULL); *CHANGES gets the rows changed. */
static int run(struct db *db, const char *sql, const char *what, const char *p1, const char *p2,
	       const char *p3, const char *p4, int *changes)
{
	sqlite3_stmt *st;
	const char *p[] = { p1, p2, p3, p4 };
	int r = db_prepare(db, sql, &st);

	if (r < 0)
		return r;
	for (int i = 0; i < (int)ARRAY_SIZE(p); i++)
		if (sqlite3_bind_parameter_count(st) > i)
			db_bind_text(st, i + 1, p[i]);
	r = db_step_done(db, st, what);
	if (r == 0 && changes)
		*changes = sqlite3_changes(db->sql);
	sqlite3_finalize(st);
	return r;
}

/* The first column of the first row of SQL (P1, P2) into *OUT (caller frees; NULL: no row). */
static int one_text(struct db *db, const char *sql, const char *p1, const char *p2, char **out)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, sql, &st);
	int rc;

	*out = NULL;
	if (r < 0)
		return r;
	db_bind_text(st, 1, p1);
	if (sqlite3_bind_parameter_count(st) > 1)
		db_bind_text(st, 2, p2);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && db_col_text(st, 0)) {
		*out = strdup(db_col_text(st, 0));
		r = *out ? 0 : -ENOMEM;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = db_fail(db, rc, "read a decision");
	}
	sqlite3_finalize(st);
	return r;
}

int db_choice_get(struct db *db, const char *ident, char **vm)
{
	return one_text(db, "SELECT vm FROM choices WHERE ident = ?1", ident, NULL, vm);
}

int db_choice_set(struct db *db, const char *ident, const char *vm, const char *who)
{
	return run(db, "INSERT OR REPLACE INTO choices (ident, vm, requested_by) VALUES (?1, ?2, ?3)",
		   "remember a choice", ident, vm, who, NULL, NULL);
}

int db_choice_ignored(struct db *db, const char *ident, bool *first)
{
	int n = 0;
	int r = run(db, "UPDATE choices SET ignored = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
		    " WHERE ident = ?1 AND ignored IS NULL", "note a choice ignored", ident, NULL,
		    NULL, NULL, &n);

	*first = r == 0 && n > 0;
	return r;
}

int db_marks_get(struct db *db, const char *ident, const char *tag, int *dev, bool *tag_out)
{
	_cleanup_free_ char *d = NULL;
	_cleanup_free_ char *t = NULL;
	int r = one_text(db, "SELECT keep_out FROM user_marks WHERE ident = ?1", ident, NULL, &d);

	if (r == 0 && tag)
		r = one_text(db, "SELECT keep_out FROM user_marks WHERE tag = ?1", tag, NULL, &t);
	*dev = d ? atoi(d) != 0 : -1;
	*tag_out = t && atoi(t) != 0;
	return r;
}

int db_mark_device(struct db *db, const char *ident, int keep_out, const char *who)
{
	if (keep_out < 0)
		return run(db, "DELETE FROM user_marks WHERE ident = ?1", "clear a mark", ident, NULL,
			   NULL, NULL, NULL);
	return run(db, "INSERT OR REPLACE INTO user_marks (ident, keep_out, requested_by)"
		   " VALUES (?1, ?2, ?3)", "mark a device", ident, keep_out ? "1" : "0", who, NULL,
		   NULL);
}

int db_mark_tag(struct db *db, const char *tag, bool out, const char *who)
{
	if (!out)
		return run(db, "DELETE FROM user_marks WHERE tag = ?1", "clear a mark", tag, NULL, NULL,
			   NULL, NULL);
	return run(db, "INSERT OR REPLACE INTO user_marks (tag, keep_out, requested_by)"
		   " VALUES (?1, 1, ?2)", "mark a tag", tag, who, NULL, NULL, NULL);
}

int db_devices_each_named(struct db *db, db_device_name_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT id, ident, kind, sysname, devpath, devnode, label,"
			   " coalesce(vendor_id, -1), coalesce(product_id, -1), present"
			   " FROM devices ORDER BY present DESC, id", &st);
	int rc;

	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_device_name_row d = {
			.id = sqlite3_column_int64(st, 0),
			.ident = db_col_text(st, 1) ?: "",
			.kind = db_col_text(st, 2) ?: "",
			.sysname = db_col_text(st, 3) ?: "",
			.devpath = db_col_text(st, 4) ?: "",
			.devnode = db_col_text(st, 5),
			.label = db_col_text(st, 6) ?: "",
			.vendor_id = sqlite3_column_int(st, 7),
			.product_id = sqlite3_column_int(st, 8),
			.present = sqlite3_column_int(st, 9) != 0,
		};

		r = fn(userdata, &d);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = db_fail(db, rc, "read devices");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

int db_selects_close(struct db *db, int64_t device_id, const char *result)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "UPDATE intents SET state = 'done', result = ?2,"
			   " finished = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
			   " WHERE device_id = ?1 AND action = 'select' AND state = 'held'", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, device_id);
	db_bind_text(st, 2, result);
	r = db_step_done(db, st, "answer a select");
	sqlite3_finalize(st);
	return r;
}

int db_suspended_add(struct db *db, const char *ident, const char *vm, const char *bus,
		     const char *who)
{
	return run(db, "INSERT OR REPLACE INTO suspended (ident, vm, bus, requested_by)"
		   " VALUES (?1, ?2, ?3, ?4)", "record a suspend", ident, vm, bus, who, NULL);
}

int db_suspended_del(struct db *db, const char *ident)
{
	return run(db, "DELETE FROM suspended WHERE ident = ?1", "forget a suspend", ident, NULL,
		   NULL, NULL, NULL);
}

int db_suspended_each(struct db *db, const char *bus, const char *vm, db_suspended_fn fn,
		      void *userdata)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT ident, vm FROM suspended WHERE bus = ?1"
			   " AND (?2 IS NULL OR vm = ?2) ORDER BY since, ident", &st);
	int rc;

	if (r < 0)
		return r;
	db_bind_text(st, 1, bus);
	db_bind_text(st, 2, vm);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn(userdata, db_col_text(st, 0) ?: "", db_col_text(st, 1) ?: "");
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_fail(db, rc, "read what a suspend took");
	sqlite3_finalize(st);
	return r;
}

int db_suspended_get(struct db *db, const char *ident, char **vm)
{
	return one_text(db, "SELECT vm FROM suspended WHERE ident = ?1", ident, NULL, vm);
}
