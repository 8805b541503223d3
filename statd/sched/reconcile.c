/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reconcile a VM: what it should have (devices plugged in now, known to the
 * database, that the rules send to it) against what its VMM says it has.
 * Missing devices get attach intents, devices statd put there and no longer
 * wanted get detach intents, rows for devices the VM lost are forgotten, and
 * whatever else the VM has is left alone. The new intents go through the
 * VM's queue like any other, after the reconcile; one 'reconciled' history
 * row gives the counts. A forgotten PCI function that no rule wants any
 * more goes back to its host driver: nothing else would give it back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decisions.h"
#include "ident.h"
#include "job.h"
#include "log.h"
#include "macro.h"
#include "pcigroup.h"
#include "present.h"
#include "sched-private.h"

/* A device the VM should have. */
struct want {
	int64_t device_id;
	char *qdev_id, *label;
	char model[10];		/* "vvvv:pppp" */
	int busnum, devnum;
	bool placed;		/* a row of the VM covers it */
	bool adopted;		/* found in the VM under KEY without a row */
	char key[64];
};

/* One of the VM's attachments, as the plan goes. */
struct row {
	struct db_attachment a;
	bool dropped;		/* forgotten: its key is free */
};

/* A forgotten row no rule wants back: its PCI function goes back to the host. */
struct lost {
	int64_t device_id;
	char *label;
};

struct plan {
	struct vmm *m;
	struct lost *lost;
	size_t n_lost;
	struct job *j;
	struct want *want;
	size_t n_want;
	struct row *rows;
	size_t n_rows;
	int attach, detach, kept, forgotten, adopted, foreign;
};

static bool seen(const struct job *j, const char *id)
{
	for (size_t i = 0; i < j->n_seen; i++)
		if (streq(j->seen[i], id))
			return true;
	return false;
}

static struct want *wanted(struct plan *p, int64_t device_id)
{
	for (size_t i = 0; i < p->n_want; i++)
		if (p->want[i].device_id == device_id)
			return &p->want[i];
	return NULL;
}

