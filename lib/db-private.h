/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Internals shared by the db modules (db.c: statements, db-schema.c: migrations). */
#include <sqlite3.h>

#include "db.h"

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_DEVICE_UPSERT,
	ST_DEVICE_GONE,
	ST_INTENT_ADD,
	ST_HISTORY_ADD,
	ST_PENDING,
	ST_INTENT_FINISH,
	ST_INTENT_DEFER,
	ST_INTENT_ATTEMPTED,
	ST_INTENT_CANCEL,
	ST_ATTACH_GET,
	ST_ATTACH_SET,
	ST_ATTACH_DEL,
	ST_UNDECIDED,
	ST_LAST_INTENT,
	ST_MAX,
};

struct db {
	sqlite3 *sql;
	char *path;
	sqlite3_stmt *stmts[ST_MAX];
	int64_t prune_due_ms;	/* db_retention(): CLOCK_MONOTONIC ms of the next run */
	int64_t busy_deadline_ms;	/* DB_BUSY_BUDGET: CLOCK_MONOTONIC */
};

/* Log WHAT failed with SQLite's message and return -errno. */
int db_fail(struct db *db, int rc, const char *what);
int db_exec(struct db *db, const char *sql, const char *what);
/* Create or migrate the schema to DB_SCHEMA_VERSION, in one write transaction. */
int db_schema_update(struct db *db);
