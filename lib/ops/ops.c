/* SPDX-License-Identifier: Apache-2.0 */
/* Attach, detach and select one device: see ops.h. */
#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decisions.h"
#include "log.h"
#include "macro.h"
#include "ops-private.h"

void ops_dev_clear(struct ops_dev *d)
{
	free(d->ident);
	free(d->label);
	free(d->devpath);
	device_free(d->dev);
	*d = (struct ops_dev){ 0 };
}

int ops_dev_load(const struct db_device_name_row *row, struct ops_dev *d)
{
	struct udev *udev;
	struct udev_device *ud;
	_cleanup_free_ char *syspath = NULL;

	*d = (struct ops_dev){ .id = row->id, .present = row->present, .ident = strdup(row->ident),
			       .label = strdup(row->label), .devpath = strdup(row->devpath) };
	if (!d->ident || !d->label || !d->devpath)
		return -ENOMEM;
	if (!row->present)
		return 0;
	if (asprintf(&syspath, "/sys%s", row->devpath) < 0)
		return -ENOMEM;
	udev = udev_new();
	ud = udev ? udev_device_new_from_syspath(udev, syspath) : NULL;
	/* Gone meanwhile (its remove is on its way): treated as not plugged in. */
	if (ud && device_from_udev(ud, &d->dev) < 0)
		d->dev = NULL;
	udev_device_unref(ud);
	udev_unref(udev);
	return 0;
}

struct ops_item *ops_item_add(struct ops_result *res, const struct ops_dev *d)
{
	struct ops_item *v = realloc(res->items, (res->n + 1) * sizeof(*v));

	if (!v)
		return NULL;
	res->items = v;
	v += res->n++;
	*v = (struct ops_item){ .device_id = d->id, .ident = strdup(d->ident),
				.label = strdup(d->label) };
	return v->ident && v->label ? v : NULL;
}

static int requested(struct ops *o, const struct ops_dev *d, const char *vm, const char *what)
{
	_cleanup_free_ char *detail = NULL;

	if (asprintf(&detail, "%s, asked by %s", what, o->who) < 0)
		return -ENOMEM;
	return db_history_add(o->db, d->id, d->label, HISTORY_REQUESTED, vm, detail);
}

int ops_queue_detach(struct ops *o, const struct ops_dev *d, const char *vm, const char *what,
		     struct ops_item *item)
{
	struct db_intent in = { .device_id = d->id, .action = INTENT_DETACH, .vm = vm,
				.rule = what, .busnum = -1, .devnum = -1, .requested_by = o->who };
	int r = requested(o, d, vm, what);

	return r ?: db_intent_add(o->db, &in, &item->intent_id);
}

int ops_queue_attach(struct ops *o, const struct ops_dev *d, const char *vm,
		     struct ops_item *item)
{
	struct db_intent in = { .device_id = d->id, .action = INTENT_ATTACH, .vm = vm,
				.busnum = d->dev ? d->dev->busnum : -1,
				.devnum = d->dev ? d->dev->devnum : -1, .requested_by = o->who,
				.tag = d->m.set ? d->m.set->tag : NULL };
	_cleanup_free_ char *what = NULL;
	struct db_attachment a = { 0 };
	int r = db_attachment_find(o->db, d->id, NULL, &a);

	if (r < 0 && r != -ENOENT)
		return r;
	item->vm = strdup(vm);
	if (!item->vm)
		r = -ENOMEM;
	else if (r == 0 && streq(a.vm, vm) && a.state != ATTACHMENT_VM_STOPPED) {
		item->state = OPS_NOTHING;
		item->result = strdup("attached already");
		db_attachment_clear(&a);
		return item->result ? 0 : -ENOMEM;
	} else if (r == 0) {
		/* Moving: out of the other VM first; statd holds the attach until then. */
		item->from = strdup(a.vm);
		r = item->from ? ops_queue_detach(o, d, a.vm, "moved by a user", item) : -ENOMEM;
		item->detach_id = item->intent_id;
		in.parent = item->detach_id;
	} else {
		r = 0;
	}
	db_attachment_clear(&a);
	if (r == 0 && asprintf(&what, "attach to %s%s%s", vm, item->from ? ", moved from " : "",
			       item->from ?: "") < 0)
		r = -ENOMEM;
	in.rule = what;
	if (r == 0)
		r = requested(o, d, vm, what);
	if (r == 0)
		r = db_intent_add(o->db, &in, &item->intent_id);
	item->state = OPS_QUEUED;
	return r;
}

