/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operation verbs' common part: options, the config and the database,
 * naming a device, waiting for statd, and the text or JSON that says how it
 * went, with the exit status.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "devname.h"
#include "log.h"
#include "macro.h"
#include "ops-print.h"

int ctl_op_usage(const struct ctl_op *op, bool asked)
{
	fprintf(asked ? stdout : stderr, "Usage: vhotplugctl %s\n", op->usage);
	return asked ? CTL_EXIT_OK : CTL_EXIT_USAGE;
}

int ctl_op_options(struct ctl_op *op, int argc, char **argv, const char *with)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "no-wait", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "tag", required_argument, NULL, 't' },
		{ "vm", required_argument, NULL, 'v' },
		{}
	};
	char *end;
	int c;

	op->timeout_s = CTL_OPS_TIMEOUT_S;
	snprintf(op->who, sizeof(op->who), "ctl uid=%u", (unsigned)getuid());
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			op->json = true;
		else if (c == 'n')
			op->no_wait = true;
		else if (c == 'h')
			return ctl_op_usage(op, true);
		else if (c == 'T' && (op->timeout_s = (int)strtol(optarg, &end, 10)) >= 0 && !*end &&
			 *optarg)
			continue;
		else if (c == 't' && strchr(with, 't'))
			op->tag = optarg;
		else if (c == 'v' && strchr(with, 'v'))
			op->vm = optarg;
		else
			return ctl_op_usage(op, false);
	}
	return -1;
}

int ctl_op_open(struct ctl_op *op, const struct paths *paths)
{
	int r;

	if (config_load(paths->config, &op->cfg, stderr) < 0)
		return CTL_EXIT_FAILED;
	r = db_open(paths->db, 1000, 0, &op->db);
	if (r < 0) {
		log_err("%s: cannot open the database: %s", paths->db, strerror(-r));
		config_free(op->cfg);
		return CTL_EXIT_FAILED;
	}
	op->ops = (struct ops){ .paths = paths, .cfg = op->cfg, .db = op->db, .who = op->who };
	return -1;
}

static void close_all(struct ctl_op *op)
{
	ops_result_clear(&op->res);
	db_close(op->db);
	config_free(op->cfg);
	op->db = NULL;
	op->cfg = NULL;
}

/* The one error line (then MORE, if any), and with --json the document that says it too. */
static int fail(struct ctl_op *op, const char *error, struct json_object *extra, const char *more)
{
	log_err("%s", error);
	if (more && !op->json)
		fputs(more, stderr);
	if (op->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "operation", json_object_new_string(op->verb));
		json_object_object_add(o, "ok", json_object_new_boolean(false));
		json_object_object_add(o, "error", json_object_new_string(error));
		json_object_object_add(o, "devices", json_object_new_array());
		if (extra)
			json_object_object_add(o, "candidates", extra);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		json_object_put(extra);
	}
	close_all(op);
	return CTL_EXIT_FAILED;
}

int ctl_op_device(struct ctl_op *op, const char *name, int64_t *id)
{
	struct devname_hit *hits = NULL;
	struct json_object *cands;
	_cleanup_free_ char *more = NULL;
	char error[512];
	size_t n = 0, len = 0;
	FILE *f;
	int r = devname_resolve(op->db, name, &hits, &n);

	if (r < 0) {
		snprintf(error, sizeof(error), "cannot read the devices: %s", strerror(-r));
		return fail(op, error, NULL, NULL);
	}
	if (n == 1) {
		*id = hits[0].id;
		devname_free(hits, n);
		return -1;
	}
	if (n == 0) {
		snprintf(error, sizeof(error), "no device named \"%s\" (see vhotplugctl list)", name);
		return fail(op, error, NULL, NULL);
	}
	/* Ambiguous: nothing changes; say which ones it could be. */
	snprintf(error, sizeof(error), "\"%s\" names %zu devices: nothing done; name one of them"
		 " by its number", name, n);
	cands = json_object_new_array();
	f = open_memstream(&more, &len);
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "id", json_object_new_int64(hits[i].id));
		json_object_object_add(c, "ident", json_object_new_string(hits[i].ident));
		json_object_object_add(c, "label", json_object_new_string(hits[i].label));
		json_object_object_add(c, "present", json_object_new_boolean(hits[i].present));
		json_object_array_add(cands, c);
		if (f)
			fprintf(f, "  #%lld %s%s\n", (long long)hits[i].id, hits[i].label,
				hits[i].present ? "" : " (unplugged)");
	}
	if (f)
		fclose(f);
	devname_free(hits, n);
	return fail(op, error, cands, more);
}

