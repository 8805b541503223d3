/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config-json.h"
#include "decisions.h"
#include "ident.h"
#include "intake.h"
#include "log.h"
#include "macro.h"
#include "match.h"
#include "pcigroup.h"

static char *rule_text(const struct rule *r)
{
	char *s = NULL;

	if (asprintf(&s, "%s (%s)", r->path, r->description ?: "") < 0)
		return NULL;
	return s;
}

/* The history detail of a "select": the rule, then the VMs to choose from. */
static char *selection_detail(const char *rule, const char *vms)
{
	char *s = NULL;

	if (asprintf(&s, "%s; allowed VMs: %s", rule, vms) < 0)
		return NULL;
	return s;
}

static char *vms_text(const struct ruleset *set)
{
	struct json_object *a = config_allowed_vms_json(set);
	char *s = a ? strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN)) : NULL;

	json_object_put(a);
	return s;
}

static int record_ignore(struct db *db, struct db_intent *in, const char *label, const char *why)
{
	int r;

	in->action = INTENT_IGNORE;
	in->state = INTENT_DONE;
	in->rule = why;
	r = db_intent_add(db, in, NULL);
	return r ?: db_history_add(db, in->device_id, label, HISTORY_IGNORED, NULL, why);
}

/* A user detached it (or its tag): it stays on the host until attached again. */
static int record_kept_out(struct db *db, struct db_intent *in, const char *label, const char *why)
{
	int r;

	in->action = INTENT_IGNORE;
	in->state = INTENT_DONE;
	in->rule = why;
	r = db_intent_add(db, in, NULL);
	return r ?: db_history_add(db, in->device_id, label, HISTORY_KEPT_OUT, NULL, why);
}

/* pciIommuAddAll: what the other functions of the matched one's group are queued with. */
struct group_add {
	struct db *db;
	const struct db_intent *matched;
	const char *addr;	/* the matched function */
	bool failed;		/* a database write failed: the event is not recorded */
};

static int add_member(void *userdata, const char *addr, const struct device *member)
{
	struct group_add *ga = userdata;
	_cleanup_free_ char *label = member ? device_describe(member) : NULL;
	_cleanup_free_ char *ident = member ? ident_make(member) : NULL;
	_cleanup_free_ char *why = NULL;
	struct db_intent in = *ga->matched;
	int r;

	/* statd binds the whole group anyway; only its device_add is missed. */
	if (!member) {
		log_warn("pciIommuAddAll: cannot read %s from sysfs: not queued", addr);
		return 0;
	}
	if (!label || !ident ||
	    asprintf(&why, "pciIommuAddAll: in the IOMMU group of %s, which %s takes",
			       ga->addr, ga->matched->rule) < 0) {
		ga->failed = true;
		return -ENOMEM;
	}
	in.busnum = member->busnum;
	in.devnum = member->devnum;
	in.rule = why;
	r = db_device_upsert(ga->db, member, ident, label, &in.device_id);
	if (r == 0)
		r = db_intent_add(ga->db, &in, NULL);
	if (r == 0)
		r = db_history_add(ga->db, in.device_id, label, HISTORY_QUEUED, in.vm, why);
	ga->failed = r < 0;
	return r;
}

/*
 * Queue every other function of the group for the same VM, in the matched
 * one's transaction. A function the rule set takes by itself is left to its
 * own event. One queued twice (a replug, statd --attach-connected) is not
 * added twice: statd's QEMU backend finds its id in the VM first. Each one
 * leaves the VM on its own remove event: unplugging a card removes every
 * function of its slot, each with its own event.
 */
static int record_group(struct db *db, const struct config *cfg, const struct ruleset *set,
			const struct device *dev, const struct db_intent *in)
{
	struct group_add ga = { .db = db, .matched = in, .addr = dev->sysname };
	int r = pcigroup_foreach_other(cfg, set, dev, add_member, &ga);

	/* No group to read (no IOMMU): statd says so when it prepares the matched one. */
	if (r < 0 && !ga.failed)
		log_notice("%s: pciIommuAddAll: cannot read its IOMMU group: %s", dev->sysname,
			   strerror(-r));
	return ga.failed ? r : 0;
}

