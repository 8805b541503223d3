/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statd's reads and writes of the intent queue: what is open, and how each
 * intent is deferred, counted, cancelled and closed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db-private.h"

static const char sql_pending[] =
	"SELECT i.id, coalesce(i.device_id, 0), i.action, i.vm, d.kind, d.label, d.sysname,"
	" i.result, coalesce(i.busnum, -1), coalesce(i.devnum, -1),"
	" coalesce(d.vendor_id, -1), coalesce(d.product_id, -1), d.devpath, d.devnode,"
	" d.ident, i.state = 'claimed'"
	" FROM intents i LEFT JOIN devices d ON d.id = i.device_id"
	" WHERE i.state IN ('pending', 'claimed') AND i.id > ?1"
	/* A move (lib/ops): the attach waits until the detach from the other VM is over. */
	" AND NOT EXISTS (SELECT 1 FROM intents p WHERE p.id = i.parent AND p.action = 'detach'"
	" AND p.state IN ('pending', 'held', 'claimed'))"
	" ORDER BY i.id";
static const char sql_finish[] =
	"UPDATE intents SET state = ?2, result = ?3,"
	" finished = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1";
static const char sql_defer[] =
	"UPDATE intents SET result = ?2 WHERE id = ?1 AND result IS NOT ?2 RETURNING id";
static const char sql_cancel[] =
	"UPDATE intents SET state = 'cancelled', result = 'device unplugged',"
	" finished = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
	" WHERE device_id = ?1 AND id < ?2 AND id != ?3"
	" AND state IN ('pending', 'held', 'claimed')"
	" AND action IN ('attach', 'select')";
static const char sql_undecided[] =
	"SELECT i.id, i.device_id, coalesce(i.busnum, -1), coalesce(i.devnum, -1), i.rule,"
	" d.devpath, d.present, d.label"
	" FROM intents i JOIN devices d ON d.id = i.device_id"
	" WHERE i.id > ?1 AND i.action = 'decide' AND i.state = 'held' ORDER BY i.id";
static const char sql_last[] =
	"SELECT coalesce(max(id), 0) FROM intents";

int db_intents_pending(struct db *db, int64_t after_id, db_pending_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	int r = db_stmt(db, ST_PENDING, sql_pending, &st);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, after_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_pending p = {
			.intent_id = sqlite3_column_int64(st, 0),
			.device_id = sqlite3_column_int64(st, 1),
			.action = intent_action_from_string(db_col_text(st, 2)),
			.vm = db_col_text(st, 3),
			.kind = db_col_text(st, 4),
			.label = db_col_text(st, 5),
			.sysname = db_col_text(st, 6),
			.result = db_col_text(st, 7),
			.busnum = sqlite3_column_int(st, 8),
			.devnum = sqlite3_column_int(st, 9),
			.vendor_id = sqlite3_column_int(st, 10),
			.product_id = sqlite3_column_int(st, 11),
			.devpath = db_col_text(st, 12),
			.devnode = db_col_text(st, 13),
			.ident = db_col_text(st, 14),
			.claimed = sqlite3_column_int(st, 15),
		};

		r = fn(userdata, &p);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_fail(db, rc, "read pending intents");
	sqlite3_reset(st);
	return r;
}

int db_intent_finish(struct db *db, int64_t id, enum intent_state state, const char *result)
{
	sqlite3_stmt *st;
	int r = db_stmt(db, ST_INTENT_FINISH, sql_finish, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, intent_state_to_string(state));
	db_bind_text(st, 3, result);
	return db_step_done(db, st, "finish intent");
}

int db_intent_defer(struct db *db, int64_t id, const char *note, bool *first)
{
	sqlite3_stmt *st;
	int r = db_stmt(db, ST_INTENT_DEFER, sql_defer, &st);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, note);
	rc = sqlite3_step(st);
	*first = rc == SQLITE_ROW;	/* a row only when the note changed */
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, rc, "defer intent");
}

int db_intents_cancel(struct db *db, int64_t device_id, int64_t before_id, int64_t except_id,
		      int *n)
{
	sqlite3_stmt *st;
	int r = db_stmt(db, ST_INTENT_CANCEL, sql_cancel, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, device_id);
	sqlite3_bind_int64(st, 2, before_id);
	sqlite3_bind_int64(st, 3, except_id);
	r = db_step_done(db, st, "cancel intents");
	*n = r == 0 ? sqlite3_changes(db->sql) : 0;
	return r;
}

int db_intents_undecided(struct db *db, int64_t after_id, db_undecided_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	int r = db_stmt(db, ST_UNDECIDED, sql_undecided, &st);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, after_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_undecided u = {
			.intent_id = sqlite3_column_int64(st, 0),
			.device_id = sqlite3_column_int64(st, 1),
			.busnum = sqlite3_column_int(st, 2),
			.devnum = sqlite3_column_int(st, 3),
			.config_error = db_col_text(st, 4),
			.devpath = db_col_text(st, 5),
			.present = sqlite3_column_int(st, 6),
			.label = db_col_text(st, 7),
		};

		r = fn(userdata, &u);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_fail(db, rc, "read undecided intents");
	sqlite3_reset(st);
	return r;
}

int db_intent_last_id(struct db *db, int64_t *id)
{
	sqlite3_stmt *st;
	int r = db_stmt(db, ST_LAST_INTENT, sql_last, &st);
	int rc;

	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	r = rc == SQLITE_ROW ? 0 : db_fail(db, rc, "read the last intent");
	sqlite3_reset(st);
	return r;
}
