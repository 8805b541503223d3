/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Suspend and resume: before sleep, detach the USB devices (or one VM's PCI
 * functions) except those of rule sets marked skipOnSuspend, writing down
 * each one taken; after, put back exactly those, and say which failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "ops-private.h"

struct run {
	struct ops *o;
	const char *bus, *vm;
	struct ops_result *res;
};

static int suspend_one(void *userdata, struct ops_dev *d)
{
	struct run *s = userdata;
	struct db_attachment a = { 0 };
	struct ops_item *item;
	int r;

	if (!streq(dev_kind_to_string(d->dev->kind), s->bus))
		return 0;
	if (d->m.set && d->m.set->skip_on_suspend)
		return 0;
	r = db_attachment_find(s->o->db, d->id, s->vm, &a);
	if (r == -ENOENT || (r == 0 && a.state != ATTACHMENT_ATTACHED)) {
		db_attachment_clear(&a);
		return 0;
	}
	item = r == 0 ? ops_item_add(s->res, d) : NULL;
	if (r == 0 && !item)
		r = -ENOMEM;
	if (r == 0) {
		item->vm = a.vm;
		a.vm = NULL;
		item->state = OPS_QUEUED;
		r = db_suspended_add(s->o->db, d->ident, item->vm, s->bus, s->o->who);
	}
	if (r == 0)
		r = ops_queue_detach(s->o, d, item->vm, "suspend", item);
	db_attachment_clear(&a);
	return r;
}

struct taken {
	char *ident, *vm;
};

struct collect {
	struct taken *v;
	size_t n;
};

static int collect_one(void *userdata, const char *ident, const char *vm)
{
	struct collect *c = userdata;
	struct taken *v = realloc(c->v, (c->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->v = v;
	v[c->n].ident = strdup(ident);
	v[c->n].vm = strdup(vm);
	return v[c->n++].ident && v[c->n - 1].vm ? 0 : -ENOMEM;
}

static int resume_one(struct run *s, const struct taken *t)
{
	struct ops_result local = { 0 };
	struct ops_dev d = { 0 };
	struct ops_item *item;
	_cleanup_free_ char *label = NULL;
	int64_t id = 0;
	int r = db_device_find(s->o->db, t->ident, &id, &label);

	if (r == 0)
		r = db_suspended_del(s->o->db, t->ident);
	if (r < 0)
		return r;
	if (id == 0) {
		/* Unplugged while asleep: nothing to put back. */
		d = (struct ops_dev){ .ident = t->ident, .label = t->ident };
		item = ops_item_add(s->res, &d);
		if (!item)
			return -ENOMEM;
		item->state = OPS_REFUSED;
		item->vm = strdup(t->vm);
		item->result = strdup("not plugged in any more");
		return item->vm && item->result ? 0 : -ENOMEM;
	}
	r = ops_dev_load_id(s->o, id, &d, &local);
	item = r == 0 ? ops_item_add(s->res, &d) : NULL;
	if (r == 0 && !item)
		r = -ENOMEM;
	if (r == 0)
		r = ops_queue_attach(s->o, &d, t->vm, item);
	ops_dev_clear(&d);
	return r;
}

int ops_suspend(struct ops *o, const char *bus, const char *vm, bool out, struct ops_result *res)
{
	struct run s = { .o = o, .bus = bus, .vm = vm, .res = res };
	struct collect c = { 0 };
	_cleanup_free_ char *what = NULL;
	int r;

	if (!streq(bus, "usb") && !streq(bus, "pci")) {
		snprintf(res->error, sizeof(res->error), "no bus \"%s\": usb or pci", bus);
		return -EINVAL;
	}
	if (vm && !config_find_vm(o->cfg, vm)) {
		snprintf(res->error, sizeof(res->error), "no VM named \"%s\"", vm);
		return -ENOENT;
	}
	if (streq(bus, "pci") && !vm) {
		snprintf(res->error, sizeof(res->error), "pci needs --vm VM: a VM's PCI devices only");
		return -EINVAL;
	}
	if (asprintf(&what, "%s %s%s%s, asked by %s", out ? "suspend" : "resume", bus,
		     vm ? " --vm " : "", vm ?: "", o->who) < 0)
		return -ENOMEM;
	r = db_begin(o->db);
	if (r < 0)
		goto out;
	r = db_history_add(o->db, 0, "", HISTORY_REQUESTED, vm, what);
	if (r == 0 && out)
		r = ops_each_present(o, suspend_one, &s);
	if (r == 0 && !out)
		r = db_suspended_each(o->db, bus, vm, collect_one, &c);
	for (size_t i = 0; r == 0 && i < c.n; i++)
		r = resume_one(&s, &c.v[i]);
	if (r == 0)
		r = db_commit(o->db);
	if (r < 0)
		db_rollback(o->db);
out:
	for (size_t i = 0; i < c.n; i++) {
		free(c.v[i].ident);
		free(c.v[i].vm);
	}
	free(c.v);
	if (r < 0 && !res->error[0])
		snprintf(res->error, sizeof(res->error), "could not record it: %s", strerror(-r));
	return r;
}
