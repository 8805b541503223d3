/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "db-private.h"
#include "log.h"
#include "macro.h"

#define HELPER_WAL_PAGES 256

static const char *const stmt_sql[ST_MAX] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_DEVICE_UPSERT] =
		"INSERT INTO devices (kind, devpath, sysname, label, vendor_id, product_id,"
		" vendor_name, product_name, serial, busnum, devnum, devnode, ident)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
		" ON CONFLICT (ident) DO UPDATE SET kind = ?1, devpath = ?2, sysname = ?3, label = ?4,"
		" vendor_id = ?5, product_id = ?6, vendor_name = ?7, product_name = ?8,"
		" serial = ?9, busnum = ?10, devnum = ?11, devnode = ?12, present = 1,"
		" last_seen = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
		" RETURNING id",
	[ST_DEVICE_GONE] =
		"UPDATE devices SET present = 0, last_seen = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
		" WHERE id = (SELECT id FROM devices WHERE devpath = ?1"
		" ORDER BY present DESC, last_seen DESC, id DESC LIMIT 1) RETURNING id, label",
	[ST_INTENT_ADD] =
		"INSERT INTO intents (device_id, action, vm, allowed_vms, rule, state, busnum, devnum,"
		" tag, parent, requested_by)"
		" VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, 'pending'), ?7, ?8, ?9, ?10, ?11)",
	[ST_HISTORY_ADD] =
		"INSERT INTO history (device_id, device, event, vm, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
};

int db_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;	/* said loudly: events wait in the spool until it is repaired */
	default:
		return -EIO;
	}
}

int db_fail(struct db *db, int rc, const char *what)
{
	int sys = db->sql ? sqlite3_system_errno(db->sql) : 0;

	log_err("%s: %s: %s", db->path, what, db->sql ? sqlite3_errmsg(db->sql) : sqlite3_errstr(rc));
	/* "cannot open" says more with the OS's reason: ENOENT, ENOTDIR, EACCES... */
	if ((rc & 0xff) == SQLITE_CANTOPEN && sys > 0)
		return -sys;
	return db_errno(rc) ?: -EIO;
}

int db_exec(struct db *db, const char *sql, const char *what)
{
	int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(db, rc, what);
}

int db_stmt(struct db *db, enum stmt_id id, const char *sql, sqlite3_stmt **out)
{
	int rc;

	*out = NULL;	/* GCC cannot tell that db_fail() is always < 0 */
	if (!db->stmts[id]) {
		rc = sqlite3_prepare_v3(db->sql, sql, -1, SQLITE_PREPARE_PERSISTENT,
					&db->stmts[id], NULL);
		if (rc != SQLITE_OK)
			return db_fail(db, rc, "prepare");
	}
	sqlite3_reset(db->stmts[id]);
	sqlite3_clear_bindings(db->stmts[id]);
	*out = db->stmts[id];
	return 0;
}

