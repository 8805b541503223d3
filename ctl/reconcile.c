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
#define USAGE "vhotplugctl reconcile [--no-wait] [--timeout SECONDS] [--json] VM"

struct tally {
	int open, failed, done;
	bool print;
	struct json_object *changes;	/* --json: one object per attach or detach */
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
	if (t->changes) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "action", ctl_json_str(intent_action_to_string(action)));
		json_object_object_add(o, "device", ctl_json_str(device));
		json_object_object_add(o, "state", ctl_json_str(intent_state_to_string(state)));
		json_object_object_add(o, "result", ctl_json_str(result));
		json_object_array_add(t->changes, o);
	}
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

/* Not finished in time: say who it waits for, statd or the VM, not a guess. */
static void say_waiting(const struct paths *paths, const struct vm *vm, int timeout_s)
{
	char why[128];
	long pid;

	if (!ctl_statd_running(paths, &pid))
		log_err("statd is not running: the reconcile of %s stays queued until it starts",
			vm->name);
	else if (!ctl_vm_reachable(vm, why, sizeof(why)))
		log_err("%s is not running (%s: %s): the reconcile waits for it", vm->name,
			vm->socket, why);
	else
		log_err("%s: statd did not finish the reconcile within %d s; it stays queued",
			vm->name, timeout_s);
}

/* The outcome as one JSON document: the reconcile and the changes it queued. */
static void print_json(const char *vm, int64_t id, enum intent_state state, const char *result,
		       struct json_object *changes, bool finished)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "vm", ctl_json_str(vm));
	json_object_object_add(o, "intent", json_object_new_int64(id));
	json_object_object_add(o, "state", ctl_json_str(intent_state_to_string(state)));
	json_object_object_add(o, "result", ctl_json_str(result && *result ? result : NULL));
	json_object_object_add(o, "finished", json_object_new_boolean(finished));
	json_object_object_add(o, "changes", changes ?: json_object_new_array());
	ctl_json_print(o);
}

/* CTL_EXIT_OK: everything done; CTL_EXIT_FAILED: something failed; CTL_EXIT_TIMEOUT. */
static int wait_outcome(const struct paths *paths, struct db *db, const struct vm *vm,
			int64_t id, int timeout_s, bool json)
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
			t = (struct tally){ .print = !json,
					    .changes = json ? json_object_new_array() : NULL };
			if (!json)
				printf("%s: reconcile %s: %s\n", vm->name,
				       intent_state_to_string(state) ?: "?", result);
			db_intent_children(db, id, tally_one, &t);
			if (json)
				print_json(vm->name, id, state, result, t.changes, true);
			return state == INTENT_DONE && !t.failed ? CTL_EXIT_OK : CTL_EXIT_FAILED;
		}
		if (r < 0 && r != -EBUSY) {
			log_err("%s: cannot read the reconcile's outcome: %s", vm->name, strerror(-r));
			return CTL_EXIT_FAILED;
		}
		if (waited >= timeout_s * 1000) {
			say_waiting(paths, vm, timeout_s);
			if (json)
				print_json(vm->name, id, state, result, NULL, false);
			return CTL_EXIT_TIMEOUT;
		}
		sleep_ms(POLL_MS);
	}
}

int ctl_reconcile(const struct paths *paths, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-wait", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct config *cfg = NULL;
	const struct vm *vm;
	struct db *db = NULL;
	int timeout_s = DEFAULT_TIMEOUT_S, c, r;
	bool wait = true, json = false;
	int64_t id = 0;
	char *end;
	long n;

	while ((c = getopt_long(argc, argv, "+nt:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			wait = false;
			break;
		case 't':
			n = strtol(optarg, &end, 10);
			if (n < 0 || n > 86400 || *end || !*optarg)
				return ctl_usage_error("reconcile: --timeout \"%s\": give seconds, "
						       "0 to 86400", optarg);
			timeout_s = (int)n;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return ctl_help(USAGE, "\nQueue a reconcile of VM, wake statd and wait for the "
					"outcome (default 30 s).\n"
					"  -n, --no-wait        queue it, print its intent number, exit\n"
					"  -t, --timeout SECONDS  wait at most that long; then exit 75, "
					"it stays queued\n"
					"  -j, --json           the outcome as one JSON document\n");
		default:
			return ctl_usage_error("reconcile: unknown option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return ctl_usage_error("reconcile: which VM? (%s)", USAGE);
	if (ctl_config_load(paths->config, &cfg) < 0)
		return CTL_EXIT_USAGE;
	vm = config_find_vm(cfg, argv[optind]);
	if (!vm) {
		log_err("%s: no VM named \"%s\"", paths->config, argv[optind]);
		config_free(cfg);
		return CTL_EXIT_FAILED;
	}
	r = queue(paths, vm->name, &db, &id);
	if (r < 0) {
		log_err("%s: could not queue the reconcile: %s", paths->db, strerror(-r));
		db_close(db);
		config_free(cfg);
		return CTL_EXIT_FAILED;
	}
	/* statd not running is fine: it reconciles when it starts. */
	wake_statd(paths, "reconcile");
	r = wait ? wait_outcome(paths, db, vm, id, timeout_s, json) : CTL_EXIT_OK;
	if (!wait && json)
		print_json(vm->name, id, INTENT_PENDING, NULL, NULL, false);
	else if (!wait)
		printf("%s: reconcile queued (intent %lld)\n", vm->name, (long long)id);
	db_close(db);
	config_free(cfg);
	return r;
}
