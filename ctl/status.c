/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhotplugctl status: is statd running, can each VM be reached, how did
 * its last reconcile end, and what is still open.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "log.h"

#define USAGE "vhotplugctl status [--json]"

static int last_reconcile(void *userdata, const struct db_history_row *h)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "time", ctl_json_str(h->time));
	json_object_object_add(o, "event", ctl_json_str(h->event));
	json_object_object_add(o, "detail", ctl_json_str(h->detail));
	*(struct json_object **)userdata = o;
	return 0;
}

static int intent_add(void *userdata, const struct db_open_intent *i)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(i->id));
	json_object_object_add(o, "created", ctl_json_str(i->created));
	json_object_object_add(o, "device", ctl_json_str(i->device));
	json_object_object_add(o, "action", ctl_json_str(i->action));
	json_object_object_add(o, "vm", ctl_json_str(i->vm));
	json_object_object_add(o, "state", ctl_json_str(i->state));
	json_object_object_add(o, "attempts", json_object_new_int(i->attempts));
	json_object_object_add(o, "rule", ctl_json_str(i->rule));
	return json_object_array_add(userdata, o);
}

/* Open intents for VM (its name, or a select's list of VMs naming it). */
static int intents_for(struct json_object *intents, const char *vm)
{
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(intents); i++) {
		const char *v = json_object_get_string(json_object_object_get(
			json_object_array_get_idx(intents, i), "vm"));
		_cleanup_free_ char *quoted = NULL;

		if (v && asprintf(&quoted, "\"%s\"", vm) >= 0)
			n += streq(v, vm) || (v[0] == '[' && strstr(v, quoted));
	}
	return n;
}

static struct json_object *vm_status(struct db *db, const struct vm *vm,
				     struct json_object *intents)
{
	struct json_object *o = json_object_new_object(), *last = NULL;
	char why[128] = "";
	int reachable = ctl_vm_reachable(vm, why, sizeof(why));

	db_last_reconcile(db, vm->name, last_reconcile, &last);
	json_object_object_add(o, "name", ctl_json_str(vm->name));
	json_object_object_add(o, "type", ctl_json_str(vm_type_to_string(vm->type)));
	json_object_object_add(o, "socket", ctl_json_str(vm->socket));
	json_object_object_add(o, "reachable", json_object_new_boolean(reachable));
	json_object_object_add(o, "unreachableBecause", ctl_json_str(reachable ? NULL : why));
	json_object_object_add(o, "lastReconcile", last);
	json_object_object_add(o, "openIntents", json_object_new_int(intents_for(intents, vm->name)));
	return o;
}

static void print_text(struct json_object *doc)
{
	struct json_object *statd = json_object_object_get(doc, "statd");
	struct json_object *vms = json_object_object_get(doc, "vms");
	struct json_object *intents = json_object_object_get(doc, "intents");
	size_t n = json_object_array_length(intents);

#define S(o, k) json_object_get_string(json_object_object_get((o), (k)))
	if (json_object_get_boolean(json_object_object_get(statd, "running")))
		printf("statd: running (pid %s)\n", S(statd, "pid") ?: "?");
	else
		printf("statd: not running: intents wait for it\n");
	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		struct json_object *vm = json_object_array_get_idx(vms, i);
		struct json_object *last = json_object_object_get(vm, "lastReconcile");

		if (json_object_get_boolean(json_object_object_get(vm, "reachable")))
			printf("%s: running", S(vm, "name"));
		else
			printf("%s: not running (%s: %s)", S(vm, "name"), S(vm, "socket"),
			       S(vm, "unreachableBecause"));
		printf(", %s open intents\n", S(vm, "openIntents"));
		if (last)
			printf("    last reconcile %s: %s%s%s\n", S(last, "time"), S(last, "event"),
			       *S(last, "detail") ? ": " : "", S(last, "detail"));
		else
			printf("    no reconcile recorded\n");
	}
	printf("%zu open intents%s\n", n, n ? ":" : "");
	for (size_t i = 0; i < n; i++) {
		struct json_object *in = json_object_array_get_idx(intents, i);

		printf("  %s %s %s %s %s (%s)\n", S(in, "id"), S(in, "action"), S(in, "device"),
		       S(in, "vm") ?: "", S(in, "state"), S(in, "created"));
	}
#undef S
}

int ctl_status(const struct paths *paths, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct json_object *doc, *statd, *vms, *intents;
	struct config *cfg;
	struct db *db = NULL;
	bool json = false;
	long pid;
	int c, r;

	while ((c = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'h')
			return ctl_help(USAGE, "\nWhether statd runs, whether each VM's socket answers, "
					"its last reconcile, and the open intents.\n");
		else
			return ctl_usage_error("status: unknown option \"%s\"",
					       argv[optind - 1]);
	}
	if (optind < argc)
		return ctl_usage_error("status: unexpected argument \"%s\"", argv[optind]);
	if (ctl_config_load(paths->config, &cfg) < 0)
		return CTL_EXIT_FAILED;
	if (ctl_db_open(paths, &db) < 0) {
		config_free(cfg);
		return CTL_EXIT_FAILED;
	}
	doc = json_object_new_object();
	statd = json_object_new_object();
	json_object_object_add(statd, "running",
			       json_object_new_boolean(ctl_statd_running(paths, &pid)));
	json_object_object_add(statd, "pid", pid ? json_object_new_int64(pid) : NULL);
	json_object_object_add(doc, "statd", statd);
	intents = json_object_new_array();
	r = db_open_intents_each(db, intent_add, intents);
	vms = json_object_new_array();
	for (size_t i = 0; r == 0 && i < cfg->n_vms; i++)
		json_object_array_add(vms, vm_status(db, &cfg->vms[i], intents));
	json_object_object_add(doc, "vms", vms);
	json_object_object_add(doc, "intents", intents);
	db_close(db);
	config_free(cfg);
	if (r < 0) {
		log_err("cannot read the open intents: %s", strerror(-r));
		json_object_put(doc);
		return CTL_EXIT_FAILED;
	}
	if (json) {
		ctl_json_print(doc);
	} else {
		print_text(doc);
		json_object_put(doc);
	}
	return CTL_EXIT_OK;
}
