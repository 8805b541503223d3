/* SPDX-License-Identifier: Apache-2.0 */
/* Reads for tools that wait on statd's work: vhotplugctl reconcile. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db-private.h"
#include "macro.h"

int db_intent_status(struct db *db, int64_t id, enum intent_state *state, char **result)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT state, coalesce(result, '') FROM intents WHERE id = ?1", &st);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*state = intent_state_from_string(db_col_text(st, 0));
		*result = strdup(db_col_text(st, 1) ?: "");
		r = *result ? 0 : -ENOMEM;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : db_fail(db, rc, "read intent");
	}
	sqlite3_finalize(st);
	return r;
}

int db_intent_children(struct db *db, int64_t parent, db_child_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT i.action, coalesce(d.label, ''), i.state,"
			   " coalesce(i.result, '') FROM intents i"
			   " LEFT JOIN devices d ON d.id = i.device_id"
			   " WHERE i.parent = ?1 ORDER BY i.id", &st);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, parent);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn(userdata, intent_action_from_string(db_col_text(st, 0)),
		       db_col_text(st, 1) ?: "", intent_state_from_string(db_col_text(st, 2)),
		       db_col_text(st, 3) ?: "");
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_fail(db, rc, "read intents");
	sqlite3_finalize(st);
	return r;
}