static struct json_object *str_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static void print_json(const struct ctl_op *op, bool ok)
{
	struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();

	json_object_object_add(o, "operation", json_object_new_string(op->verb));
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	json_object_object_add(o, "error", NULL);
	for (size_t i = 0; i < op->res.n; i++) {
		const struct ops_item *it = &op->res.items[i];
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "id", json_object_new_int64(it->device_id));
		json_object_object_add(d, "ident", json_object_new_string(it->ident));
		json_object_object_add(d, "label", json_object_new_string(it->label));
		json_object_object_add(d, "vm", str_or_null(it->vm));
		json_object_object_add(d, "from", str_or_null(it->from));
		json_object_object_add(d, "state",
				       json_object_new_string(ops_state_to_string(it->state)));
		json_object_object_add(d, "result", str_or_null(it->result));
		json_object_object_add(d, "intent", it->intent_id ?
				       json_object_new_int64(it->intent_id) : NULL);
		json_object_object_add(d, "vmRunning", json_object_new_boolean(!it->vm_down));
		json_object_array_add(a, d);
	}
	json_object_object_add(o, "devices", a);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static void print_text(const struct ctl_op *op)
{
	for (size_t i = 0; i < op->res.n; i++) {
		const struct ops_item *it = &op->res.items[i];

		printf("%s %s", op->verb, it->label);
		if (it->from)
			printf(" from %s", it->from);
		if (it->vm)
			printf(" %s %s", streq(op->verb, "detach") || streq(op->verb, "suspend") ?
			       "from" : "to", it->vm);
		printf(": %s%s%s\n", ops_state_to_string(it->state),
		       it->result && *it->result ? ": " : "", it->result ?: "");
	}
	if (op->res.n == 0)
		printf("%s: no device to act on\n", op->verb);
}

/* Why it is still open, one line each VM: not running, or statd not answering. */
static void say_waiting(const struct ctl_op *op)
{
	bool statd = false;

	for (size_t i = 0; i < op->res.n; i++) {
		const struct ops_item *it = &op->res.items[i];
		const char *vm = it->from && it->detach_id ? it->from : it->vm;

		if (it->state != OPS_WAITING)
			continue;
		if (it->vm_down && vm)
			log_err("%s is not running: the %s of %s waits for it", vm, op->verb,
				it->label);
		else
			statd = true;
	}
	if (statd)
		log_err("statd did not finish within %d s (is it running?): the %s stays queued",
			op->timeout_s, op->verb);
}

int ctl_op_finish(struct ctl_op *op, int r)
{
	bool failed = false, waiting = false;
	int status;

	if (r < 0)
		return fail(op, op->res.error[0] ? op->res.error : strerror(-r), NULL, NULL);
	r = ops_wait(&op->ops, &op->res, op->no_wait ? 0 : op->timeout_s * 1000);
	if (r < 0)
		return fail(op, "cannot read the outcome from the database", NULL, NULL);
	for (size_t i = 0; i < op->res.n; i++) {
		failed |= op->res.items[i].state == OPS_FAILED ||
			  op->res.items[i].state == OPS_REFUSED;
		waiting |= op->res.items[i].state == OPS_WAITING;
	}
	if (op->json)
		print_json(op, !failed && !waiting);
	else
		print_text(op);
	if (waiting)
		say_waiting(op);
	status = failed ? CTL_EXIT_FAILED : waiting ? CTL_EXIT_TIMEOUT : CTL_EXIT_OK;
	close_all(op);
	return status;
}
