/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attachments and claims: what statd put into which VM, written before the
 * VMM is asked and settled after it answered, so that a statd killed in
 * between leaves a row that names the device in the VM. And the look-ups by
 * device identity that reconcile and lost removes need.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db-private.h"
#include "log.h"
#include "macro.h"

#define NOW "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
#define ATTACHMENT_COLS "a.id, a.device_id, a.vm, a.qdev_id, a.state, coalesce(d.label, ''), a.bus"

void db_attachment_clear(struct db_attachment *a)
{
	free(a->vm);
	free(a->qdev_id);
	free(a->label);
	free(a->bus);
	*a = (struct db_attachment){ 0 };
}

static int read_row(sqlite3_stmt *st, struct db_attachment *a)
{
	*a = (struct db_attachment){
		.id = sqlite3_column_int64(st, 0),
		.device_id = sqlite3_column_int64(st, 1),
		.vm = strdup(db_col_text(st, 2) ?: ""),
		.qdev_id = strdup(db_col_text(st, 3) ?: ""),
		.state = attachment_state_from_string(db_col_text(st, 4)),
		.label = strdup(db_col_text(st, 5) ?: ""),
		.bus = db_col_text(st, 6) ? strdup(db_col_text(st, 6)) : NULL,
	};
	if (a->vm && a->qdev_id && a->label && (a->bus || !db_col_text(st, 6)))
		return 0;
	db_attachment_clear(a);
	return -ENOMEM;
}

int db_attachment_find(struct db *db, int64_t device_id, const char *vm, struct db_attachment *a)
{
	sqlite3_stmt *st;
	int r = db_stmt(db, ST_ATTACH_FIND,
			"SELECT " ATTACHMENT_COLS " FROM attachments a"
			" LEFT JOIN devices d ON d.id = a.device_id"
			" WHERE a.device_id = ?1 AND (?2 IS NULL OR a.vm = ?2) ORDER BY a.id LIMIT 1",
			&st);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, device_id);
	db_bind_text(st, 2, vm);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = read_row(st, a);
	else
		r = rc == SQLITE_DONE ? -ENOENT : db_fail(db, rc, "read attachment");
	sqlite3_reset(st);
	return r;
}

int db_attachment_exists(struct db *db, const char *vm, const char *qdev_id, bool *exists)
{
	sqlite3_stmt *st;
	int r = db_stmt(db, ST_ATTACH_EXISTS,
			"SELECT 1 FROM attachments WHERE vm = ?1 AND qdev_id = ?2", &st);
	int rc;

	if (r < 0)
		return r;
	db_bind_text(st, 1, vm);
	db_bind_text(st, 2, qdev_id);
	rc = sqlite3_step(st);
	*exists = rc == SQLITE_ROW;
	r = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, rc, "read attachment");
	sqlite3_reset(st);
	return r;
}

/*
 * Is the statd that wrote OWNER ("PID:START", see db_claim()) still running?
 * Only statd claims, and only the statd holding the database's lock runs, so
 * a live owner other than us means the lock was not shared (the database
 * reached by another path, a statd of an older version): leave its work to
 * it. Our own pid is an earlier statd, gone; a pid that runs another program
 * was reused; a zombie is gone. A claim in another format is taken over.
 */
static bool claim_owner_alive(const char *owner)
{
	char path[64], buf[256] = "";
	const char *open_paren, *close_paren;
	FILE *f;
	int pid;

	if (!owner || sscanf(owner, "%d:", &pid) != 1 || pid <= 0 || pid == getpid())
		return false;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return false;
	/* "PID (COMM) STATE ...": COMM may hold anything, ')' too; STATE follows the last. */
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren || close_paren[1] != ' ' ||
	    close_paren[2] == 'Z' || close_paren[2] == 'X')
		return false;
	return (size_t)(close_paren - open_paren - 1) == strlen("vhotplug-statd") &&
	       strncmp(open_paren + 1, "vhotplug-statd", strlen("vhotplug-statd")) == 0;
}

/* -ESTALE when intent ID is claimed by another statd that still runs. */
static int claim_check_owner(struct db *db, int64_t id, const char *owner)
{
	sqlite3_stmt *st;
	int r = db_stmt(db, ST_CLAIM_OWNER,
			"SELECT claimed_by FROM intents WHERE id = ?1 AND state = 'claimed'"
			" AND claimed_by IS NOT ?2", &st);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, owner);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && claim_owner_alive(db_col_text(st, 0))) {
		log_warn("intent %lld: claimed by vhotplug-statd %s, which still runs: left to it",
			 (long long)id, db_col_text(st, 0));
		r = -ESTALE;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = db_fail(db, rc, "read claim");
	}
	sqlite3_reset(st);
	return r;
}

