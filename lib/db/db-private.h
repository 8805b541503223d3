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
	ST_INTENT_CANCEL,
	ST_UNDECIDED,
	ST_LAST_INTENT,
	/* db-attach.c */
	ST_ATTACH_FIND,
	ST_CLAIM_OWNER,
	ST_CLAIM,
	ST_CLAIM_ATTACH,
	ST_CLAIM_DETACH,
	ST_ATTACH_SETTLE,
	ST_ATTACH_PUT,
	ST_ATTACH_DROP,
	ST_ATTACH_EXISTS,
	ST_MAX,
};

struct db {
	sqlite3 *sql;
	char *path;
	sqlite3_stmt *stmts[ST_MAX];
	int64_t prune_due_ms;	/* db_retention(): CLOCK_MONOTONIC ms of the next run */
	bool budget;		/* DB_BUSY_BUDGET */
	int64_t budget_left_us;	/* of it: lock waits take from it, work does not */
	int busy_ms;		/* otherwise: SQLite's busy timeout, db_begin_brief() restores it */
	int lock_fd;		/* DB.lock, the writers' queue (db-lock.c); -1: none */
	int lock_ms;		/* without DB_BUSY_BUDGET: bound of a wait in that queue */
	bool locked;		/* this connection holds the writer's place */
};

/* Log WHAT failed with SQLite's message and return -errno. */
int db_fail(struct db *db, int rc, const char *what);
int db_exec(struct db *db, const char *sql, const char *what);
/* The statement ID, prepared from SQL at its first use and kept. */
int db_stmt(struct db *db, enum stmt_id id, const char *sql, sqlite3_stmt **out);
/* Prepare SQL for one use (rare statements); the caller finalizes it. */
int db_prepare(struct db *db, const char *sql, sqlite3_stmt **st);
/* Step a statement that returns no row (or whose row the caller ignores), and reset it. */
int db_step_done(struct db *db, sqlite3_stmt *st, const char *what);
/* NULL binds NULL; a negative number (unknown) too. */
void db_bind_text(sqlite3_stmt *st, int i, const char *s);
void db_bind_int(sqlite3_stmt *st, int i, int v);
const char *db_col_text(sqlite3_stmt *st, int i);
/*
 * Create or migrate the schema to DB_SCHEMA_VERSION, in one write
 * transaction; with DB_NO_MIGRATE in FLAGS an older schema is -EPROTO.
 */
int db_schema_update(struct db *db, unsigned flags);

/* Run the kept statement ID (BEGIN, COMMIT...), which returns no row. */
int db_run(struct db *db, enum stmt_id id, const char *what);
/* CLOCK_MONOTONIC in microseconds: the budget's clock. */
int64_t db_now_us(void);
/*
 * The writers' queue (db-lock.c, with the transactions that use it).
 * Opening refuses (logged, then none) a lock file that is a link, not a
 * regular file, not ours, or open to others.
 */
int db_lock_open(struct db *db);
/* Leave the queue and close the lock file. */
void db_lock_close(struct db *db);
