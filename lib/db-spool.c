/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spool files imported: statd removes a file after the transaction that
 * imported it commits, so a statd killed in between finds the file again;
 * its name, written in that transaction, says it is in already.
 */
#include "db-private.h"

int db_spool_imported(struct db *db, const char *name, bool *seen)
{
	static const char sql[] = "SELECT 1 FROM spool_imported WHERE name = ?1";
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_fail(db, rc, "prepare");
	db_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	*seen = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, rc, "read the spool's record");
}

int db_spool_mark(struct db *db, const char *name)
{
	/* Names never come back (SEQNUM, clock and pid): a day's worth is plenty to keep. */
	static const char sql[] =
		"DELETE FROM spool_imported WHERE time < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day');"
		"INSERT INTO spool_imported (name) VALUES (?1)";
	const char *tail = sql;
	int r = 0;

	while (r == 0 && *tail) {
		sqlite3_stmt *st;
		int rc = sqlite3_prepare_v2(db->sql, tail, -1, &st, &tail);

		if (rc != SQLITE_OK)
			return db_fail(db, rc, "prepare");
		if (!st)
			break;
		if (sqlite3_bind_parameter_count(st))
			db_bind_text(st, 1, name);
		r = db_step_done(db, st, "record the spool file");
		sqlite3_finalize(st);
	}
	return r;
}