int db_prepare(struct db *db, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(db->sql, sql, -1, st, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(db, rc, "prepare");
}

static int stmt(struct db *db, enum stmt_id id, sqlite3_stmt **out)
{
	return db_stmt(db, id, stmt_sql[id], out);
}

/* Step a statement that returns no row (or whose row the caller ignores). */
int db_step_done(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	return db_fail(db, rc, what);
}

/*
 * Commit hook of short-lived writers. statd's commits keep the WAL small,
 * so this fires only while statd is down. Then every helper is the first to
 * open the database and rebuilds the WAL index by reading the whole WAL, and
 * a PASSIVE checkpoint would never let the WAL restart (the next opener
 * forgets what was copied back): truncate it instead.
 */
static int truncate_large_wal(void *userdata, sqlite3 *sql, const char *name, int frames)
{
	if (frames >= HELPER_WAL_PAGES) {
		/*
		 * A reader's snapshot holds the WAL back for as long as it likes:
		 * copy what can be copied and go, rather than wait for it.
		 */
		sqlite3_busy_handler(sql, NULL, NULL);
		sqlite3_wal_checkpoint_v2(sql, name, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	}
	return SQLITE_OK;
}

/*
 * SQLite's own handler bounds each wait, so a writer that meets the lock at
 * open, at BEGIN and at a checkpoint could wait three times. Sleeps grow
 * from 1 ms to 8 ms: short enough that the lock's release is seen soon.
 * Writers that queue (db-lock.c) meet it only from those that do not (a
 * sqlite3 shell) or at open.
 */
int64_t db_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int busy_budget(void *userdata, int count)
{
	struct db *db = userdata;
	int64_t us = (count < 3 ? 1 << count : 8) * 1000, t0 = db_now_us();

	if (db->budget_left_us <= 0)
		return 0;
	us = us < db->budget_left_us ? us : db->budget_left_us;
	nanosleep(&(struct timespec){ .tv_nsec = us * 1000 }, NULL);
	db->budget_left_us -= db_now_us() - t0;
	return 1;
}

static int configure(struct db *db, int busy_ms, unsigned flags)
{
	int r;

	sqlite3_extended_result_codes(db->sql, 1);
	db->busy_ms = busy_ms;
	if (flags & DB_BUSY_BUDGET) {
		db->budget = true;
		db->budget_left_us = (int64_t)busy_ms * 1000;
		sqlite3_busy_handler(db->sql, busy_budget, db);
	} else {
		sqlite3_busy_timeout(db->sql, busy_ms);
	}
	r = db_exec(db, "PRAGMA journal_mode = WAL", "enable WAL");
	if (r == 0)
		/* FULL: a commit survives a power cut, not just a crash (db.h: DB_RELAXED). */
		r = db_exec(db, flags & DB_RELAXED ? "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON" :
						  "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
			     "configure");
	/*
	 * Closing the last connection would checkpoint (four fsyncs) on udev's
	 * clock: statd does that. A large WAL is still truncated on commit, see
	 * truncate_large_wal().
	 */
	if (r == 0 && (flags & DB_NO_CLOSE_CHECKPOINT)) {
		sqlite3_db_config(db->sql, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
		sqlite3_wal_hook(db->sql, truncate_large_wal, NULL);
	}
	return r;
}

int db_open(const char *path, int busy_ms, unsigned flags, struct db **out)
{
	struct db *db = calloc(1, sizeof(*db));
	int rc, r;

	if (!db || !(db->path = strdup(path))) {
		free(db);
		return -ENOMEM;
	}
	db->lock_fd = -1;
	db->lock_ms = busy_ms;
	rc = sqlite3_open_v2(path, &db->sql,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	r = rc == SQLITE_OK ? 0 : db_fail(db, rc, "open");
	if (r == 0)
		r = configure(db, busy_ms, flags);
	if (r == 0)
		r = db_lock_open(db);
	if (r == 0)
		r = db_schema_update(db, flags);
	if (r < 0) {
		db_close(db);
		return r;
	}
	*out = db;
	return 0;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(db->stmts[i]);
	sqlite3_close(db->sql);
	db_lock_close(db);
	free(db->path);
	free(db);
}

int db_run(struct db *db, enum stmt_id id, const char *what)
{
	sqlite3_stmt *st;
	int r = stmt(db, id, &st);

	return r < 0 ? r : db_step_done(db, st, what);
}

void db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Unknown numbers are stored as NULL, not -1. */
void db_bind_int(sqlite3_stmt *st, int i, int v)
{
	if (v >= 0)
		sqlite3_bind_int(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

int db_device_upsert(struct db *db, const struct device *dev, const char *ident, const char *label,
		     int64_t *id)
{
	sqlite3_stmt *st;
	int r = stmt(db, ST_DEVICE_UPSERT, &st);
	int rc;

	if (r < 0)
		return r;
	db_bind_text(st, 1, dev_kind_to_string(dev->kind));
	db_bind_text(st, 2, dev->devpath);
	db_bind_text(st, 3, dev->sysname ?: "");
	db_bind_text(st, 4, label);
	db_bind_int(st, 5, dev->vendor_id);
	db_bind_int(st, 6, dev->product_id);
	db_bind_text(st, 7, dev->vendor_name);
	db_bind_text(st, 8, dev->product_name);
	db_bind_text(st, 9, dev->serial);
	db_bind_int(st, 10, dev->busnum);
	db_bind_int(st, 11, dev->devnum);
	db_bind_text(st, 12, dev->devnode);
	db_bind_text(st, 13, ident);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_fail(db, rc, "record device");
	}
	*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

int db_device_gone(struct db *db, const char *devpath, int64_t *id, char **label)
{
	sqlite3_stmt *st;
	int r = stmt(db, ST_DEVICE_GONE, &st);
	int rc;

	if (r < 0)
		return r;
	db_bind_text(st, 1, devpath);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*label = strdup((const char *)sqlite3_column_text(st, 1) ?: "");
		r = *label ? 0 : -ENOMEM;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : db_fail(db, rc, "record removal");
	}
	sqlite3_reset(st);
	return r;
}

int db_intent_add(struct db *db, const struct db_intent *in, int64_t *id)
{
	sqlite3_stmt *st;
	int r = stmt(db, ST_INTENT_ADD, &st);

	if (r < 0)
		return r;
	if (in->device_id > 0)
		sqlite3_bind_int64(st, 1, in->device_id);
	db_bind_text(st, 2, intent_action_to_string(in->action));
	db_bind_text(st, 3, in->vm);
	db_bind_text(st, 4, in->allowed_vms);
	db_bind_text(st, 5, in->rule);
	db_bind_text(st, 6, intent_state_to_string(in->state));
	db_bind_int(st, 7, in->busnum);
	db_bind_int(st, 8, in->devnum);
	db_bind_text(st, 9, in->tag);
	if (in->parent > 0)
		sqlite3_bind_int64(st, 10, in->parent);
	db_bind_text(st, 11, in->requested_by);
	r = db_step_done(db, st, "queue intent");
	if (r == 0 && id)
		*id = sqlite3_last_insert_rowid(db->sql);
	return r;
}

int db_history_add(struct db *db, int64_t device_id, const char *device, enum history_event event,
		   const char *vm, const char *detail)
{
	sqlite3_stmt *st;
	int r = stmt(db, ST_HISTORY_ADD, &st);

	if (r < 0)
		return r;
	if (device_id > 0)
		sqlite3_bind_int64(st, 1, device_id);
	else
		sqlite3_bind_null(st, 1);
	db_bind_text(st, 2, device);
	db_bind_text(st, 3, history_event_to_string(event));
	db_bind_text(st, 4, vm);
	db_bind_text(st, 5, detail);
	return db_step_done(db, st, "record history");
}

const char *db_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