static int record_match(struct db *db, const struct config *cfg, const struct device *dev,
			struct db_intent *in, const char *label, const struct match_result *m)
{
	char others[256];
	_cleanup_free_ char *rule = rule_text(m->rule);
	_cleanup_free_ char *ident = ident_make(dev);
	_cleanup_free_ char *chosen = NULL;
	struct decision d;
	_cleanup_free_ char *vms = NULL;
	_cleanup_free_ char *detail = NULL;
	int r;

	if (!rule || !ident)
		return -ENOMEM;
	in->rule = rule;
	in->tag = m->set->tag;
	if (m->set->kind == DEV_PCI && m->set->pci.iommu_skip_if_shared &&
	    pcigroup_unmatched(cfg, m->set, dev, others, sizeof(others)) > 0) {
		detail = NULL;
		if (asprintf(&detail, "its IOMMU group is shared with %s, which this rule set does"
			     " not take (pciIommuSkipIfShared)", others) < 0)
			return -ENOMEM;
		return record_ignore(db, in, label, detail);
	}
	/* The rules, a user's choice, a user's detach: lib/ops/decisions.c. */
	r = decisions_desired(db, m->set, ident, in->device_id, label, &d);
	if (r < 0)
		return r;
	if (d.kept_out)
		return record_kept_out(db, in, label, d.why);
	if (d.chosen && asprintf(&chosen, "%s; %s", rule, d.why) < 0)
		return -ENOMEM;
	if (d.vm) {
		in->action = INTENT_ATTACH;
		in->vm = d.vm;
		r = db_intent_add(db, in, NULL);
		if (r == 0)
			r = db_history_add(db, in->device_id, label, HISTORY_QUEUED, in->vm,
					   chosen ?: rule);
		if (r == 0 && m->set->kind == DEV_PCI && m->set->pci.iommu_add_all)
			r = record_group(db, cfg, m->set, dev, in);
		return r;
	}
	/* The original refuses these too: a PCI function is not handed around. */
	if (m->set->kind == DEV_PCI)
		return record_ignore(db, in, label, "PCI rule sets need a targetVm: allowedVms alone is refused");
	/* allowedVms: the user picks the VM; nothing happens until then. */
	vms = vms_text(m->set);
	detail = vms ? selection_detail(rule, vms) : NULL;
	if (!detail)
		return -ENOMEM;
	in->action = INTENT_SELECT;
	in->state = INTENT_HELD;
	in->allowed_vms = vms;
	r = db_intent_add(db, in, NULL);
	/* vm stays a VM name or NULL: the choice goes in the detail. */
	return r ?: db_history_add(db, in->device_id, label, HISTORY_AWAITING_SELECTION, NULL, detail);
}

static int decide(struct db *db, const struct config *cfg, const struct device *dev,
		  struct db_intent *in, const char *label)
{
	struct match_result m;
	int r;

	/* Left on the host: usbAuthorization may give it to the host's drivers (hostAllow). */
	if (!match_device(cfg, dev, &m, NULL)) {
		r = record_ignore(db, in, label, "no rule set takes it");
		return r ?: intake_authorize(db, cfg, dev, in->device_id, label);
	}
	return record_match(db, cfg, dev, in, label, &m);
}

/* No config to decide with: statd decides later, with the last good one it holds. */
static int record_undecided(struct db *db, struct db_intent *in, const char *label,
			    const char *config_error)
{
	int r;

	in->action = INTENT_DECIDE;
	in->state = INTENT_HELD;
	in->rule = config_error;
	r = db_intent_add(db, in, NULL);
	return r ?: db_history_add(db, in->device_id, label, HISTORY_UNDECIDED, NULL, config_error);
}

/* Is the device last seen at DEVPATH still in sysfs (under the root DEV was read from)? */
static bool still_there(const struct device *dev, const char *devpath)
{
	size_t n = strlen(dev->syspath ?: ""), k = strlen(dev->devpath ?: "");
	_cleanup_free_ char *path = NULL;

	if (!dev->syspath || !dev->devpath || n < k || !streq(dev->syspath + n - k, dev->devpath))
		return false;
	return asprintf(&path, "%.*s%s", (int)(n - k), dev->syspath, devpath) >= 0 &&
	       access(path, F_OK) == 0;
}