void ops_dev_match(struct ops_dev *d)
{
	d->m = (struct match_result){ 0 };
	if (d->dev && !match_never_reason(d->dev))
		match_device(d->cfg, d->dev, &d->m, NULL);
}

struct by_id {
	int64_t id;
	struct ops_dev *d;
	int r;
};

static int by_id_one(void *userdata, const struct db_device_name_row *row)
{
	struct by_id *b = userdata;

	if (row->id != b->id)
		return 0;
	b->r = ops_dev_load(row, b->d);
	return 1;
}

/* Device ID, read and matched; refused (RES->error) unless plugged in and taken by a rule set. */
int ops_dev_load_id(struct ops *o, int64_t id, struct ops_dev *d, struct ops_result *res)
{
	struct by_id b = { .id = id, .d = d, .r = -ENOENT };
	int r = db_devices_each_named(o->db, by_id_one, &b);

	if (r < 0)
		return r;
	if (b.r == -ENOENT)
		snprintf(res->error, sizeof(res->error), "no device #%lld", (long long)id);
	if (b.r < 0)
		return b.r;
	d->cfg = o->cfg;
	ops_dev_match(d);
	return 0;
}

/* D can go to a VM at all: plugged in, and a rule set takes it. */
static int attachable(const struct ops_dev *d, struct ops_result *res)
{
	const char *never = d->dev ? match_never_reason(d->dev) : NULL;

	if (!d->dev)
		snprintf(res->error, sizeof(res->error), "%s is not plugged in", d->label);
	else if (never)
		snprintf(res->error, sizeof(res->error), "%s is refused: %s", d->label, never);
	else if (!d->m.set)
		snprintf(res->error, sizeof(res->error),
			 "%s: no rule set takes it: it stays on the host", d->label);
	else
		return 0;
	return d->dev ? -EPERM : -ENODEV;
}

