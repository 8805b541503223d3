/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhotplugctl list: the devices the database knows, each with its number
 * (what DEVICE arguments accept), the rule that decided on it, where it is
 * and the user's marks.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "usbauth.h"

#define USAGE "vhotplugctl list [--vm VM] [--tag TAG] [--connected|--disconnected] [--json]"

struct list {
	struct db *db;
	const char *vm, *tag;
	int present;			/* -1 any, else 0 or 1 */
	bool json;
	struct json_object *devices;	/* --json */
	int shown;
};

static int attachment_add(void *userdata, const struct db_attachment_row *a)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "vm", ctl_json_str(a->vm));
	json_object_object_add(o, "state", ctl_json_str(a->state));
	json_object_object_add(o, "qdevId", ctl_json_str(a->qdev_id));
	json_object_object_add(o, "since", ctl_json_str(a->since));
	return json_object_array_add(userdata, o);
}

/*
 * The user's marks on the device, as words: "chosen VM" (its remembered
 * choice), "detached" (by hand), "detached-by-tag TAG" (the tag's kill
 * switch), "let-in" (attached by hand while its tag is off), "suspended VM"
 * (taken out by suspend, put back by resume).
 */
static int list_marks(struct db *db, const struct db_device_row *d, struct json_object *marks)
{
	_cleanup_free_ char *chosen = NULL, *suspended = NULL;
	char word[256];
	bool tag_out = false;
	int dev = -1, r;

	r = db_choice_get(db, d->ident, &chosen);
	if (r == 0)
		r = db_marks_get(db, d->ident, d->tag, &dev, &tag_out);
	if (r == 0)
		r = db_suspended_get(db, d->ident, &suspended);
	if (r < 0)
		return r;
	if (chosen) {
		snprintf(word, sizeof(word), "chosen %s", chosen);
		json_object_array_add(marks, json_object_new_string(word));
	}
	if (dev == 1)
		json_object_array_add(marks, json_object_new_string("detached"));
	if (tag_out && dev != 0) {
		snprintf(word, sizeof(word), "detached-by-tag %s", d->tag);
		json_object_array_add(marks, json_object_new_string(word));
	}
	if (tag_out && dev == 0)
		json_object_array_add(marks, json_object_new_string("let-in"));
	if (suspended) {
		snprintf(word, sizeof(word), "suspended %s", suspended);
		json_object_array_add(marks, json_object_new_string(word));
	}
	return 0;
}

static bool in_vm(struct json_object *attachments, const char *vm)
{
	for (size_t i = 0; i < json_object_array_length(attachments); i++) {
		struct json_object *a = json_object_array_get_idx(attachments, i);

		if (streq(json_object_get_string(json_object_object_get(a, "vm")), vm))
			return true;
	}
	return false;
}

/*
 * A connected USB device's authorized (usbAuthorization): 1, 0 (the host
 * keeps it unconfigured: no driver), or -1 when unknown or not USB.
 */
static int authorized(const struct db_device_row *d)
{
	char dir[300];
	int r;

	if (!d->present || !streq(d->kind, "usb") || !d->sysname ||
	    snprintf(dir, sizeof(dir), "bus/usb/devices/%s", d->sysname) >= (int)sizeof(dir))
		return -1;
	r = usbauth_get(dir, "authorized");
	return r < 0 ? -1 : r;
}

static void print_text(const struct db_device_row *d, struct json_object *allowed,
		       struct json_object *attachments, struct json_object *marks)
{
	size_t n = json_object_array_length(attachments);

	printf("#%lld %s\n", (long long)d->id, d->label);
	printf("    identity %s, %s%s\n", d->ident, d->present ? "connected" : "disconnected",
	       authorized(d) == 0 ? ", unauthorized" : "");
	if (d->rule)
		printf("    rule %s%s%s", d->rule, d->tag ? ", tag " : "", d->tag ?: "");
	else
		printf("    no decision kept");
	if (d->vm && streq(d->action, "attach"))
		printf(": to %s", d->vm);
	else if (allowed)
		printf(": one of %s", json_object_to_json_string_ext(allowed, JSON_C_TO_STRING_PLAIN));
	printf("\n    in ");
	for (size_t i = 0; i < n; i++) {
		struct json_object *a = json_object_array_get_idx(attachments, i);

		printf("%s%s (%s)", i ? ", " : "",
		       json_object_get_string(json_object_object_get(a, "vm")),
		       json_object_get_string(json_object_object_get(a, "state")));
	}
	printf("%s\n", n ? "" : "no VM");
	for (size_t i = 0; i < json_object_array_length(marks); i++)
		printf("    mark %s\n", json_object_get_string(json_object_array_get_idx(marks, i)));
}

