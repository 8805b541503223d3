/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retention: the intent queue and the history would otherwise grow for
 * ever. Rows go in small batches, each its own transaction, so a helper
 * waiting for the write lock waits for one batch at most.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "db-private.h"
#include "log.h"
#include "macro.h"

/* Work left over after the time budget is taken up again this soon. */
#define PRUNE_AGAIN_MS 1000
/* One run keeps statd's loop at most this long. */
#define PRUNE_BUDGET_MS 100
/* A locked database: try again later, not at the next loop iteration. */
#define PRUNE_BUSY_RETRY_MS (60 * 1000)

#define NOW_MINUS "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)"

/* Each deletes at most ?2 rows older than the cutoff ?1 ("-90 days"). */
static const char *const prune_sql[] = {
	/*
	 * Finished intents only: pending and waiting ones are work still to do.
	 * The newest stays whatever its age, so max(id) never goes down: statd
	 * and its backlog read only ids above the last they saw, and without
	 * AUTOINCREMENT (schema 5) the next intent took the id removed.
	 */
	"DELETE FROM intents WHERE id IN (SELECT id FROM intents"
	" WHERE state IN ('done', 'failed', 'cancelled')"
	" AND coalesce(finished, created) < " NOW_MINUS
	" AND id < (SELECT max(id) FROM intents) ORDER BY id LIMIT ?2)",
	"DELETE FROM history WHERE id IN (SELECT id FROM history"
	" WHERE time < " NOW_MINUS " ORDER BY id LIMIT ?2)",
	/* A device row goes once nothing refers to it and it is unplugged. */
	"DELETE FROM devices WHERE id IN (SELECT id FROM devices"
	" WHERE present = 0 AND last_seen < " NOW_MINUS
	" AND id NOT IN (SELECT device_id FROM intents)"
	" AND id NOT IN (SELECT device_id FROM attachments)"
	" AND id NOT IN (SELECT device_id FROM history WHERE device_id IS NOT NULL)"
	" ORDER BY id LIMIT ?2)",
	/* The names of the helper's events and of spool files imported: a day is plenty. */
	"DELETE FROM spool_imported WHERE name IN (SELECT name FROM spool_imported"
	" WHERE time < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day') LIMIT ?2)",
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One batch of ST in its own transaction; *N gets how many rows went. */
static int prune_batch(struct db *db, sqlite3_stmt *st, int *n)
{
	int rc, r = db_begin(db);

	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	*n = sqlite3_changes(db->sql);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		r = db_fail(db, rc, "prune old rows");
		db_rollback(db);
		return r;
	}
	return db_commit(db);
}

/* Returns 1 when DEADLINE_MS passed with rows left, 0 when none are left, or -errno. */
static int prune_table(struct db *db, const char *sql, const char *cutoff, int batch,
		       int64_t deadline_ms, int *total)
{
	sqlite3_stmt *st;
	int rc, n, r = 0;

	rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "prepare pruning");
	sqlite3_bind_text(st, 1, cutoff, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, batch);
	/* The deadline is checked after a batch, so every run makes progress. */
	do {
		r = prune_batch(db, st, &n);
		if (r < 0)
			break;
		*total += n;
		if (n == batch && deadline_ms >= 0 && now_ms() >= deadline_ms)
			r = 1;
	} while (r == 0 && n == batch);
	sqlite3_finalize(st);
	return r;
}

int db_prune(struct db *db, int days, int batch, int64_t deadline_ms, struct db_prune_counts *c)
{
	int *totals[] = { &c->intents, &c->history, &c->devices, &c->spool };
	char cutoff[32];
	int r = 0;

	_Static_assert(ARRAY_SIZE(totals) == ARRAY_SIZE(prune_sql), "a count per table");
	/* The history trigger refuses to delete rows from the last day anyway. */
	if (days < 1)
		days = 1;
	if (batch < 1)
		batch = DB_PRUNE_BATCH;
	snprintf(cutoff, sizeof(cutoff), "-%d days", days);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(prune_sql); i++)
		r = prune_table(db, prune_sql[i], cutoff, batch, deadline_ms, totals[i]);
	return r;
}

int db_retention(struct db *db, int days, int64_t now)
{
	struct db_prune_counts c = { 0 };
	int r;

	if (now < db->prune_due_ms)
		return 0;
	days = days > 0 ? days : DB_HISTORY_DAYS_DEFAULT;
	r = db_prune(db, days, DB_PRUNE_BATCH, now_ms() + PRUNE_BUDGET_MS, &c);
	if (c.intents || c.history || c.devices)
		log_info("%s: removed %d finished intents, %d history rows and %d unplugged devices "
			 "older than %d days", db->path, c.intents, c.history, c.devices, days);
	if (r < 0)
		log_warn("%s: pruning old rows failed (%s), trying again later", db->path,
			 strerror(-r));
	db->prune_due_ms = now + (r > 0 ? PRUNE_AGAIN_MS : r < 0 ? PRUNE_BUSY_RETRY_MS :
					 DB_PRUNE_INTERVAL_MS);
	return r < 0 ? r : 0;
}