struct displace {
	const struct device *dev;
	struct db *db;
	char **ident;
	char *label;		/* of DEV */
};

static int displace_one(void *userdata, const struct db_displaced *old)
{
	struct displace *d = userdata;
	struct db_intent in = { .action = INTENT_DETACH, .device_id = old->id, .busnum = -1,
				.devnum = -1 };
	_cleanup_free_ char *why = NULL;
	int r;

	if (!streq(old->devpath, d->dev->devpath) && still_there(d->dev, old->devpath)) {
		/* Two devices of one identity (a serial cloned by a maker): keep them apart. */
		char *ident = ident_with_port(*d->ident, d->dev->sysname);

		if (!ident)
			return -ENOMEM;
		free(*d->ident);
		*d->ident = ident;
		return 0;
	}
	/* Its remove event was lost: what is in a VM for it goes, before the new plug is acted on. */
	if (asprintf(&why, "its removal was not seen; %s is plugged at %s now", d->label,
		     d->dev->sysname ?: "?") < 0)
		return -ENOMEM;
	r = db_device_absent(d->db, old->id);
	if (r == 0)
		r = db_history_add(d->db, old->id, old->label, HISTORY_UNPLUGGED, NULL, why);
	return r ?: db_intent_add(d->db, &in, NULL);
}

int intake_add(struct db *db, const struct config *cfg, const char *config_error,
	       const struct device *dev, enum history_event event)
{
	_cleanup_free_ char *label = device_describe(dev);
	_cleanup_free_ char *ident = ident_make(dev);
	struct db_intent in = { .busnum = dev->busnum, .devnum = dev->devnum };
	struct displace d = { .dev = dev, .db = db, .ident = &ident, .label = label };
	const char *never;
	int r;

	if (!label || !ident)
		return -ENOMEM;
	r = db_devices_displaced(db, dev->devpath, ident, dev->busnum, dev->devnum, displace_one, &d);
	if (r == 0)
		r = db_device_upsert(db, dev, ident, label, &in.device_id);
	if (r == 0)
		r = db_history_add(db, in.device_id, label, event, NULL, NULL);
	if (r < 0)
		return r;
	never = match_never_reason(dev);
	if (never) {
		r = record_ignore(db, &in, label, never);
		return r ?: intake_authorize(db, cfg, dev, in.device_id, label);
	}
	if (!cfg)
		return record_undecided(db, &in, label, config_error ?: "no valid config");
	return decide(db, cfg, dev, &in, label);
}

int intake_decide(struct db *db, const struct config *cfg, const struct device *dev,
		  const struct intake_undecided *u)
{
	_cleanup_free_ char *label = device_describe(dev);
	_cleanup_free_ char *why = NULL;
	struct db_intent in = { .device_id = u->device_id, .busnum = u->busnum,
				.devnum = u->devnum };
	int r;

	if (!label || asprintf(&why, "waited for a valid config (%s); decided with %s",
			       u->config_error ?: "?", cfg->file) < 0)
		return -ENOMEM;
	r = db_history_add(db, u->device_id, label, HISTORY_DECIDED, NULL, why);
	if (r == 0)
		r = db_intent_finish(db, u->intent_id, INTENT_DONE, why);
	return r ?: decide(db, cfg, dev, &in, label);
}

int intake_remove(struct db *db, const char *devpath)
{
	_cleanup_free_ char *label = NULL;
	struct db_intent in = { .action = INTENT_DETACH, .busnum = -1, .devnum = -1 };
	int r = db_device_gone(db, devpath, &in.device_id, &label);

	if (r == -ENOENT)
		return 0;	/* never recorded: nothing to undo */
	if (r == 0)
		r = db_history_add(db, in.device_id, label, HISTORY_UNPLUGGED, NULL, NULL);
	return r ?: db_intent_add(db, &in, NULL);
}
