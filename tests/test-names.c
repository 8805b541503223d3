/* SPDX-License-Identifier: Apache-2.0 */
/* The string tables: every value named and read back; the schema's CHECKs and the README agree. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "db.h"
#include "macro.h"

/* One enum's table seen through its two functions. */
struct table {
	const char *name;
	int max;
	const char *(*to_string)(int v);
	int (*from_string)(const char *s);
};

#define TABLE(n, type, m)								\
	static const char *n##_to(int v) { return n##_to_string((type)v); }		\
	static int n##_from(const char *s) { return (int)n##_from_string(s); }		\
	static const struct table n##_t = { #n, m, n##_to, n##_from }

TABLE(intent_action, enum intent_action, INTENT_ACTION_MAX);
TABLE(intent_state, enum intent_state, INTENT_STATE_MAX);
TABLE(attachment_state, enum attachment_state, ATTACHMENT_STATE_MAX);
TABLE(history_event, enum history_event, HISTORY_EVENT_MAX);
TABLE(dev_kind, enum dev_kind, DEV_KIND_MAX);
TABLE(vm_type, enum vm_type, VM_TYPE_MAX);

static const struct table *const tables[] = {
	&intent_action_t, &intent_state_t, &attachment_state_t,
	&history_event_t, &dev_kind_t, &vm_type_t,
};

static void test_every_value_named(void)
{
	for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
		for (int v = 0; v < tables[t]->max; v++) {
			bool named = tables[t]->to_string(v) != NULL;

			if (!named)
				fprintf(stderr, "%s: value %d has no name\n", tables[t]->name, v);
			CHECK(named);
		}
}

static void test_round_trip(void)
{
	for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
		for (int v = 0; v < tables[t]->max; v++) {
			const char *s = tables[t]->to_string(v);

			CHECK(s && tables[t]->from_string(s) == v);
		}
}

static void test_names_unique(void)
{
	for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
		for (int a = 0; a < tables[t]->max; a++)
			for (int b = a + 1; b < tables[t]->max; b++)
				CHECK(!streq(tables[t]->to_string(a), tables[t]->to_string(b)));
}

static void test_unknown_refused(void)
{
	for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
		CHECK(tables[t]->from_string("bogus") == -EINVAL);
		CHECK(tables[t]->from_string("") == -EINVAL);
		CHECK(tables[t]->from_string(NULL) == -EINVAL);
		/* Case matters: the database compares exactly. */
		CHECK(tables[t]->from_string("ATTACHED") == -EINVAL);
		CHECK(tables[t]->to_string(tables[t]->max) == NULL);
		CHECK(tables[t]->to_string(-1) == NULL);
	}
}

/* The words of "COLUMN IN ('a', 'b')" in TABLE's CREATE statement of a new database. */
static int check_words(sqlite3 *sql, const char *table, const char *column, char words[][32],
		       int max)
{
	_cleanup_free_ char *needle = NULL;
	sqlite3_stmt *st;
	const char *p = NULL;
	int n = -1;

	if (asprintf(&needle, "CHECK (%s IN", column) < 0)
		abort();
	if (sqlite3_prepare_v2(sql, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		p = strstr((const char *)sqlite3_column_text(st, 0), needle);
	if (p && (p = strchr(p + strlen(needle), '(')))
		for (n = 0; *p && *p != ')';) {
			const char *q = strchr(p, '\''), *e = q ? strchr(q + 1, '\'') : NULL;

			if (!q || !e || n >= max || e - q - 1 >= 32 || strchr(p, ')') < q)
				break;
			snprintf(words[n++], 32, "%.*s", (int)(e - q - 1), q + 1);
			p = e + 1;
		}
	sqlite3_finalize(st);
	return n;
}

/* The CHECK lists what the table names, no more: no write refused, no read unknown. */
static void check_agrees(sqlite3 *sql, const char *table, const char *column,
			 const struct table *t)
{
	char words[16][32];
	int n = check_words(sql, table, column, words, 16);

	CHECK(n == t->max);
	for (int i = 0; i < n; i++) {
		bool known = t->from_string(words[i]) >= 0;

		if (!known)
			fprintf(stderr, "%s.%s: '%s' not in the table\n", table, column, words[i]);
		CHECK(known);
	}
}

static void test_schema_agrees(void)
{
	char dir[] = "/tmp/vhotplug-test-names.XXXXXX";
	_cleanup_free_ char *path = NULL;
	struct db *db = NULL;
	sqlite3 *sql = NULL;

	REQUIRE(mkdtemp(dir));
	REQUIRE(asprintf(&path, "%s/names.db", dir) > 0);
	REQUIRE(db_open(path, 100, 0, &db) == 0);
	db_close(db);
	REQUIRE(sqlite3_open_v2(path, &sql, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	check_agrees(sql, "intents", "action", &intent_action_t);
	check_agrees(sql, "intents", "state", &intent_state_t);
	check_agrees(sql, "attachments", "state", &attachment_state_t);
	check_agrees(sql, "devices", "kind", &dev_kind_t);
out:
	sqlite3_close(sql);
	if (path) {
		unlink(path);
		for (const char *sfx = "-wal"; sfx; sfx = streq(sfx, "-wal") ? "-shm" : NULL) {
			_cleanup_free_ char *p = NULL;

			if (asprintf(&p, "%s%s", path, sfx) > 0)
				unlink(p);
		}
	}
	rmdir(dir);
}

/* README.md's "History events" table has a row for every event, and no row for another. */
static void test_readme_lists_events(void)
{
	const char *top = getenv("top_srcdir") ?: ".";
	_cleanup_free_ char *path = NULL, *line = NULL;
	bool listed[HISTORY_EVENT_MAX] = { false };
	size_t size = 0;
	bool in_table = false;
	FILE *f;

	REQUIRE(asprintf(&path, "%s/README.md", top) > 0);
	f = fopen(path, "re");
	REQUIRE(f);
	while (getline(&line, &size, f) > 0) {
		char word[64];

		if (strncmp(line, "### ", 4) == 0 || strncmp(line, "## ", 3) == 0)
			in_table = streq(line, "### History events\n");
		if (!in_table || sscanf(line, "| `%63[a-z_]` |", word) != 1)
			continue;
		if (history_event_from_string(word) < 0)
			fprintf(stderr, "README.md lists '%s', which no code writes\n", word);
		CHECK(history_event_from_string(word) >= 0);
		if (history_event_from_string(word) >= 0)
			listed[history_event_from_string(word)] = true;
	}
	fclose(f);
	for (int e = 0; e < HISTORY_EVENT_MAX; e++) {
		if (!listed[e])
			fprintf(stderr, "README.md does not list '%s'\n", history_event_to_string(e));
		CHECK(listed[e]);
	}
out:
	return;
}

int main(void)
{
	test_every_value_named();
	test_round_trip();
	test_names_unique();
	test_unknown_refused();
	test_schema_agrees();
	test_readme_lists_events();
	return check_result();
}