/* "vm1, vm2": the VMs SET allows, for a message. */
static void allowed_list(const struct ruleset *set, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	if (set->target_vm)
		len += snprintf(buf, size, "%s", set->target_vm);
	for (size_t i = 0; i < set->n_allowed_vms && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s", len ? ", " : "", set->allowed_vms[i]);
}

/* The VM D goes to: VM if the rules allow it, else its choice or targetVm. */
int ops_pick_vm(struct ops *o, const struct ops_dev *d, const char *vm, const char **out,
		struct ops_result *res)
{
	const struct ruleset *set = d->m.set;
	_cleanup_free_ char *chosen = NULL;
	char vms[256];
	int r;

	allowed_list(set, vms, sizeof(vms));
	*out = NULL;
	if (vm && !config_find_vm(o->cfg, vm)) {
		snprintf(res->error, sizeof(res->error), "no VM named \"%s\"", vm);
		return -ENOENT;
	}
	if (vm && !decisions_allowed(set, vm)) {
		snprintf(res->error, sizeof(res->error), "%s may go to %s only (%s), not to %s",
			 d->label, vms, set->path, vm);
		return -EPERM;
	}
	if (vm) {
		*out = vm;
		return 0;
	}
	r = db_choice_get(o->db, d->ident, &chosen);
	if (r < 0)
		return r;
	*out = chosen && decisions_allowed(set, chosen) ? config_find_vm(o->cfg, chosen)->name :
	       set->target_vm;
	if (!*out) {
		snprintf(res->error, sizeof(res->error),
			 "%s needs a VM: one of %s (vhotplugctl select DEVICE VM)", d->label, vms);
		return -EDESTADDRREQ;
	}
	return 0;
}

/* D's own mark after an attach: none, or "let in" while its tag is kept out. */
int ops_unmark(struct ops *o, const struct ops_dev *d)
{
	bool tag_out = false;
	int dev = -1;
	int r = db_marks_get(o->db, d->ident, d->m.set ? d->m.set->tag : NULL, &dev, &tag_out);

	return r ?: db_mark_device(o->db, d->ident, tag_out ? 0 : -1, o->who);
}

static int attach_locked(struct ops *o, const struct ops_dev *d, const char *vm, bool remember,
			 struct ops_item *item)
{
	_cleanup_free_ char *answer = NULL;
	int r = remember ? db_choice_set(o->db, d->ident, vm, o->who) : 0;

	if (r == 0)
		r = ops_unmark(o, d);
	if (r == 0 && asprintf(&answer, "%s chosen by %s", vm, o->who) < 0)
		r = -ENOMEM;
	if (r == 0)
		r = db_selects_close(o->db, d->id, answer);
	return r ?: ops_queue_attach(o, d, vm, item);
}

int ops_attach(struct ops *o, int64_t device_id, const char *vm, bool select,
	       struct ops_result *res)
{
	struct ops_dev d = { 0 };
	struct ops_item *item;
	const char *to = NULL;
	int r = ops_dev_load_id(o, device_id, &d, res);

	if (r == 0)
		r = attachable(&d, res);
	if (r == 0 && select && d.m.set->n_allowed_vms == 0) {
		snprintf(res->error, sizeof(res->error), "%s has no VM to choose: its rule (%s)"
			 " sends it to %s (vhotplugctl attach)", d.label, d.m.set->path,
			 d.m.set->target_vm ?: "?");
		r = -EPERM;
	}
	if (r == 0)
		r = ops_pick_vm(o, &d, vm, &to, res);
	item = r == 0 ? ops_item_add(res, &d) : NULL;
	if (r == 0 && !item)
		r = -ENOMEM;
	if (r == 0)
		r = db_begin(o->db);
	if (r == 0) {
		r = attach_locked(o, &d, to, vm != NULL, item);
		if (r == 0)
			r = db_commit(o->db);
		if (r < 0)
			db_rollback(o->db);
	}
	if (r < 0 && !res->error[0])
		snprintf(res->error, sizeof(res->error), "could not record it: %s", strerror(-r));
	ops_dev_clear(&d);
	return r;
}

int ops_detach(struct ops *o, int64_t device_id, struct ops_result *res)
{
	struct ops_dev d = { 0 };
	struct db_attachment a = { 0 };
	struct ops_item *item;
	int r = ops_dev_load_id(o, device_id, &d, res);

	item = r == 0 ? ops_item_add(res, &d) : NULL;
	if (r == 0 && !item)
		r = -ENOMEM;
	if (r == 0)
		r = db_begin(o->db);
	if (r < 0)
		goto out;
	r = db_mark_device(o->db, d.ident, 1, o->who);
	if (r == 0)
		r = db_selects_close(o->db, d.id, "detached by a user");
	if (r == 0)
		r = db_attachment_find(o->db, d.id, NULL, &a);
	if (r == 0 || r == -ENOENT) {
		item->vm = a.vm ? strdup(a.vm) : NULL;
		/* Not in a VM: queued all the same, so an attach on its way is cancelled. */
		r = ops_queue_detach(o, &d, NULL, "detach, kept out until attached again", item);
		item->state = OPS_QUEUED;
	}
	if (r == 0)
		r = db_commit(o->db);
	if (r < 0)
		db_rollback(o->db);
out:
	if (r < 0 && !res->error[0])
		snprintf(res->error, sizeof(res->error), "could not record it: %s", strerror(-r));
	db_attachment_clear(&a);
	ops_dev_clear(&d);
	return r;
}