int db_claim(struct db *db, int64_t id, const char *owner, bool detach, int64_t device_id,
	     const char *vm, const char *key, const char *bus)
{
	sqlite3_stmt *st;
	int r = claim_check_owner(db, id, owner);

	if (r < 0)
		return r;
	r = db_stmt(db, ST_CLAIM,
		    "UPDATE intents SET state = 'claimed', claimed_by = ?2, vmm_key = ?3,"
		    " attempts = attempts + 1 WHERE id = ?1 AND state IN ('pending', 'claimed')", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, owner);
	db_bind_text(st, 3, key);
	r = db_step_done(db, st, "claim intent");
	if (r < 0)
		return r;
	if (sqlite3_changes(db->sql) != 1)
		return -ESTALE;	/* finished or cancelled meanwhile */
	if (!vm)
		return 0;	/* a reconcile: it writes its rows when it has read the VM */
	if (detach)
		r = db_stmt(db, ST_CLAIM_DETACH,
			    "UPDATE attachments SET state = 'detaching', intent_id = ?4"
			    " WHERE vm = ?2 AND qdev_id = ?3", &st);
	else
		r = db_stmt(db, ST_CLAIM_ATTACH,
			    "INSERT INTO attachments (device_id, vm, qdev_id, intent_id, bus, state)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, 'attaching')"
			    " ON CONFLICT (vm, qdev_id) DO UPDATE SET device_id = ?1, intent_id = ?4,"
			    " bus = ?5, state = iif(state = 'attached', 'attached', 'attaching')", &st);
	if (r < 0)
		return r;
	if (!detach)
		sqlite3_bind_int64(st, 1, device_id);
	db_bind_text(st, 2, vm);
	db_bind_text(st, 3, key);
	sqlite3_bind_int64(st, 4, id);
	if (!detach)
		db_bind_text(st, 5, bus);
	return db_step_done(db, st, "claim attachment");
}

int db_attachment_settle(struct db *db, const char *vm, const char *key,
			 enum attachment_state state, const char *new_key)
{
	sqlite3_stmt *st;
	int r = db_stmt(db, ST_ATTACH_SETTLE,
			"UPDATE attachments SET state = ?3, qdev_id = coalesce(?4, qdev_id),"
			" since = iif(state = ?3, since, " NOW ") WHERE vm = ?1 AND qdev_id = ?2", &st);

	if (r < 0)
		return r;
	db_bind_text(st, 1, vm);
	db_bind_text(st, 2, key);
	db_bind_text(st, 3, attachment_state_to_string(state));
	db_bind_text(st, 4, new_key);
	return db_step_done(db, st, "record attachment");
}

int db_attachment_put(struct db *db, int64_t device_id, const char *vm, const char *key)
{
	sqlite3_stmt *st;
	int r = db_stmt(db, ST_ATTACH_PUT,
			"INSERT INTO attachments (device_id, vm, qdev_id) VALUES (?1, ?2, ?3)"
			" ON CONFLICT (vm, qdev_id) DO UPDATE SET device_id = ?1, state = 'attached',"
			" since = iif(state = 'attached', since, " NOW ")", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, device_id);
	db_bind_text(st, 2, vm);
	db_bind_text(st, 3, key);
	return db_step_done(db, st, "record attachment");
}

int db_attachment_drop(struct db *db, const char *vm, const char *key)
{
	sqlite3_stmt *st;
	int r = db_stmt(db, ST_ATTACH_DROP, "DELETE FROM attachments WHERE vm = ?1 AND qdev_id = ?2",
			&st);

	if (r < 0)
		return r;
	db_bind_text(st, 1, vm);
	db_bind_text(st, 2, key);
	return db_step_done(db, st, "remove attachment");
}

int db_attachments_in(struct db *db, const char *vm, db_attachment_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT " ATTACHMENT_COLS " FROM attachments a"
			" LEFT JOIN devices d ON d.id = a.device_id WHERE a.vm = ?1 ORDER BY a.id", &st);
	int rc;

	if (r < 0)
		return r;
	db_bind_text(st, 1, vm);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_attachment a;

		r = read_row(st, &a);
		if (r == 0)
			r = fn(userdata, &a);
		db_attachment_clear(&a);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_fail(db, rc, "read attachments");
	sqlite3_finalize(st);
	return r;
}

