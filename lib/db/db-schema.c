/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schema versions. A new database gets sql/schema.sql, which is always the
 * newest schema; an older one gets each migration from its PRAGMA
 * user_version up, in the same transaction, so a crash leaves either the old
 * or the new version and never a mix.
 */
#include <errno.h>

#include "db-private.h"
#include "log.h"
#include "macro.h"

/* The files under sql/, embedded at build time (lib/schema-sql.c). */
extern const char db_schema_sql[];
extern const char db_migrate_2_sql[];
extern const char db_migrate_3_sql[];
extern const char db_migrate_4_sql[];
extern const char db_migrate_5_sql[];
extern const char db_migrate_6_sql[];
extern const char db_migrate_7_sql[];
extern const char db_migrate_8_sql[];

/* MIGRATIONS[i] takes version i + 1 to i + 2. */
static const char *const migrations[] = {
	db_migrate_2_sql,
	db_migrate_3_sql,
	db_migrate_4_sql,
	db_migrate_5_sql,
	db_migrate_6_sql,
	db_migrate_7_sql,
	db_migrate_8_sql,
};

_Static_assert(ARRAY_SIZE(migrations) == DB_SCHEMA_VERSION - 1,
	       "one migration per schema version after the first");

static int user_version(struct db *db, int *version)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db->sql, "PRAGMA user_version", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_fail(db, rc, "read schema version");
	rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_fail(db, rc, "read schema version");
}

static int upgrade(struct db *db, int version, unsigned flags)
{
	int r = 0;

	if (version == 0)
		return db_exec(db, db_schema_sql, "create schema");
	if (version > DB_SCHEMA_VERSION) {
		log_err("%s: schema version %d is newer than this vhotplug knows (%d): "
			"run the vhotplug that created it, or a newer one",
			db->path, version, DB_SCHEMA_VERSION);
		return -EPROTO;
	}
	if (flags & DB_NO_MIGRATE) {
		log_notice("%s: schema version %d is older than %d: left for vhotplug-statd to migrate",
			   db->path, version, DB_SCHEMA_VERSION);
		return -EPROTO;
	}
	for (; r == 0 && version < DB_SCHEMA_VERSION; version++) {
		log_info("%s: migrating schema from version %d to %d", db->path, version,
			 version + 1);
		r = db_exec(db, migrations[version - 1], "migrate schema");
	}
	return r;
}

/* Every reference still points at a row: the rebuilt tables kept their ids. */
static int check_references(struct db *db)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db->sql, "PRAGMA foreign_key_check", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_fail(db, rc, "check references");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		log_err("%s: migration left a dangling reference in table %s", db->path,
			(const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : rc == SQLITE_ROW ? -EPROTO : db_fail(db, rc, "check references");
}

int db_schema_update(struct db *db, unsigned flags)
{
	int version, r;

	r = user_version(db, &version);
	if (r < 0 || version == DB_SCHEMA_VERSION)
		return r;
	/* Refused before the write lock is taken: the helper does not wait for it. */
	if (version > 0 && version < DB_SCHEMA_VERSION && (flags & DB_NO_MIGRATE))
		return upgrade(db, version, flags);
	/*
	 * Migrations rebuild tables others refer to (SQLite cannot change a
	 * constraint in place): with foreign keys off, as SQLite's ALTER TABLE
	 * page prescribes, and legacy renames, which leave the REFERENCES of
	 * other tables naming the table rebuilt, not its old copy. Both can
	 * only change outside a transaction.
	 */
	r = db_exec(db, "PRAGMA foreign_keys = OFF; PRAGMA legacy_alter_table = ON", "migrate");
	if (r == 0)
		r = db_begin(db);
	if (r < 0)
		return r;
	/* Another process may have migrated while we waited for the lock. */
	r = user_version(db, &version);
	if (r == 0 && version != DB_SCHEMA_VERSION)
		r = upgrade(db, version, flags);
	if (r == 0)
		r = check_references(db);
	if (r < 0)
		db_rollback(db);
	else
		r = db_commit(db);
	if (db_exec(db, "PRAGMA foreign_keys = ON; PRAGMA legacy_alter_table = OFF", "migrate") < 0)
		r = r ?: -EIO;
	return r;
}
