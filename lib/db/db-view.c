/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads for people and front ends (vhotplugctl list, status, history; the
 * API later): what is plugged, where it is, what happened, what is open.
 * Nothing here writes. Strings handed to a callback live until it returns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db-private.h"
#include "macro.h"

/* A device's decision is its newest attach, select or ignore that no reconcile queued. */
static const char sql_devices[] =
	"SELECT d.id, d.kind, d.ident, d.label, d.sysname, d.devnode, d.present, d.last_seen,"
	" i.action, i.rule, i.tag, i.vm, i.allowed_vms"
	" FROM devices d LEFT JOIN intents i ON i.id = ("
	"  SELECT max(id) FROM intents WHERE device_id = d.id AND parent IS NULL"
	"  AND action IN ('attach', 'select', 'ignore'))"
	" ORDER BY d.id";
static const char sql_attachments[] =
	"SELECT vm, state, qdev_id, since FROM attachments WHERE device_id = ?1 ORDER BY id";
/* The newest LIMIT rows (-1: all), given oldest first. */
static const char sql_history[] =
	"SELECT * FROM (SELECT id, time, device_id, device, event, vm, detail FROM history"
	" WHERE (?1 = 0 OR device_id = ?1) AND (?2 IS NULL OR time >= ?2)"
	" ORDER BY id DESC LIMIT ?3) ORDER BY id";
static const char sql_open_intents[] =
	"SELECT id, created, device, action, vm, state, attempts, rule FROM pending_intents";
static const char sql_last_reconcile[] =
	"SELECT time, event, coalesce(detail, '') FROM history"
	" WHERE vm = ?1 AND event IN ('reconciled', 'reconcile_failed') ORDER BY id DESC LIMIT 1";
static const char sql_named[] =
	"SELECT id, label FROM devices WHERE ident = ?1 OR label = ?1 OR id = ?2 ORDER BY id";

/* The caller's callback, of the type its row reader knows. */
struct visit {
	union {
		db_device_row_fn device;
		db_attachment_row_fn attachment;
		db_history_row_fn history;
		db_open_intent_fn intent;
		db_named_fn named;
	} fn;
	void *userdata;
};

/* Step ST to the end, calling ROW for each row; finalizes ST. */
static int each_row(struct db *db, sqlite3_stmt *st,
		    int (*row)(sqlite3_stmt *st, const struct visit *v), const struct visit *v)
{
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = row(st, v);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_fail(db, rc, "read");
	sqlite3_finalize(st);
	return r;
}

static int device_row(sqlite3_stmt *st, const struct visit *v)
{
	struct db_device_row d = {
		.id = sqlite3_column_int64(st, 0),
		.kind = db_col_text(st, 1),
		.ident = db_col_text(st, 2),
		.label = db_col_text(st, 3),
		.sysname = db_col_text(st, 4),
		.devnode = db_col_text(st, 5),
		.present = sqlite3_column_int(st, 6),
		.last_seen = db_col_text(st, 7),
		.action = db_col_text(st, 8),
		.rule = db_col_text(st, 9),
		.tag = db_col_text(st, 10),
		.vm = db_col_text(st, 11),
		.allowed_vms = db_col_text(st, 12),
	};

	return v->fn.device(v->userdata, &d);
}

int db_devices_each(struct db *db, db_device_row_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, sql_devices, &st);

	return r < 0 ? r : each_row(db, st, device_row,
			&(struct visit){ .fn.device = fn, .userdata = userdata });
}

static int attachment_row(sqlite3_stmt *st, const struct visit *v)
{
	struct db_attachment_row a = {
		.vm = db_col_text(st, 0),
		.state = db_col_text(st, 1),
		.qdev_id = db_col_text(st, 2),
		.since = db_col_text(st, 3),
	};

	return v->fn.attachment(v->userdata, &a);
}

int db_device_attachments(struct db *db, int64_t device_id, db_attachment_row_fn fn,
			  void *userdata)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, sql_attachments, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, device_id);
	return each_row(db, st, attachment_row,
			&(struct visit){ .fn.attachment = fn, .userdata = userdata });
}

static int history_row(sqlite3_stmt *st, const struct visit *v)
{
	struct db_history_row h = {
		.id = sqlite3_column_int64(st, 0),
		.time = db_col_text(st, 1),
		.device_id = sqlite3_column_int64(st, 2),
		.device = db_col_text(st, 3),
		.event = db_col_text(st, 4),
		.vm = db_col_text(st, 5),
		.detail = db_col_text(st, 6),
	};

	return v->fn.history(v->userdata, &h);
}

int db_history_each(struct db *db, int64_t device_id, const char *since, int limit,
		    db_history_row_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, sql_history, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, device_id);
	db_bind_text(st, 2, since);
	sqlite3_bind_int(st, 3, limit > 0 ? limit : -1);
	return each_row(db, st, history_row,
			&(struct visit){ .fn.history = fn, .userdata = userdata });
}

static int open_intent_row(sqlite3_stmt *st, const struct visit *v)
{
	struct db_open_intent i = {
		.id = sqlite3_column_int64(st, 0),
		.created = db_col_text(st, 1),
		.device = db_col_text(st, 2),
		.action = db_col_text(st, 3),
		.vm = db_col_text(st, 4),
		.state = db_col_text(st, 5),
		.attempts = sqlite3_column_int(st, 6),
		.rule = db_col_text(st, 7),
	};

	return v->fn.intent(v->userdata, &i);
}

int db_open_intents_each(struct db *db, db_open_intent_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, sql_open_intents, &st);

	return r < 0 ? r : each_row(db, st, open_intent_row,
			&(struct visit){ .fn.intent = fn, .userdata = userdata });
}

static int reconcile_row(sqlite3_stmt *st, const struct visit *v)
{
	struct db_history_row h = {
		.time = db_col_text(st, 0),
		.event = db_col_text(st, 1),
		.detail = db_col_text(st, 2),
	};

	return v->fn.history(v->userdata, &h);
}

int db_last_reconcile(struct db *db, const char *vm, db_history_row_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, sql_last_reconcile, &st);

	if (r < 0)
		return r;
	db_bind_text(st, 1, vm);
	return each_row(db, st, reconcile_row,
			&(struct visit){ .fn.history = fn, .userdata = userdata });
}

static int named_row(sqlite3_stmt *st, const struct visit *v)
{
	return v->fn.named(v->userdata, sqlite3_column_int64(st, 0), db_col_text(st, 1) ?: "");
}

int db_devices_named(struct db *db, const char *name, int64_t number, db_named_fn fn,
		     void *userdata)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, sql_named, &st);

	if (r < 0)
		return r;
	db_bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, number);
	return each_row(db, st, named_row,
			&(struct visit){ .fn.named = fn, .userdata = userdata });
}
