/* SPDX-License-Identifier: Apache-2.0 */
/* Schema versions: a populated version-1 database migrates to what a new one gets. */
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "db.h"
#include "macro.h"

static char dir[] = "/tmp/vhotplug-test-db.XXXXXX";

static char *path_in_dir(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

static char *read_file(const char *path)
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

static int exec_sql(sqlite3 *sql, const char *text)
{
	char *err = NULL;
	int rc = sqlite3_exec(sql, text, NULL, NULL, &err);

	if (rc != SQLITE_OK)
		fprintf(stderr, "sqlite: %s\n", err);
	sqlite3_free(err);
	return rc;
}

/* The schema as one text: every object, its SQL with white space folded. */
static char *schema_text(const char *path)
{
	sqlite3 *sql;
	sqlite3_stmt *st;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	CHECK(sqlite3_open_v2(path, &sql, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(sql,
				 "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
				 -1, &st, NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 3) ?: "";
		bool space = false;

		fprintf(f, "%s %s %s: ", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
			sqlite3_column_text(st, 2));
		for (; *s; s++) {
			bool ws = *s == ' ' || *s == '\t' || *s == '\n';

			if (ws && !space)
				fputc(' ', f);
			else if (!ws)
				fputc(*s, f);
			space = ws;
		}
		fputc('\n', f);
	}
	sqlite3_finalize(st);
	sqlite3_close(sql);
	fclose(f);
	return out;
}

static int64_t count(const char *path, const char *query)
{
	sqlite3 *sql;
	sqlite3_stmt *st;
	int64_t n = -1;

	CHECK(sqlite3_open_v2(path, &sql, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	if (sqlite3_prepare_v2(sql, query, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(sql);
	return n;
}

/* Does SQLite's plan for QUERY name INDEX? */
static bool plan_uses(const char *path, const char *query, const char *index)
{
	_cleanup_free_ char *explain = NULL;
	sqlite3 *sql;
	sqlite3_stmt *st;
	bool found = false;

	if (asprintf(&explain, "EXPLAIN QUERY PLAN %s", query) < 0)
		abort();
	CHECK(sqlite3_open_v2(path, &sql, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(sql, explain, -1, &st, NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		found |= strstr((const char *)sqlite3_column_text(st, 3) ?: "", index) != NULL;
	sqlite3_finalize(st);
	sqlite3_close(sql);
	return found;
}

static const char v1_rows[] =
	"INSERT INTO devices (kind, devpath, sysname, label, vendor_id, product_id) VALUES"
	" ('usb', '/devices/pci0000:00/usb1/1-1', '1-1', 'mouse', 1133, 49271),"
	" ('pci', '/devices/pci0000:00/0000:00:14.3', '0000:00:14.3', 'wifi', 32902, 42913);"
	"INSERT INTO intents (device_id, action, vm, state, busnum, devnum) VALUES"
	" (1, 'attach', 'vm1', 'done', 1, 2), (1, 'detach', 'vm1', 'pending', 1, 2),"
	" (2, 'select', NULL, 'waiting', NULL, NULL);"
	"INSERT INTO attachments (device_id, vm, qdev_id) VALUES (1, 'vm1', 'vhp-usb-1');"
	"INSERT INTO history (device_id, device, event, vm, detail) VALUES"
	" (1, 'mouse', 'plugged', NULL, NULL), (1, 'mouse', 'attached', 'vm1', 'ok');";

/* The same rows in today's schema. */
static const char rows_now[] =
	"INSERT INTO devices (kind, ident, devpath, sysname, label, vendor_id, product_id) VALUES"
	" ('usb', 'usb:046d:c077@1-1', '/devices/pci0000:00/usb1/1-1', '1-1', 'mouse', 1133,"
	" 49271), ('pci', 'pci:0000:00:14.3', '/devices/pci0000:00/0000:00:14.3', '0000:00:14.3',"
	" 'wifi', 32902, 42913);"
	"INSERT INTO intents (device_id, action, vm, state, busnum, devnum) VALUES"
	" (1, 'attach', 'vm1', 'done', 1, 2), (1, 'detach', 'vm1', 'pending', 1, 2),"
	" (2, 'select', NULL, 'held', NULL, NULL);"
	"INSERT INTO attachments (device_id, vm, qdev_id) VALUES (1, 'vm1', 'vhp-usb-1');"
	"INSERT INTO history (device_id, device, event, vm, detail) VALUES"
	" (1, 'mouse', 'plugged', NULL, NULL), (1, 'mouse', 'attached', 'vm1', 'ok');";

static void test_migrate_v1(void)
{
	_cleanup_free_ char *v1_path = path_in_dir("v1.db");
	_cleanup_free_ char *new_path = path_in_dir("new.db");
	_cleanup_free_ char *v1_sql = NULL, *migrated = NULL, *fresh = NULL;
	char file[4096];
	struct db *db;
	sqlite3 *sql;

	snprintf(file, sizeof(file), "%s/tests/data/schema-v1.sql", getenv("top_srcdir") ?: ".");
	v1_sql = read_file(file);
	CHECK(v1_sql);
	if (!v1_sql)
		return;
	CHECK(sqlite3_open(v1_path, &sql) == SQLITE_OK);
	CHECK(exec_sql(sql, "PRAGMA journal_mode = WAL") == SQLITE_OK);
	CHECK(exec_sql(sql, v1_sql) == SQLITE_OK);
	CHECK(exec_sql(sql, v1_rows) == SQLITE_OK);
	sqlite3_close(sql);
	CHECK(count(v1_path, "PRAGMA user_version") == 1);

	CHECK(db_open(v1_path, 100, 0, &db) == 0);
	db_close(db);
	CHECK(db_open(new_path, 100, 0, &db) == 0);
	db_close(db);

	CHECK(count(v1_path, "PRAGMA user_version") == DB_SCHEMA_VERSION);
	migrated = schema_text(v1_path);
	fresh = schema_text(new_path);
	CHECK(migrated && fresh && streq(migrated, fresh));
	if (migrated && fresh && !streq(migrated, fresh))
		fprintf(stderr, "migrated:\n%s\nfresh:\n%s\n", migrated, fresh);

	/* Every row is kept, with its state. */
	CHECK(count(v1_path, "SELECT count(*) FROM devices") == 2);
	CHECK(count(v1_path, "SELECT count(*) FROM intents") == 3);
	CHECK(count(v1_path, "SELECT count(*) FROM intents WHERE state = 'held'") == 1);
	/* Identities worked out as device_ident() does. */
	CHECK(count(v1_path, "SELECT count(*) FROM devices WHERE id = 1"
		    " AND ident = 'usb:046d:c077@1-1'") == 1);
	CHECK(count(v1_path, "SELECT count(*) FROM devices WHERE id = 2"
		    " AND ident = 'pci:0000:00:14.3'") == 1);
	CHECK(count(v1_path, "SELECT count(*) FROM intents WHERE tag IS NULL AND vm = 'vm1'") == 2);
	CHECK(count(v1_path, "SELECT count(*) FROM history") == 2);
	CHECK(count(v1_path, "SELECT count(*) FROM current_attachments WHERE vm = 'vm1'") == 1);
	CHECK(count(v1_path, "SELECT count(*) FROM attachments WHERE state = 'attached'") == 1);
	CHECK(count(v1_path, "SELECT count(*) FROM host_drivers") == 0);
	CHECK(count(v1_path, "SELECT count(*) FROM pending_intents") == 2);
}

static void test_newer_refused(void)
{
	_cleanup_free_ char *path = path_in_dir("newer.db");
	struct db *db = NULL;
	sqlite3 *sql;

	CHECK(sqlite3_open(path, &sql) == SQLITE_OK);
	CHECK(exec_sql(sql, "CREATE TABLE t (x); PRAGMA user_version = 99") == SQLITE_OK);
	sqlite3_close(sql);
	CHECK(db_open(path, 100, 0, &db) == -EPROTO);
	CHECK(db == NULL);
	CHECK(count(path, "PRAGMA user_version") == 99);
}

/* Version 2: 'decide' intents, the pending index, history pruning of old rows only. */
static void test_v2_schema(void)
{
	_cleanup_free_ char *path = path_in_dir("v2.db");
	struct db *db;
	sqlite3 *sql;

	CHECK(db_open(path, 100, 0, &db) == 0);
	db_close(db);
	CHECK(sqlite3_open(path, &sql) == SQLITE_OK);
	CHECK(exec_sql(sql, rows_now) == SQLITE_OK);
	CHECK(exec_sql(sql, "INSERT INTO intents (device_id, action) VALUES (2, 'decide')") ==
	      SQLITE_OK);
	CHECK(exec_sql(sql, "INSERT INTO intents (device_id, action) VALUES (2, 'bogus')") !=
	      SQLITE_OK);
	/* A recent history row cannot go; one older than a day can. */
	CHECK(exec_sql(sql, "DELETE FROM history WHERE id = 1") != SQLITE_OK);
	CHECK(exec_sql(sql, "INSERT INTO history (time, device, event)"
			    " VALUES ('2020-01-01T00:00:00.000Z', 'old', 'plugged');"
			    "DELETE FROM history WHERE device = 'old'") == SQLITE_OK);
	CHECK(exec_sql(sql, "UPDATE history SET detail = 'x' WHERE id = 1") != SQLITE_OK);
	sqlite3_close(sql);
	CHECK(count(path, "SELECT count(*) FROM history") == 2);
	CHECK(count(path, "SELECT count(*) FROM intents WHERE action = 'decide'") == 1);
	CHECK(plan_uses(path, "SELECT i.id FROM intents i LEFT JOIN devices d ON d.id = i.device_id"
			      " WHERE i.state IN ('pending', 'claimed') ORDER BY i.id", "intents_open"));
	/* statd's poke reads only intents newer than the last it saw. */
	CHECK(plan_uses(path, "SELECT i.id FROM intents i LEFT JOIN devices d ON d.id = i.device_id"
			      " WHERE i.state IN ('pending', 'claimed') AND i.id > 5 ORDER BY i.id",
			"intents_open"));
}

/* Version 3: intents carry the deciding rule set's tag. */
static void test_v3_tag(void)
{
	_cleanup_free_ char *path = path_in_dir("v3.db");
	struct db_intent in = { .device_id = 1, .action = INTENT_ATTACH, .vm = "net-vm", .tag = "net",
				.busnum = -1, .devnum = -1 };
	struct db *db;
	sqlite3 *sql;

	CHECK(db_open(path, 100, 0, &db) == 0);
	db_close(db);
	CHECK(sqlite3_open(path, &sql) == SQLITE_OK);
	CHECK(exec_sql(sql, rows_now) == SQLITE_OK);
	sqlite3_close(sql);
	CHECK(count(path, "SELECT count(*) FROM intents WHERE tag IS NULL") == 3);
	CHECK(db_open(path, 100, 0, &db) == 0);
	CHECK(db_intent_add(db, &in, NULL) == 0);
	db_close(db);
	CHECK(count(path, "SELECT count(*) FROM intents WHERE tag = 'net' AND vm = 'net-vm'") == 1);
}

/* Version 4: attachments are marked when a detach times out; PCI functions' host drivers. */
static void test_v4_host(void)
{
	_cleanup_free_ char *path = path_in_dir("v4.db");
	const char *group[] = { "0000:06:00.0", "0000:06:01.0" };
	char *driver = NULL;
	struct db *db;
	sqlite3 *sql;
	int n = -1;

	CHECK(db_open(path, 100, 0, &db) == 0);
	db_close(db);
	CHECK(sqlite3_open(path, &sql) == SQLITE_OK);
	CHECK(exec_sql(sql, rows_now) == SQLITE_OK);
	sqlite3_close(sql);
	CHECK(db_open(path, 100, 0, &db) == 0);
	CHECK(db_attachment_settle(db, "vm1", "vhp-usb-1", ATTACHMENT_DETACH_TIMEOUT, NULL) == 0);
	CHECK(count(path, "SELECT count(*) FROM current_attachments WHERE state = 'detach_timeout'") == 1);
	CHECK(db_attachment_settle(db, "vm1", "vhp-usb-1", ATTACHMENT_ATTACHED, NULL) == 0);
	CHECK(count(path, "SELECT count(*) FROM attachments WHERE state = 'attached'") == 1);
	CHECK(db_attachment_settle(db, "vm1", "vhp-usb-1", ATTACHMENT_STATE_MAX, NULL) < 0);

	/* The first record stays: a second take must not say vfio-pci was the host's. */
	CHECK(db_host_driver_save(db, "0000:06:00.0", "e1000", "vm1") == 0);
	CHECK(db_host_driver_save(db, "0000:06:00.0", "vfio-pci", "vm1") == 0);
	CHECK(db_host_driver_get(db, "0000:06:00.0", &driver) == 0);
	CHECK(driver && streq(driver, "e1000"));
	free(driver);
	CHECK(db_host_driver_get(db, "0000:06:01.0", &driver) == -ENOENT);
	CHECK(db_host_driver_del(db, "0000:06:00.0") == 0);
	CHECK(db_host_driver_get(db, "0000:06:00.0", &driver) == -ENOENT);

	/* Device 2 is PCI 0000:00:14.3; attached, it counts, but not for itself. */
	CHECK(db_begin(db) == 0);
	CHECK(db_claim(db, 2, "test", false, 2, "vm1", "vhp-pci-x", "rp1") == 0);
	CHECK(db_commit(db) == 0);
	CHECK(db_pci_attached_count(db, group, 2, 0, &n) == 0 && n == 0);
	group[1] = "0000:00:14.3";
	CHECK(db_pci_attached_count(db, group, 2, 0, &n) == 0 && n == 1);
	CHECK(db_pci_attached_count(db, group, 2, 2, &n) == 0 && n == 0);
	db_close(db);
}

/* Version 5: claims write the attachment before the VMM is asked, and settle it after. */
static void test_v5_claims(void)
{
	_cleanup_free_ char *path = path_in_dir("v5.db");
	struct db_attachment a;
	struct db *db;
	sqlite3 *sql;
	int n = -1;

	CHECK(db_open(path, 100, 0, &db) == 0);
	db_close(db);
	CHECK(sqlite3_open(path, &sql) == SQLITE_OK);
	CHECK(exec_sql(sql, rows_now) == SQLITE_OK);
	CHECK(exec_sql(sql, "INSERT INTO intents (device_id, action, vm) VALUES (2, 'attach', 'vm2')")
	      == SQLITE_OK);
	sqlite3_close(sql);
	CHECK(db_open(path, 100, 0, &db) == 0);

	/* Intent 4: attach device 2 to vm2. */
	CHECK(db_begin(db) == 0);
	CHECK(db_claim(db, 4, "statd-1", false, 2, "vm2", "vhp-pci-0000-00-14.3", "rp2") == 0);
	CHECK(db_commit(db) == 0);
	CHECK(count(path, "SELECT count(*) FROM intents WHERE id = 4 AND state = 'claimed'"
		    " AND claimed_by = 'statd-1' AND vmm_key = 'vhp-pci-0000-00-14.3'") == 1);
	CHECK(count(path, "SELECT count(*) FROM attachments WHERE device_id = 2 AND vm = 'vm2'"
		    " AND state = 'attaching' AND intent_id = 4") == 1);
	/* A claim that died is taken over, the row as it was. */
	CHECK(db_begin(db) == 0);
	CHECK(db_claim(db, 4, "statd-2", false, 2, "vm2", "vhp-pci-0000-00-14.3", "rp3") == 0);
	CHECK(db_commit(db) == 0);
	CHECK(count(path, "SELECT count(*) FROM attachments WHERE device_id = 2") == 1);
	/* The port a retry tries is the one recorded. */
	CHECK(count(path, "SELECT count(*) FROM attachments WHERE device_id = 2 AND bus = 'rp3'") == 1);
	CHECK(db_attachment_settle(db, "vm2", "vhp-pci-0000-00-14.3", ATTACHMENT_ATTACHED, NULL) == 0);
	CHECK(db_attachment_find(db, 2, NULL, &a) == 0);
	CHECK(a.vm && streq(a.vm, "vm2") && a.state == ATTACHMENT_ATTACHED && streq(a.label, "wifi"));
	db_attachment_clear(&a);
	CHECK(db_attachment_find(db, 2, "vm1", &a) == -ENOENT);

	/* A finished intent cannot be claimed. */
	CHECK(db_intent_finish(db, 4, INTENT_DONE, "ok") == 0);
	CHECK(db_begin(db) == 0);
	CHECK(db_claim(db, 4, "statd-2", false, 2, "vm2", "x", NULL) == -ESTALE);
	db_rollback(db);

	/* Intent 2: detach device 1 from vm1. */
	CHECK(db_begin(db) == 0);
	CHECK(db_claim(db, 2, "statd-2", true, 1, "vm1", "vhp-usb-1", NULL) == 0);
	CHECK(db_commit(db) == 0);
	CHECK(count(path, "SELECT count(*) FROM attachments WHERE state = 'detaching'") == 1);
	CHECK(db_attachment_drop(db, "vm1", "vhp-usb-1") == 0);
	CHECK(count(path, "SELECT count(*) FROM attachments WHERE device_id = 1") == 0);

	/* The VM stopped: rows kept, marked, one history row each. */
	CHECK(db_begin(db) == 0);
	CHECK(db_attachments_stopped(db, "vm2", "test", &n) == 0 && n == 1);
	CHECK(db_commit(db) == 0);
	CHECK(count(path, "SELECT count(*) FROM current_attachments WHERE state = 'vm_stopped'") == 1);
	CHECK(count(path, "SELECT count(*) FROM device_history WHERE event = 'vm_stopped'"
		    " AND device = 'wifi' AND vm = 'vm2'") == 1);
	db_close(db);
}

static int note_displaced(void *userdata, const struct db_displaced *d)
{
	*(int64_t *)userdata = d->id;
	return 0;
}

/* A plug that contradicts a device recorded present: another identity in its port, or new numbers. */
static void test_v5_displaced(void)
{
	_cleanup_free_ char *path = path_in_dir("v5d.db");
	struct db *db;
	sqlite3 *sql;
	int64_t id = 0;
	char *label = NULL;

	CHECK(db_open(path, 100, 0, &db) == 0);
	db_close(db);
	CHECK(sqlite3_open(path, &sql) == SQLITE_OK);
	CHECK(exec_sql(sql, rows_now) == SQLITE_OK);
	CHECK(exec_sql(sql, "UPDATE devices SET busnum = 1, devnum = 2 WHERE id = 1") == SQLITE_OK);
	sqlite3_close(sql);
	CHECK(db_open(path, 100, 0, &db) == 0);
	/* The same device, the same numbers: nothing. */
	CHECK(db_devices_displaced(db, "/devices/pci0000:00/usb1/1-1", "usb:046d:c077@1-1", 1, 2,
				   note_displaced, &id) == 0 && id == 0);
	/* Re-enumerated without a remove seen. */
	CHECK(db_devices_displaced(db, "/devices/pci0000:00/usb1/1-1", "usb:046d:c077@1-1", 1, 3,
				   note_displaced, &id) == 0 && id == 1);
	id = 0;
	/* Another device in its port. */
	CHECK(db_devices_displaced(db, "/devices/pci0000:00/usb1/1-1", "usb:1234:5678:S", 1, 4,
				   note_displaced, &id) == 0 && id == 1);
	CHECK(db_device_absent(db, 1) == 0);
	id = 0;
	CHECK(db_devices_displaced(db, "/devices/pci0000:00/usb1/1-1", "usb:1234:5678:S", 1, 4,
				   note_displaced, &id) == 0 && id == 0);
	CHECK(db_device_find(db, "pci:0000:00:14.3", &id, &label) == 0 && id == 2);
	CHECK(label && streq(label, "wifi"));
	free(label);
	CHECK(db_device_find(db, "usb:ffff:ffff@9", &id, NULL) == 0 && id == 0);
	db_close(db);
}

/* A process named as statd is, until killed: the owner of a claim that still runs. */
static pid_t fake_statd(void)
{
	int fds[2];
	char c = 0;
	pid_t pid;

	CHECK(pipe(fds) == 0);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_NAME, "vhotplug-statd");
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	CHECK(pid > 0 && read(fds[0], &c, 1) == 1);
	close(fds[0]);
	close(fds[1]);
	return pid;
}

static void set_claimed_by(const char *path, const char *owner)
{
	_cleanup_free_ char *q = NULL;
	sqlite3 *sql;

	if (asprintf(&q, "UPDATE intents SET state = 'claimed', claimed_by = '%s' WHERE id = 4",
		     owner) < 0)
		abort();
	CHECK(sqlite3_open(path, &sql) == SQLITE_OK);
	CHECK(exec_sql(sql, q) == SQLITE_OK);
	sqlite3_close(sql);
}

/* A claim is taken over only from a statd that is gone; a live one keeps it. */
static void test_claim_live_owner(void)
{
	_cleanup_free_ char *path = path_in_dir("owner.db");
	char owner[64];
	struct db *db;
	sqlite3 *sql;
	pid_t pid;

	CHECK(db_open(path, 100, 0, &db) == 0);
	db_close(db);
	CHECK(sqlite3_open(path, &sql) == SQLITE_OK);
	CHECK(exec_sql(sql, rows_now) == SQLITE_OK);
	CHECK(exec_sql(sql, "INSERT INTO intents (device_id, action, vm) VALUES (2, 'attach', 'vm2')")
	      == SQLITE_OK);
	sqlite3_close(sql);
	CHECK(db_open(path, 100, 0, &db) == 0);

	pid = fake_statd();
	snprintf(owner, sizeof(owner), "%d:1234", (int)pid);
	set_claimed_by(path, owner);
	CHECK(db_begin(db) == 0);
	CHECK(db_claim(db, 4, "me:1", false, 2, "vm2", "k", NULL) == -ESTALE);
	db_rollback(db);
	CHECK(count(path, "SELECT count(*) FROM attachments WHERE vm = 'vm2'") == 0);
	/* Its statd gone, the claim is ours: a zombie not yet reaped too. */
	kill(pid, SIGKILL);
	CHECK(waitid(P_PID, pid, &(siginfo_t){ 0 }, WEXITED | WNOWAIT) == 0);
	CHECK(db_begin(db) == 0);
	CHECK(db_claim(db, 4, "me:0", false, 2, "vm2", "k", NULL) == 0);
	CHECK(db_commit(db) == 0);
	waitpid(pid, NULL, 0);
	set_claimed_by(path, owner);
	CHECK(db_begin(db) == 0);
	CHECK(db_claim(db, 4, "me:1", false, 2, "vm2", "k", NULL) == 0);
	CHECK(db_commit(db) == 0);
	CHECK(count(path, "SELECT count(*) FROM intents WHERE id = 4 AND claimed_by = 'me:1'") == 1);

	/* Our own pid is an earlier statd; a pid that runs another program was reused. */
	snprintf(owner, sizeof(owner), "%d:1", (int)getpid());
	set_claimed_by(path, owner);
	CHECK(db_begin(db) == 0);
	CHECK(db_claim(db, 4, "me:2", false, 2, "vm2", "k", NULL) == 0);
	CHECK(db_commit(db) == 0);
	set_claimed_by(path, "1:1");
	CHECK(db_begin(db) == 0);
	CHECK(db_claim(db, 4, "me:3", false, 2, "vm2", "k", NULL) == 0);
	CHECK(db_commit(db) == 0);
	db_close(db);
}

/*
 * A brief begin gives up at its own short bound, not the connection's
 * (a minute here): SIGALRM's default action ends the test if it waits that.
 */
static void test_begin_brief(void)
{
	_cleanup_free_ char *path = path_in_dir("brief.db");
	struct db *db;
	sqlite3 *holder;

	CHECK(db_open(path, 60000, 0, &db) == 0);
	CHECK(sqlite3_open(path, &holder) == SQLITE_OK);
	CHECK(exec_sql(holder, "BEGIN IMMEDIATE") == SQLITE_OK);
	alarm(20);
	CHECK(db_begin_brief(db, 10) == -EBUSY);
	alarm(0);
	CHECK(exec_sql(holder, "ROLLBACK") == SQLITE_OK);
	CHECK(db_begin_brief(db, 10) == 0);
	CHECK(db_commit(db) == 0);
	sqlite3_close(holder);
	db_close(db);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 99;
	test_migrate_v1();
	test_newer_refused();
	test_v2_schema();
	test_v3_tag();
	test_v4_host();
	test_v5_claims();
	test_v5_displaced();
	test_claim_live_owner();
	test_begin_brief();
	if (!check_failures) {
		char cmd[sizeof(dir) + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 99;
	}
	return check_result();
}