static int device_show(void *userdata, const struct db_device_row *d)
{
	struct list *l = userdata;
	struct json_object *attachments = json_object_new_array();
	struct json_object *marks = json_object_new_array();
	struct json_object *allowed = ctl_json_parse(streq(d->action, "select") ? d->allowed_vms :
						     NULL);
	struct json_object *o;
	int r = db_device_attachments(l->db, d->id, attachment_add, attachments);

	if (r == 0)
		r = list_marks(l->db, d, marks);
	if (r < 0 || (l->present >= 0 && d->present != l->present) ||
	    (l->tag && !streq(d->tag, l->tag)) || (l->vm && !in_vm(attachments, l->vm)))
		goto out;
	l->shown++;
	if (!l->json) {
		print_text(d, allowed, attachments, marks);
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "number", json_object_new_int64(d->id));
	json_object_object_add(o, "identity", ctl_json_str(d->ident));
	json_object_object_add(o, "label", ctl_json_str(d->label));
	json_object_object_add(o, "kind", ctl_json_str(d->kind));
	json_object_object_add(o, "sysname", ctl_json_str(d->sysname));
	json_object_object_add(o, "devnode", ctl_json_str(d->devnode));
	json_object_object_add(o, "connected", json_object_new_boolean(d->present));
	/* usbAuthorization: null when not a connected USB device or unreadable. */
	r = authorized(d);
	json_object_object_add(o, "authorized", r < 0 ? NULL : json_object_new_boolean(r));
	r = 0;
	json_object_object_add(o, "lastSeen", ctl_json_str(d->last_seen));
	json_object_object_add(o, "decision", ctl_json_str(d->action));
	json_object_object_add(o, "rule", ctl_json_str(d->rule));
	json_object_object_add(o, "tag", ctl_json_str(d->tag));
	json_object_object_add(o, "targetVm",
			       ctl_json_str(streq(d->action, "attach") ? d->vm : NULL));
	json_object_object_add(o, "allowedVms", json_object_get(allowed));
	json_object_object_add(o, "attachments", json_object_get(attachments));
	json_object_object_add(o, "marks", json_object_get(marks));
	json_object_array_add(l->devices, o);
out:
	json_object_put(attachments);
	json_object_put(marks);
	json_object_put(allowed);
	return r;
}

int ctl_list(const struct paths *paths, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vm", required_argument, NULL, 'v' },
		{ "tag", required_argument, NULL, 't' },
		{ "connected", no_argument, NULL, 'C' },
		{ "disconnected", no_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct list l = { .present = -1 };
	struct config *cfg;
	int c, r;

	while ((c = getopt_long(argc, argv, "+v:t:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			l.vm = optarg;
			break;
		case 't':
			l.tag = optarg;
			break;
		case 'C':
		case 'D':
			if (l.present >= 0 && l.present != (c == 'C'))
				return ctl_usage_error("--connected or --disconnected, not both");
			l.present = c == 'C';
			break;
		case 'j':
			l.json = true;
			break;
		case 'h':
			return ctl_help(USAGE, "\nThe devices the database knows: number, identity, "
					"rule, tag, where they are, marks.\n");
		default:
			return ctl_usage_error("list: unknown option \"%s\"",
					       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ctl_usage_error("list: unexpected argument \"%s\"", argv[optind]);
	/* A VM the config does not name is a typo; without a config, believe the user. */
	cfg = l.vm ? ctl_config_quiet(paths->config) : NULL;
	if (cfg && !config_find_vm(cfg, l.vm)) {
		log_err("no VM named \"%s\" in %s", l.vm, paths->config);
		config_free(cfg);
		return CTL_EXIT_FAILED;
	}
	config_free(cfg);
	if (ctl_db_open(paths, &l.db) < 0)
		return CTL_EXIT_FAILED;
	l.devices = json_object_new_array();
	r = db_devices_each(l.db, device_show, &l);
	db_close(l.db);
	if (r < 0) {
		json_object_put(l.devices);
		log_err("cannot read the devices: %s", strerror(-r));
		return CTL_EXIT_FAILED;
	}
	if (l.json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "devices", l.devices);
		ctl_json_print(o);
	} else {
		json_object_put(l.devices);
		if (!l.shown)
			printf("no devices\n");
	}
	return CTL_EXIT_OK;
}
