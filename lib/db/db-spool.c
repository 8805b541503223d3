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
	int rc, r = db_prepare(db, sql, &st);

	if (r < 0)
		return r;
	db_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	*seen = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, rc, "read the spool's record");
}

/* Run SQL once, with NAME as its ?1 when it has one. */
static int run(struct db *db, const char *sql, const char *name)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, sql, &st);

	if (r < 0)
		return r;
	if (sqlite3_bind_parameter_count(st))
		db_bind_text(st, 1, name);
	r = db_step_done(db, st, "record the spool file");
	sqlite3_finalize(st);
	return r;
}

int db_spool_mark(struct db *db, const char *name)
{
	/* Names never come back (SEQNUM, clock and pid): a day's worth is plenty to keep. */
	int r = run(db, "DELETE FROM spool_imported"
		    " WHERE time < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')", NULL);

	return r ?: run(db, "INSERT INTO spool_imported (name) VALUES (?1)", name);
}

int db_spool_note(struct db *db, const char *name)
{
	return run(db, "INSERT INTO spool_imported (name) VALUES (?1)", name);
}
