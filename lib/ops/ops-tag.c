/* SPDX-License-Identifier: Apache-2.0 */
/* Operations on many devices: by tag (the kill switch), suspend and resume. See ops.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "ops-private.h"

struct present {
	struct ops *o;
	struct ops_dev *devs;
	size_t n;
};

static int present_one(void *userdata, const struct db_device_name_row *row)
{
	struct present *p = userdata;
	struct ops_dev *v;

	if (!row->present)
		return 1;	/* plugged in ones come first: the rest are not */
	v = realloc(p->devs, (p->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->devs = v;
	v += p->n++;
	*v = (struct ops_dev){ 0 };
	return ops_dev_load(row, v);
}

int ops_each_present(struct ops *o, int (*fn)(void *userdata, struct ops_dev *d), void *userdata)
{
	struct present p = { .o = o };
	int r = db_devices_each_named(o->db, present_one, &p);

	for (size_t i = 0; i < p.n; i++) {
		p.devs[i].cfg = o->cfg;
		ops_dev_match(&p.devs[i]);
		if (r == 0 && p.devs[i].dev)
			r = fn(userdata, &p.devs[i]);
		ops_dev_clear(&p.devs[i]);
	}
	free(p.devs);
	return r;
}

/* Does a rule set of the config carry TAG? */
static bool tag_known(const struct config *cfg, const char *tag)
{
	for (size_t i = 0; i < cfg->n_sets; i++)
		if (streq(cfg->sets[i].tag, tag))
			return true;
	return false;
}

struct tag_run {
	struct ops *o;
	const char *tag, *vm;
	struct ops_result *res;
	bool out;
};

static int tag_one(void *userdata, struct ops_dev *d)
{
	struct tag_run *t = userdata;
	struct ops_result local = { 0 };
	struct db_attachment a = { 0 };
	struct ops_item *item;
	_cleanup_free_ char *what = NULL;
	const char *to = NULL;
	int r;

	if (!d->m.set || !streq(d->m.set->tag, t->tag))
		return 0;
	item = ops_item_add(t->res, d);
	if (!item)
		return -ENOMEM;
	/* The tag's mark speaks for it now. */
	r = db_mark_device(t->o->db, d->ident, -1, t->o->who);
	if (r < 0)
		return r;
	if (!t->out) {
		r = ops_pick_vm(t->o, d, t->vm, &to, &local);
		if (r == -ENOMEM || r == -EBUSY || r == -EIO)
			return r;
		if (r < 0) {
			item->state = OPS_REFUSED;
			item->result = strdup(local.error);
			return item->result ? 0 : -ENOMEM;
		}
		return ops_queue_attach(t->o, d, to, item);
	}
	r = db_attachment_find(t->o->db, d->id, NULL, &a);
	if (r < 0 && r != -ENOENT)
		return r;
	item->vm = a.vm;
	a.vm = NULL;
	db_attachment_clear(&a);
	item->state = OPS_QUEUED;
	if (asprintf(&what, "detach --tag %s, kept out until attached again", t->tag) < 0)
		return -ENOMEM;
	return ops_queue_detach(t->o, d, NULL, what, item);
}

static int by_tag(struct ops *o, const char *tag, const char *vm, bool out, struct ops_result *res)
{
	struct tag_run t = { .o = o, .tag = tag, .vm = vm, .res = res, .out = out };
	_cleanup_free_ char *what = NULL;
	int r;

	if (!tag_known(o->cfg, tag)) {
		snprintf(res->error, sizeof(res->error), "no rule set has the tag \"%s\"", tag);
		return -ENOENT;
	}
	if (vm && !config_find_vm(o->cfg, vm)) {
		snprintf(res->error, sizeof(res->error), "no VM named \"%s\"", vm);
		return -ENOENT;
	}
	if (asprintf(&what, "%s --tag %s, asked by %s", out ? "detach" : "attach", tag, o->who) < 0)
		return -ENOMEM;
	r = db_begin(o->db);
	if (r < 0)
		goto out;
	r = db_mark_tag(o->db, tag, out, o->who);
	if (r == 0)
		r = db_history_add(o->db, 0, "", HISTORY_REQUESTED, vm, what);
	if (r == 0)
		r = ops_each_present(o, tag_one, &t);
	if (r == 0)
		r = db_commit(o->db);
	if (r < 0)
		db_rollback(o->db);
out:
	if (r < 0)
		snprintf(res->error, sizeof(res->error), "could not record it: %s", strerror(-r));
	return r;
}

int ops_attach_tag(struct ops *o, const char *tag, const char *vm, struct ops_result *res)
{
	return by_tag(o, tag, vm, false, res);
}

int ops_detach_tag(struct ops *o, const char *tag, struct ops_result *res)
{
	return by_tag(o, tag, NULL, true, res);
}