int db_attachments_stopped(struct db *db, const char *vm, const char *why, int *n)
{
	/* The words bound from the tables; each statement uses some of them. */
	static const char *const sql[] = {
		"INSERT INTO history (device_id, device, event, vm, detail)"
		" SELECT a.device_id, coalesce(d.label, ''), ?3, a.vm, ?2"
		" FROM attachments a LEFT JOIN devices d ON d.id = a.device_id"
		" WHERE a.vm = ?1 AND a.state IN (?5, ?6) ORDER BY a.id",
		"UPDATE attachments SET state = ?4, since = " NOW
		" WHERE vm = ?1 AND state IN (?5, ?6)",
	};
	int r = 0;

	*n = 0;
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(sql); i++) {
		sqlite3_stmt *st;

		r = db_prepare(db, sql[i], &st);
		if (r < 0)
			break;
		db_bind_text(st, 1, vm);
		db_bind_text(st, 2, why);
		db_bind_text(st, 3, history_event_to_string(HISTORY_VM_STOPPED));
		db_bind_text(st, 4, attachment_state_to_string(ATTACHMENT_VM_STOPPED));
		db_bind_text(st, 5, attachment_state_to_string(ATTACHMENT_ATTACHED));
		db_bind_text(st, 6, attachment_state_to_string(ATTACHMENT_DETACH_TIMEOUT));
		r = db_step_done(db, st, "mark attachments stopped");
		*n = r == 0 ? sqlite3_changes(db->sql) : 0;
		sqlite3_finalize(st);
	}
	return r;
}

int db_device_find(struct db *db, const char *ident, int64_t *id, char **label)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT id, label FROM devices WHERE ident = ?1 AND present = 1", &st);
	int rc;

	if (r < 0)
		return r;
	db_bind_text(st, 1, ident);
	rc = sqlite3_step(st);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (label)
		*label = rc == SQLITE_ROW ? strdup(db_col_text(st, 1) ?: "") : NULL;
	r = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, rc, "find device");
	if (r == 0 && label && rc == SQLITE_ROW && !*label)
		r = -ENOMEM;
	sqlite3_finalize(st);
	return r;
}

int db_devices_present(struct db *db, db_present_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT devpath FROM devices WHERE present = 1 ORDER BY id", &st);
	int rc = SQLITE_DONE;

	if (r < 0)
		return r;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = fn(userdata, db_col_text(st, 0) ?: "");
	if (r == 0 && rc != SQLITE_DONE)
		r = db_fail(db, rc, "read present devices");
	sqlite3_finalize(st);
	return r;
}

int db_devices_displaced(struct db *db, const char *devpath, const char *ident, int busnum,
			 int devnum, db_displaced_fn fn, void *userdata)
{
	struct row {
		int64_t id;
		char *devpath, *label;
	} *rows = NULL;
	size_t n = 0;
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT id, devpath, label FROM devices WHERE present = 1 AND"
			" ((devpath = ?1 AND ident != ?2) OR (ident = ?2 AND (devpath != ?1"
			" OR busnum IS NOT ?3 OR devnum IS NOT ?4))) ORDER BY id", &st);
	int rc;

	if (r < 0)
		return r;
	db_bind_text(st, 1, devpath);
	db_bind_text(st, 2, ident);
	db_bind_int(st, 3, busnum);
	db_bind_int(st, 4, devnum);
	/* Read them all first: FN writes to the table read. */
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct row *v = realloc(rows, (n + 1) * sizeof(*v));

		if (!v) {
			r = -ENOMEM;
			break;
		}
		rows = v;
		rows[n] = (struct row){ sqlite3_column_int64(st, 0), strdup(db_col_text(st, 1) ?: ""),
					strdup(db_col_text(st, 2) ?: "") };
		if (!rows[n].devpath || !rows[n].label)
			r = -ENOMEM;
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_fail(db, rc, "read devices");
	sqlite3_finalize(st);
	for (size_t i = 0; i < n; i++) {
		struct db_displaced d = { rows[i].id, rows[i].devpath, rows[i].label };

		if (r == 0)
			r = fn(userdata, &d);
		free(rows[i].devpath);
		free(rows[i].label);
	}
	free(rows);
	return r;
}

int db_device_absent(struct db *db, int64_t id)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "UPDATE devices SET present = 0 WHERE id = ?1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	r = db_step_done(db, st, "record removal");
	sqlite3_finalize(st);
	return r;
}

int db_intent_open(struct db *db, enum intent_action action, const char *vm, int64_t device_id,
		   bool *open)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT 1 FROM intents WHERE state IN ('pending', 'claimed')"
			" AND action = ?1 AND vm IS ?2 AND (?3 = 0 OR device_id = ?3) LIMIT 1", &st);
	int rc;

	if (r < 0)
		return r;
	db_bind_text(st, 1, intent_action_to_string(action));
	db_bind_text(st, 2, vm);
	sqlite3_bind_int64(st, 3, device_id);
	rc = sqlite3_step(st);
	*open = rc == SQLITE_ROW;
	r = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, rc, "read intents");
	sqlite3_finalize(st);
	return r;
}
