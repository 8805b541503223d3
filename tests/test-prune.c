/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retention: what db_prune() removes and keeps, in batches, and how often
 * db_retention() runs; general.historyDays in the config. Each test has its
 * own database, filled through a second connection with back-dated rows.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "db-private.h"
#include "db.h"
#include "log.h"
#include "macro.h"

static char dir[] = "/tmp/vhotplug-test-prune.XXXXXX";

#define AGO(d) "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '" d "')"

struct fixture {
	char *path;
	struct db *db;
	sqlite3 *raw;	/* the second connection, for back-dated rows */
};

static void fixture_open(struct fixture *f, const char *name)
{
	if (asprintf(&f->path, "%s/%s.db", dir, name) < 0)
		abort();
	if (db_open(f->path, 1000, 0, &f->db) < 0 ||
	    sqlite3_open(f->path, &f->raw) != SQLITE_OK) {
		fprintf(stderr, "%s: cannot open\n", f->path);
		exit(1);
	}
	sqlite3_busy_timeout(f->raw, 1000);
}

static void fixture_close(struct fixture *f)
{
	db_close(f->db);
	sqlite3_close(f->raw);
	unlink(f->path);
	free(f->path);
}

static void exec(struct fixture *f, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(f->raw, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "%s\n  in: %s\n", err, sql);
		exit(1);
	}
}

/* The single integer QUERY returns, or -1. */
static int64_t value(struct fixture *f, const char *query)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(f->raw, query, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* A devices row named NAME, present or not, last seen at the SQL time LAST_SEEN. */
static void add_device(struct fixture *f, int id, bool present, const char *last_seen)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO devices (id, kind, ident, devpath, sysname, label, present, last_seen)"
		 " VALUES (%d, 'usb', 'usb:0000:0000@1-%d', '/devices/usb1/1-%d', '1-%d', 'dev%d', %d,"
		 " %s)", id, id, id, id, id, present, last_seen);
	exec(f, sql);
}

static void test_intents(void)
{
	struct fixture f;
	struct db_prune_counts c = { 0 };

	fixture_open(&f, "intents");
	add_device(&f, 1, true, AGO("-0 days"));
	exec(&f, "INSERT INTO intents (id, device_id, action, state, created, finished) VALUES"
		 " (1, 1, 'attach', 'done', " AGO("-101 days") ", " AGO("-100 days") "),"
		 " (2, 1, 'attach', 'failed', " AGO("-101 days") ", " AGO("-100 days") "),"
		 " (3, 1, 'attach', 'cancelled', " AGO("-101 days") ", " AGO("-100 days") "),"
		 " (4, 1, 'ignore', 'done', " AGO("-100 days") ", NULL),"	/* created counts */
		 " (5, 1, 'attach', 'pending', " AGO("-100 days") ", NULL),"
		 " (6, 1, 'select', 'held', " AGO("-100 days") ", NULL),"
		 " (7, 1, 'attach', 'done', " AGO("-100 days") ", " AGO("-10 days") "),"
		 " (8, 1, 'detach', 'done', " AGO("-1 days") ", " AGO("-1 days") ")");
	CHECK(db_prune(f.db, 90, 500, -1, &c) == 0);
	CHECK(c.intents == 4 && c.history == 0 && c.devices == 0);
	/* Work still to do stays, whatever its age; so do recent outcomes. */
	CHECK(value(&f, "SELECT count(*) FROM intents WHERE id IN (5, 6, 7, 8)") == 4);
	CHECK(value(&f, "SELECT count(*) FROM intents") == 4);
	fixture_close(&f);
}

static void test_history(void)
{
	struct fixture f;
	struct db_prune_counts c = { 0 };

	fixture_open(&f, "history");
	exec(&f, "INSERT INTO history (time, device, event) VALUES"
		 " (" AGO("-200 days") ", 'a', 'plugged'), (" AGO("-100 days") ", 'a', 'queued'),"
		 " (" AGO("-91 days") ", 'a', 'attached'), (" AGO("-89 days") ", 'b', 'plugged'),"
		 " (" AGO("-2 days") ", 'c', 'plugged'), (" AGO("-2 hours") ", 'd', 'plugged')");
	CHECK(db_prune(f.db, 90, 500, -1, &c) == 0);
	CHECK(c.history == 3);
	CHECK(value(&f, "SELECT count(*) FROM history") == 3);
	CHECK(value(&f, "SELECT count(*) FROM history WHERE device = 'a'") == 0);
	/* A shorter retention; 0 is taken as 1 day, the trigger's floor. */
	c.history = 0;
	CHECK(db_prune(f.db, 0, 500, -1, &c) == 0);
	CHECK(c.history == 2);
	CHECK(value(&f, "SELECT count(*) FROM history WHERE device = 'd'") == 1);
	CHECK(value(&f, "SELECT count(*) FROM history") == 1);
	fixture_close(&f);
}