/* DEV, plugged in now, is for this VM: wanted if the database knows it as plugged. */
static int want_add(struct plan *p, const struct device *dev)
{
	_cleanup_free_ char *ident = ident_make(dev);
	struct want *v, w = { .busnum = dev->busnum, .devnum = dev->devnum };
	int r;

	snprintf(w.model, sizeof(w.model), "%04x:%04x", dev->vendor_id & 0xffff,
		 dev->product_id & 0xffff);
	if (!ident)
		return -ENOMEM;
	/*
	 * Never seen, or its removal recorded: not the database's to restore
	 * (-a is for those). udev says what is there, the database what was
	 * plugged; a device goes back only when both agree.
	 */
	r = db_device_find(p->m->db, ident, &w.device_id, &w.label);
	if (r < 0 || w.device_id == 0 || wanted(p, w.device_id)) {
		free(w.label);
		return r;
	}
	w.qdev_id = ident_qdev_id(dev_kind_to_string(dev->kind), ident);
	v = w.qdev_id ? realloc(p->want, (p->n_want + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(w.qdev_id);
		free(w.label);
		return -ENOMEM;
	}
	p->want = v;
	p->want[p->n_want++] = w;
	return 0;
}

/* A function pciIommuAddAll brings along with one its rule set takes: wanted as well. */
static int want_member(void *userdata, const char *addr, const struct device *member)
{
	return member ? want_add(userdata, member) : 0;
}

static int want_one(void *userdata, const struct device *dev, const struct match_result *m)
{
	struct plan *p = userdata;
	int r;

	/* Rules, choices and marks: lib/ops/decisions.c, as at the plug. */
	if (!m->set || !streq(decisions_vm(p->m->db, dev, m->set), p->j->vm))
		return 0;
	r = want_add(p, dev);
	/* The helper queued the group's other functions with it (lib/intake.c): they stay too. */
	if (r == 0 && dev->kind == DEV_PCI && m->set->kind == DEV_PCI && m->set->pci.iommu_add_all &&
	    pcigroup_foreach_other(p->m->cfg, m->set, dev, want_member, p) == -ENOMEM)
		r = -ENOMEM;
	return r;
}

static int row_one(void *userdata, const struct db_attachment *a)
{
	struct plan *p = userdata;
	struct row *v = realloc(p->rows, (p->n_rows + 1) * sizeof(*v));
	struct db_attachment *c;

	if (!v)
		return -ENOMEM;
	p->rows = v;
	c = &v[p->n_rows++].a;
	v[p->n_rows - 1].dropped = false;
	*c = (struct db_attachment){ .id = a->id, .device_id = a->device_id, .vm = strdup(a->vm),
				     .qdev_id = strdup(a->qdev_id), .state = a->state,
				     .label = strdup(a->label), .bus = a->bus ? strdup(a->bus) : NULL };
	return c->vm && c->qdev_id && c->label && (c->bus || !a->bus) ? 0 : -ENOMEM;
}

/* Queue ACTION of DEVICE_ID for this VM, unless one is open already. */
static int queue(struct plan *p, enum intent_action action, int64_t device_id, int busnum,
		 int devnum, int *count)
{
	struct db_intent in = { .device_id = device_id, .action = action, .vm = p->j->vm,
				.rule = "reconcile", .busnum = busnum, .devnum = devnum,
				.parent = p->j->intent_id };
	bool open = false;
	int r = db_intent_open(p->m->db, action, p->j->vm, device_id, &open);

	if (r == 0 && !open) {
		r = db_intent_add(p->m->db, &in, NULL);
		(*count)++;
	}
	return r;
}

static int lost_add(struct plan *p, const struct db_attachment *a)
{
	struct lost *v = realloc(p->lost, (p->n_lost + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	p->lost = v;
	v[p->n_lost].device_id = a->device_id;
	v[p->n_lost].label = strdup(a->label);
	return v[p->n_lost++].label ? 0 : -ENOMEM;
}

/* One row of the VM's attachments against what it has. */
static int settle_row(struct plan *p, struct row *row)
{
	const struct db_attachment *a = &row->a;
	struct want *w = wanted(p, a->device_id);
	struct db *db = p->m->db;
	int r = 0;

	if (!seen(p->j, a->qdev_id)) {
		/* Gone with a restart, or removed by hand: forgotten; the plan below re-adds it. */
		p->forgotten++;
		row->dropped = true;
		if (!w)
			r = lost_add(p, a);
		if (r == 0)
			r = db_attachment_drop(db, a->vm, a->qdev_id);
		return r ?: db_history_add(db, a->device_id, a->label, HISTORY_FORGOTTEN, a->vm,
					  "not in the VM at reconcile");
	}
	/* In the VM under the key the row has (a qdev id, or the port crosvm gave). */
	if (a->bus && p->j->w->ops && p->j->w->ops->held)
		p->j->w->ops->held(p->j->w->b, a->qdev_id, a->bus);
	if (w)
		w->placed = true;
	if (!w) {
		/* Statd put it there, and nothing sends it there now (unplugged, rules changed). */
		return a->state == ATTACHMENT_DETACHING ? 0 :
		       queue(p, INTENT_DETACH, a->device_id, -1, -1, &p->detach);
	}
	p->kept++;
	if (a->state == ATTACHMENT_ATTACHED)
		return 0;
	r = db_attachment_settle(db, a->vm, a->qdev_id, ATTACHMENT_ATTACHED, NULL);
	return r ?: db_history_add(db, a->device_id, a->label, HISTORY_ATTACHED, a->vm,
				  "found in the VM at reconcile");
}

/* Is ID the key of one of the VM's rows still kept, or of a device adopted already? */
static bool claimed(const struct plan *p, const char *id)
{
	for (size_t i = 0; i < p->n_rows; i++)
		if (!p->rows[i].dropped && streq(p->rows[i].a.qdev_id, id))
			return true;
	for (size_t i = 0; i < p->n_want; i++)
		if (p->want[i].adopted && streq(p->want[i].key, id))
			return true;
	return false;
}

/* The id under which the VM has W's device though no row says so, or NULL. */
static const char *unrecorded(struct plan *p, const struct want *w)
{
	if (seen(p->j, w->qdev_id))
		return w->qdev_id;	/* our id: ours */
	/* A VMM that names devices itself (crosvm): the same model, in no row of ours. */
	for (size_t i = 0; p->j->models && i < p->j->n_seen; i++)
		if (streq(p->j->models[i], w->model) && !claimed(p, p->j->seen[i]))
			return p->j->seen[i];
	return NULL;
}

static int place_want(struct plan *p, struct want *w)
{
	struct db *db = p->m->db;
	const char *key;
	int r;

	if (w->placed)
		return 0;
	key = unrecorded(p, w);
	if (!key)
		return queue(p, INTENT_ATTACH, w->device_id, w->busnum, w->devnum, &p->attach);
	/* Ours, with no row (a statd died before it could write it): taken back, not added twice. */
	p->adopted++;
	w->adopted = true;
	snprintf(w->key, sizeof(w->key), "%s", key);
	r = db_attachment_put(db, w->device_id, p->j->vm, key);
	return r ?: db_history_add(db, w->device_id, w->label, HISTORY_ATTACHED, p->j->vm,
				  "found in the VM at reconcile");
}

static int count_foreign(struct plan *p)
{
	for (size_t i = 0; i < p->j->n_seen; i++) {
		bool ours = claimed(p, p->j->seen[i]);

		for (size_t k = 0; !ours && k < p->n_want; k++)
			ours = streq(p->want[k].qdev_id, p->j->seen[i]);
		p->foreign += !ours;
	}
	return 0;
}

/*
 * The desired set: what the VM should have, into P->want. Today the devices
 * plugged in that the database knows and the rules send to this VM.
 */
static int desired_collect(struct plan *p, const struct present_look *look)
{
	return present_look_each(look, want_one, p);
}

static int apply(struct plan *p, const struct present_look *look, char *detail, size_t size)
{
	struct db *db = p->m->db;
	int r = desired_collect(p, look);

	if (r == 0)
		r = db_begin(db);
	if (r < 0)
		return r;
	r = db_attachments_in(db, p->j->vm, row_one, p);
	for (size_t i = 0; r == 0 && i < p->n_rows; i++)
		r = settle_row(p, &p->rows[i]);
	for (size_t i = 0; r == 0 && i < p->n_want; i++)
		r = place_want(p, &p->want[i]);
	if (r == 0)
		r = count_foreign(p);
	snprintf(detail, size, "%d to attach, %d to detach, %d kept, %d forgotten, %d adopted,"
		 " %d not ours left alone", p->attach, p->detach, p->kept, p->forgotten, p->adopted,
		 p->foreign);
	if (r == 0)
		r = db_history_add(db, 0, "", HISTORY_RECONCILED, p->j->vm, detail);
	if (r == 0)
		r = db_intent_finish(db, p->j->intent_id, INTENT_DONE, detail);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r;
}

/* A present PCI function whose row was forgotten and that no rule wants: given back. */
static int give_back_one(void *userdata, const struct device *dev, const struct match_result *mr)
{
	struct plan *p = userdata;
	_cleanup_free_ char *ident = NULL;
	_cleanup_free_ char *label = NULL;
	int64_t id = 0;

	if (dev->kind != DEV_PCI)
		return 0;
	ident = ident_make(dev);
	if (!ident || db_device_find(p->m->db, ident, &id, &label) < 0 || id == 0)
		return 0;
	for (size_t i = 0; i < p->n_lost; i++) {
		struct vmm_job vj = { .kind = DEV_PCI, .device_id = id, .vm = p->j->vm,
				      .label = p->lost[i].label, .sysname = dev->sysname };

		if (p->lost[i].device_id == id)
			sched_restore(p->m, &vj);
	}
	return 0;
}

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n_want; i++) {
		free(p->want[i].qdev_id);
		free(p->want[i].label);
	}
	free(p->want);
	for (size_t i = 0; i < p->n_rows; i++)
		db_attachment_clear(&p->rows[i].a);
	free(p->rows);
	for (size_t i = 0; i < p->n_lost; i++)
		free(p->lost[i].label);
	free(p->lost);
}

/*
 * The look at what is plugged in, taken after J's VM was listed: the one
 * another reconcile took meanwhile if there is one, so that VMs reconciled
 * together (statd's start) cost one look, not one each.
 */
static int look_get(struct vmm *m, const struct job *j, const struct present_look **out)
{
	int r;

	if (!present_look_fresh(m->look, m->cfg, j->w->tried_ms)) {
		present_look_free(m->look);
		m->look = NULL;
		r = present_look_take(m->cfg, m->db, &m->look);
		if (r < 0)
			return r;
	}
	*out = m->look;
	return 0;
}

int reconcile_apply(struct vmm *m, struct job *j, char *summary, size_t size)
{
	struct plan p = { .m = m, .j = j };
	const struct present_look *look;
	int r = look_get(m, j, &look);

	if (r == 0)
		r = apply(&p, look, summary, size);
	if (r == 0 && p.n_lost > 0)
		present_look_each(look, give_back_one, &p);
	plan_free(&p);
	return r;
}

void reconcile_look_release(struct vmm *m, bool all)
{
	if (!m->look)
		return;
	/* Listed before the look was taken and not answered yet, or answered: it may serve them. */
	for (size_t i = 0; !all && i < m->n_workers; i++)
		if (m->workers[i]->cur && m->workers[i]->cur->pub.reconcile)
			return;
	for (const struct job *j = m->done; !all && j; j = j->next)
		if (j->pub.reconcile)
			return;
	present_look_free(m->look);
	m->look = NULL;
}
