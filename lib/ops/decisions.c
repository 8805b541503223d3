/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The desired set = rules + choices - marks, worked out in one place so that
 * a plug and a reconcile never disagree about where a device goes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decisions.h"
#include "ident.h"
#include "log.h"
#include "macro.h"

bool decisions_allowed(const struct ruleset *set, const char *vm)
{
	if (!set || !vm)
		return false;
	if (set->target_vm && streq(set->target_vm, vm))
		return true;
	/* A PCI function is not handed around: allowedVms alone is refused (lib/intake). */
	if (set->kind == DEV_PCI)
		return false;
	for (size_t i = 0; i < set->n_allowed_vms; i++)
		if (streq(set->allowed_vms[i], vm))
			return true;
	return false;
}

/* The config's own string for VM in SET, so the decision outlives the database's copy. */
static const char *set_vm(const struct ruleset *set, const char *vm)
{
	if (set->target_vm && streq(set->target_vm, vm))
		return set->target_vm;
	for (size_t i = 0; i < set->n_allowed_vms; i++)
		if (streq(set->allowed_vms[i], vm))
			return set->allowed_vms[i];
	return NULL;
}

static int choice(struct db *db, const struct ruleset *set, const char *ident, int64_t device_id,
		  const char *label, struct decision *d)
{
	_cleanup_free_ char *vm = NULL;
	_cleanup_free_ char *why = NULL;
	bool first = false;
	int r = db_choice_get(db, ident, &vm);

	if (r < 0 || !vm)
		return r;
	if (decisions_allowed(set, vm)) {
		d->vm = set_vm(set, vm);
		d->chosen = true;
		snprintf(d->why, sizeof(d->why), "the VM a user chose");
		return 0;
	}
	/* The config changed under the choice: the rules win, and history says so once. */
	r = db_choice_ignored(db, ident, &first);
	if (r < 0 || !first)
		return r;
	if (asprintf(&why, "the chosen VM %s is not allowed by %s any more: the rules decide", vm,
		     set->path) < 0)
		return -ENOMEM;
	log_warn("%s: %s", label ?: ident, why);
	return db_history_add(db, device_id, label ?: ident, HISTORY_CHOICE_IGNORED, vm, why);
}

int decisions_desired(struct db *db, const struct ruleset *set, const char *ident,
		      int64_t device_id, const char *label, struct decision *d)
{
	_cleanup_free_ char *asleep = NULL;
	bool tag_out = false;
	int dev = -1;
	int r;

	*d = (struct decision){ 0 };
	if (!set)
		return 0;
	r = db_marks_get(db, ident, set->tag, &dev, &tag_out);
	if (r == 0)
		r = db_suspended_get(db, ident, &asleep);
	if (r < 0)
		return r;
	/* Until resume puts it back: a reconcile meanwhile must not. */
	if (asleep) {
		d->kept_out = true;
		snprintf(d->why, sizeof(d->why), "taken out of %s by a suspend", asleep);
		return 0;
	}
	if (dev == 1 || (dev != 0 && tag_out)) {
		d->kept_out = true;
		if (dev == 1)
			snprintf(d->why, sizeof(d->why), "detached by a user");
		else
			snprintf(d->why, sizeof(d->why), "its tag %s was detached by a user", set->tag);
		return 0;
	}
	d->vm = set->target_vm;
	return choice(db, set, ident, device_id, label, d);
}

const char *decisions_vm(struct db *db, const struct device *dev, const struct ruleset *set)
{
	_cleanup_free_ char *ident = set ? ident_make(dev) : NULL;
	_cleanup_free_ char *label = NULL;
	struct decision d;
	int64_t id = 0;

	if (!ident)
		return set ? set->target_vm : NULL;
	if (db_device_find(db, ident, &id, &label) < 0 ||
	    decisions_desired(db, set, ident, id, label, &d) < 0)
		return set->target_vm;
	return d.vm;
}