static void test_devices(void)
{
	struct fixture f;
	struct db_prune_counts c = { 0 };

	fixture_open(&f, "devices");
	add_device(&f, 1, false, AGO("-100 days"));	/* unplugged, forgotten: goes */
	add_device(&f, 2, true, AGO("-100 days"));	/* still plugged: stays */
	add_device(&f, 3, false, AGO("-100 days"));	/* has a pending intent */
	add_device(&f, 4, false, AGO("-100 days"));	/* has an attachment row */
	add_device(&f, 5, false, AGO("-100 days"));	/* has recent history */
	add_device(&f, 6, false, AGO("-100 days"));	/* only old rows: goes with them */
	add_device(&f, 7, false, AGO("-1 days"));	/* unplugged yesterday */
	exec(&f, "INSERT INTO intents (device_id, action, state, created) VALUES"
		 " (3, 'attach', 'pending', " AGO("-100 days") "),"
		 " (6, 'attach', 'done', " AGO("-100 days") "),"
		 " (2, 'attach', 'done', " AGO("-1 days") ")");	/* the newest stays */
	exec(&f, "INSERT INTO attachments (device_id, vm, qdev_id) VALUES (4, 'vm1', 'q4')");
	exec(&f, "INSERT INTO history (time, device_id, device, event) VALUES"
		 " (" AGO("-1 hours") ", 5, 'dev5', 'plugged'),"
		 " (" AGO("-100 days") ", 6, 'dev6', 'unplugged')");
	CHECK(db_prune(f.db, 90, 500, -1, &c) == 0);
	CHECK(c.intents == 1 && c.history == 1 && c.devices == 2);
	CHECK(value(&f, "SELECT count(*) FROM devices WHERE id IN (1, 6)") == 0);
	CHECK(value(&f, "SELECT count(*) FROM devices") == 5);
	/* What the helper does next still works: the foreign keys hold. */
	CHECK(value(&f, "SELECT count(*) FROM pragma_foreign_key_check") == 0);
	fixture_close(&f);
}

static int count_commit(void *userdata)
{
	(*(int *)userdata)++;
	return 0;
}

/* The helper's event names go after a day, whatever historyDays says. */
static void test_spool_names(void)
{
	struct fixture f;
	struct db_prune_counts c = { 0 };

	fixture_open(&f, "spool");
	exec(&f, "INSERT INTO spool_imported (name, time) VALUES"
		 " ('old', " AGO("-25 hours") "), ('new', " AGO("-23 hours") ")");
	CHECK(db_prune(f.db, 90, 500, -1, &c) == 0);
	CHECK(c.spool == 1);
	CHECK(value(&f, "SELECT count(*) FROM spool_imported WHERE name = 'new'") == 1);
	fixture_close(&f);
}

/* 10 rows by 3: four transactions for history, one each for the other tables. */
static void test_batches(void)
{
	struct fixture f;
	struct db_prune_counts c = { 0 };
	int commits = 0;

	fixture_open(&f, "batches");
	for (int i = 0; i < 10; i++)
		exec(&f, "INSERT INTO history (time, device, event) VALUES"
			 " (" AGO("-100 days") ", 'x', 'plugged')");
	sqlite3_commit_hook(f.db->sql, count_commit, &commits);
	CHECK(db_prune(f.db, 90, 3, -1, &c) == 0);
	CHECK(c.history == 10);
	CHECK(commits == 7);
	sqlite3_commit_hook(f.db->sql, NULL, NULL);
	fixture_close(&f);
}

/*
 * The newest intent stays however old, and its id is never given again:
 * statd reads only ids above the last it saw, so an id that came back would
 * be an intent it never sees.
 */
