/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhotplugctl reconcile VM: queue a reconcile for statd (so it is done even
 * if statd is restarting now), poke it, and wait, bounded, for the outcome:
 * the reconcile itself and the attaches and detaches it queued.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "ctl.h"
#include "db.h"
#include "log.h"
#include "macro.h"
#include "wake.h"

#define DEFAULT_TIMEOUT_S 30
#define POLL_MS 50
/* EX_TEMPFAIL: not finished in time; it stays queued. */
#define EXIT_TIMEOUT 75

struct tally {
	int open, failed, done;
	bool print;
};

static int tally_one(void *userdata, enum intent_action action, const char *device,
		     enum intent_state state, const char *result)
{
	struct tally *t = userdata;
	bool open = state == INTENT_PENDING || state == INTENT_CLAIMED || state == INTENT_HELD;

	t->open += open;
	t->done += state == INTENT_DONE;
	t->failed += !open && state != INTENT_DONE;
	if (t->print)
		printf("  %s %s: %s%s%s\n", intent_action_to_string(action) ?: "?", device,
		       intent_state_to_string(state) ?: "?", *result ? ": " : "", result);
	return 0;
}

static int queue(const struct paths *paths, const char *vm, struct db **db, int64_t *id)
{
	struct db_intent in = { .action = INTENT_RECONCILE, .vm = vm, .rule = "vhotplugctl reconcile",
				.busnum = -1, .devnum = -1 };
	int r = db_open(paths->db, 1000, 0, db);

	if (r == 0)
		r = db_begin(*db);
	if (r == 0)
		r = db_intent_add(*db, &in, id);
	if (r == 0)
		r = db_commit(*db);
	if (r < 0 && *db)
		db_rollback(*db);
	return r;
}

static void sleep_ms(int ms)
{
	nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L }, NULL);
}

/* 0: everything done; 1: something failed; EXIT_TIMEOUT. */
static int wait_outcome(struct db *db, const char *vm, int64_t id, int timeout_s)
{
	for (int waited = 0;; waited += POLL_MS) {
		_cleanup_free_ char *result = NULL;
		enum intent_state state = INTENT_PENDING;
		struct tally t = { 0 };
		int r = db_intent_status(db, id, &state, &result);
		bool running = state == INTENT_PENDING || state == INTENT_CLAIMED;

		if (r == 0 && !running)
			r = db_intent_children(db, id, tally_one, &t);
		if (r == 0 && !running && !t.open) {
			t = (struct tally){ .print = true };
			printf("%s: reconcile %s: %s\n", vm, intent_state_to_string(state) ?: "?", result);
			db_intent_children(db, id, tally_one, &t);
			return state == INTENT_DONE && !t.failed ? 0 : 1;
		}
		if (r < 0 && r != -EBUSY)
			return 1;
		if (waited >= timeout_s * 1000) {
			log_err("%s: statd did not finish the reconcile within %d s (is it running?);"
				" it stays queued", vm, timeout_s);
			return EXIT_TIMEOUT;
		}
		sleep_ms(POLL_MS);
	}
}

int ctl_reconcile(const struct paths *paths, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-wait", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{}
	};
	struct config *cfg = NULL;
	struct db *db = NULL;
	int timeout_s = DEFAULT_TIMEOUT_S, c, r;
	bool wait = true;
	int64_t id = 0;
	char *end;

	while ((c = getopt_long(argc, argv, "nt:", opts, NULL)) != -1) {
		if (c == 'n') {
			wait = false;
		} else if (c == 't' && (timeout_s = (int)strtol(optarg, &end, 10)) >= 0 && !*end) {
			continue;
		} else {
			fprintf(stderr, "Usage: vhotplugctl reconcile [--no-wait] [--timeout SECONDS] VM\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "Usage: vhotplugctl reconcile [--no-wait] [--timeout SECONDS] VM\n");
		return 2;
	}
	if (config_load(paths->config, &cfg, stderr) < 0)
		return 2;
	if (!config_find_vm(cfg, argv[optind])) {
		log_err("%s: no VM named \"%s\"", paths->config, argv[optind]);
		config_free(cfg);
		return 2;
	}
	config_free(cfg);
	r = queue(paths, argv[optind], &db, &id);
	if (r < 0) {
		log_err("%s: could not queue the reconcile: %s", paths->db, strerror(-r));
		db_close(db);
		return 1;
	}
	/* statd not running is fine: it reconciles when it starts. */
	wake_statd(paths, "reconcile");
	r = wait ? wait_outcome(db, argv[optind], id, timeout_s) : 0;
	if (!wait)
		printf("%s: reconcile queued (intent %lld)\n", argv[optind], (long long)id);
	db_close(db);
	return r;
}
