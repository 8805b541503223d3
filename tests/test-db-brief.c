/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_setup_brief(), the helper's SQLite: a database made by it and one whose
 * WAL is already there both take a transaction that a fresh connection reads,
 * and a WAL is trusted without O_CREAT only once its mark names it.
 * Its own program: the setup is for a process whose SQLite is not started yet.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "db.h"
#include "macro.h"

#define BUSY_MS 1000

static char dir[] = "/tmp/vhotplug-test-db-brief.XXXXXX";

static int record(const char *path, const char *device)
{
	struct db *db;
	int r = db_open(path, BUSY_MS, DB_NO_CLOSE_CHECKPOINT | DB_BUSY_BUDGET | DB_NO_MIGRATE, &db);

	if (r < 0)
		return r;
	r = db_begin(db);
	if (r == 0)
		r = db_history_add(db, 0, device, HISTORY_PLUGGED, NULL, NULL);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	db_close(db);
	return r;
}

/* How many history rows name DEVICE, read by a connection of SQLite's own VFS. */
static int count(const char *path, const char *device)
{
	sqlite3 *sql = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_open_v2(path, &sql, SQLITE_OPEN_READONLY, "unix") == SQLITE_OK &&
	    sqlite3_prepare_v2(sql, "SELECT count(*) FROM history WHERE device = ?1", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	sqlite3_close(sql);
	return n;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int main(void)
{
	_cleanup_free_ char *path = NULL, *wal = NULL, *mark = NULL;
	_cleanup_free_ char *mark1 = NULL, *mark2 = NULL, *mark3 = NULL;
	sqlite3 *keep = NULL;

	REQUIRE(mkdtemp(dir));
	REQUIRE(asprintf(&path, "%s/vhotplug.db", dir) > 0);
	REQUIRE(asprintf(&wal, "%s/vhotplug.db-wal", dir) > 0);
	REQUIRE(asprintf(&mark, "%s/wal-synced", dir) > 0);
	REQUIRE(db_setup_brief(mark) == 0);
	CHECK(streq(sqlite3_vfs_find(NULL)->zName, "vhotplug-brief"));

	/* No WAL yet: it is created, as SQLite asked, and not marked. */
	CHECK(record(path, "first") == 0);
	CHECK(exists(wal));
	CHECK(!exists(mark));
	CHECK(count(path, "first") == 1);

	/* A connection kept open keeps the WAL, as statd does: marked once synced, then opened, not made. */
	REQUIRE(sqlite3_open_v2(path, &keep, SQLITE_OPEN_READWRITE, "unix") == SQLITE_OK);
	CHECK(record(path, "second") == 0);
	mark1 = slurp(mark);
	CHECK(mark1 && mark1[0]);
	CHECK(record(path, "third") == 0);
	mark2 = slurp(mark);
	CHECK(streq(mark1, mark2));
	CHECK(count(path, "second") == 1);
	CHECK(count(path, "third") == 1);
	sqlite3_close(keep);

	/* The last connection gone with a checkpoint, the WAL is deleted: made again, its old mark not trusted. */
	REQUIRE(sqlite3_open_v2(path, &keep, SQLITE_OPEN_READWRITE, "unix") == SQLITE_OK);
	sqlite3_exec(keep, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	sqlite3_close(keep);
	CHECK(!exists(wal));
	CHECK(record(path, "fourth") == 0);
	CHECK(count(path, "fourth") == 1);
	REQUIRE(sqlite3_open_v2(path, &keep, SQLITE_OPEN_READWRITE, "unix") == SQLITE_OK);
	CHECK(record(path, "fifth") == 0);
	mark3 = slurp(mark);
	CHECK(mark3 && !streq(mark1, mark3));
	CHECK(count(path, "fifth") == 1);
	sqlite3_close(keep);

	/* Once SQLite runs, its memory settings are fixed: said, not ignored. */
	CHECK(db_setup_brief(NULL) == -EBUSY);
out:
	for (const char *const *f = (const char *const[]){ "vhotplug.db", "vhotplug.db-wal",
							   "vhotplug.db-shm", "wal-synced", NULL }; *f; f++) {
		char file[sizeof(dir) + 32];

		snprintf(file, sizeof(file), "%s/%s", dir, *f);
		unlink(file);
	}
	rmdir(dir);
	return check_result();
}