static void test_newest_intent(void)
{
	struct fixture f;
	struct db_prune_counts c = { 0 };
	struct db_intent in = { .device_id = 1, .action = INTENT_ATTACH, .vm = "vm1", .busnum = -1,
				.devnum = -1 };
	int64_t id = 0;

	fixture_open(&f, "newest");
	add_device(&f, 1, true, AGO("-0 days"));
	exec(&f, "INSERT INTO intents (id, device_id, action, state, created, finished) VALUES"
		 " (1, 1, 'attach', 'done', " AGO("-100 days") ", " AGO("-100 days") "),"
		 " (2, 1, 'detach', 'done', " AGO("-100 days") ", " AGO("-100 days") ")");
	CHECK(db_prune(f.db, 90, 500, -1, &c) == 0);
	CHECK(c.intents == 1);
	CHECK(value(&f, "SELECT group_concat(id) FROM intents") == 2);
	/* Removed by other means (a user's DELETE), its id is not handed out again. */
	exec(&f, "DELETE FROM intents WHERE id = 2");
	CHECK(db_intent_add(f.db, &in, &id) == 0);
	CHECK(id == 3);
	fixture_close(&f);
}

/* Past its deadline, a run still does one batch, then says work is left. */
static void test_deadline(void)
{
	struct fixture f;
	struct db_prune_counts c = { 0 };

	fixture_open(&f, "deadline");
	add_device(&f, 1, true, AGO("-0 days"));
	for (int i = 0; i < 10; i++)
		exec(&f, "INSERT INTO intents (device_id, action, state, created) VALUES"
			 " (1, 'ignore', 'done', " AGO("-100 days") ")");
	CHECK(db_prune(f.db, 90, 3, 0, &c) == 1);
	CHECK(c.intents == 3);
	CHECK(db_prune(f.db, 90, 3, -1, &c) == 0);
	CHECK(c.intents == 9);	/* the newest stays */
	fixture_close(&f);
}

static void add_old_history(struct fixture *f, const char *ago)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "INSERT INTO history (time, device, event) VALUES"
		 " (strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now', '%s'), 'x', 'plugged')", ago);
	exec(f, sql);
}

/* At the first call, then not again within the hour; 0 days is the default, 90. */
static void test_retention_schedule(void)
{
	const int64_t t0 = 5000;
	struct fixture f;

	fixture_open(&f, "schedule");
	add_old_history(&f, "-100 days");
	add_old_history(&f, "-50 days");
	CHECK(db_retention(f.db, 0, t0) == 0);
	CHECK(value(&f, "SELECT count(*) FROM history") == 1);
	add_old_history(&f, "-100 days");
	CHECK(db_retention(f.db, 30, t0 + DB_PRUNE_INTERVAL_MS - 1) == 0);
	CHECK(value(&f, "SELECT count(*) FROM history") == 2);
	CHECK(db_retention(f.db, 30, t0 + DB_PRUNE_INTERVAL_MS) == 0);
	CHECK(value(&f, "SELECT count(*) FROM history") == 0);
	fixture_close(&f);
}

/* Load a config whose "general" object is GENERAL; returns config_load()'s result. */
static int load_general(const char *general, struct config **cfg, char **errs)
{
	char path[256];
	size_t len = 0;
	FILE *f, *e = open_memstream(errs, &len);
	int r;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	if (!f || !e)
		abort();
	fprintf(f, "{\"vms\": [{\"name\": \"g\", \"type\": \"qemu\", \"socket\": \"/run/g.sock\"}]%s%s}\n",
		general ? ", \"general\": " : "", general ?: "");
	fclose(f);
	r = config_load(path, cfg, e);
	fclose(e);
	unlink(path);
	return r;
}

static void test_config_history_days(void)
{
	struct config *cfg = NULL;
	char *errs = NULL;

	CHECK(load_general(NULL, &cfg, &errs) == 0);
	CHECK(cfg && cfg->history_days == 0);	/* unset: db_retention() uses 90 */
	config_free(cfg);
	free(errs);
	CHECK(load_general("{\"historyDays\": 7}", &cfg, &errs) == 0);
	CHECK(cfg && cfg->history_days == 7);
	config_free(cfg);
	free(errs);
	CHECK(load_general("{\"historyDays\": 0}", &cfg, &errs) == -EINVAL);
	CHECK(errs && strstr(errs, "general.historyDays"));
	free(errs);
}

int main(void)
{
	log_set_max_level(LOG_WARNING);
	if (!mkdtemp(dir))
		return 1;
	test_intents();
	test_history();
	test_devices();
	test_newest_intent();
	test_spool_names();
	test_batches();
	test_deadline();
	test_retention_schedule();
	test_config_history_days();
	rmdir(dir);
	return check_result();
}
