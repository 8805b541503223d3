/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler's intake: pending intents read from the database become
 * jobs on their VM's queue; a detach first cancels the attaches it makes
 * pointless. It never starts a job: the dispatcher does, after it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "log.h"
#include "macro.h"
#include "sched-private.h"

static struct job *unlink_attach(struct job **list, int64_t device_id)
{
	for (struct job **p = list; *p; p = &(*p)->next) {
		if ((*p)->pub.device_id == device_id && !(*p)->pub.detach) {
			struct job *j = *p;

			*p = j->next;
			return j;
		}
	}
	return NULL;
}

/* An attach job for DEVICE_ID waiting for a retry or queued (not in flight), unlinked, or NULL. */
static struct job *take_waiting(struct vmm *m, int64_t device_id)
{
	struct job *j = unlink_attach(&m->retry, device_id);

	for (size_t i = 0; !j && i < m->n_workers; i++) {
		struct worker *w = m->workers[i];

		j = unlink_attach(&w->head, device_id);
		if (j && w->tail == j) {
			w->tail = w->head;
			while (w->tail && w->tail->next)
				w->tail = w->tail->next;
		}
	}
	return j;
}

static struct worker *in_flight(struct vmm *m, int64_t device_id)
{
	for (size_t i = 0; i < m->n_workers; i++)
		if (m->workers[i]->cur && m->workers[i]->cur->pub.device_id == device_id)
			return m->workers[i];
	return NULL;
}

/* Queue J on W; if W is waiting, J waits too, with W's note. */
static void enqueue(struct worker *w, struct job *j)
{
	sched_enqueue(w, j, false);
	if (w->waiting && w->note)
		job_defer(w->m->db, j, w->note);
}

/*
 * Detach from wherever the device is attached (an unplug), or from the VM
 * the intent names (a reconcile's). Attaches still to come for a device that
 * is gone are pointless: cancelled. An attach in flight goes first: the
 * detach queues behind it on the same worker.
 */
static void submit_detach(struct vmm *m, struct job *j)
{
	struct worker *w = in_flight(m, j->pub.device_id);
	struct db_attachment a;
	struct job *waiting;
	int r;

	if (w && j->vm && !streq(w->name, j->vm))
		w = NULL;	/* a reconcile's detach is about its own VM only */

	/* An unplug (no VM named) makes attaches still to come pointless; a reconcile's detach does not. */
	while (!j->vm && (waiting = take_waiting(m, j->pub.device_id)))
		/* Waiting for its vfio group node, or for a port: job_cancel_attaches() closes it. */
		outcome_end(m, waiting, END_CANCELLED, NULL);
	r = j->vm ? 0 : job_cancel_attaches(m->db, j, w ? w->cur->intent_id : 0);
	if (r < 0) {
		/*
		 * The attaches dropped above are still pending in the database:
		 * read everything again shortly, in order, this detach included.
		 */
		outcome_end(m, j, END_REREAD, NULL);
		return;
	}
	/* A reconcile's detach names its VM; the helper's (an unplug) takes the oldest. */
	r = db_attachment_find(m->db, j->pub.device_id, j->vm, &a);
	if (r == 0 && a.state == ATTACHMENT_VM_STOPPED) {
		/* Its VM stopped since: nothing to ask it; the row goes. */
		job_set_target(j, a.vm, a.qdev_id);
		a.vm = a.qdev_id = NULL;
		db_attachment_clear(&a);
		if (!j->key)
			j->key = j->qdev_id ? strdup(j->qdev_id) : NULL;
		outcome_end(m, j, END_VM_STOPPED, "its VM had stopped");
		return;
	}
	if (r == 0) {
		job_set_target(j, a.vm, a.qdev_id);
		a.vm = a.qdev_id = NULL;
		db_attachment_clear(&a);
		w = sched_worker_get(m, j->vm);
	} else if (r != -ENOENT) {
		/* Busy or failing: not a "not attached". Read again and redone. */
		outcome_end(m, j, END_REREAD, NULL);
		return;
	} else if (!w) {
		outcome_end(m, j, END_NOT_ATTACHED, "not attached");
		return;
	}
	if (!w) {
		log_err("%s: no memory for the worker of %s: read again shortly", j->label, j->vm);
		outcome_end(m, j, END_REREAD, NULL);
		return;
	}
	if (!j->vm)
		job_set_target(j, strdup(w->name), strdup(j->qdev_id));
	enqueue(w, j);
}

static void submit(struct vmm *m, struct job *j)
{
	char detail[512];
	struct worker *w;

	if (j->pub.detach) {
		submit_detach(m, j);
		return;
	}
	if (!j->vm || !config_find_vm(m->cfg, j->vm)) {
		/* Nothing would ever take it: the intent fails, and says why. */
		snprintf(detail, sizeof(detail), "no VM named \"%s\" in the config",
			 j->vm ?: "");
		log_warn("%s: not attached: %s", j->label, detail);
		outcome_end(m, j, END_NO_VM, detail);
		return;
	}
	w = sched_worker_get(m, j->vm);
	if (!w) {
		/* Its intent stays pending: read again, like a record that failed. */
		log_err("%s: no memory for the worker of %s: read again shortly", j->label, j->vm);
		outcome_end(m, j, END_REREAD, NULL);
		return;
	}
	enqueue(w, j);
}

struct collect {
	struct vmm *m;
	struct job *head, **tail;
};

static int collect_one(void *userdata, const struct db_pending *p)
{
	struct collect *c = userdata;
	struct job *j;

	if (p->intent_id > c->m->last_id)
		c->m->last_id = p->intent_id;
	/* Others act on 'select' (a user's choice) and 'decide' (a new intent). */
	if (p->action != INTENT_ATTACH && p->action != INTENT_DETACH &&
	    p->action != INTENT_RECONCILE)
		return 0;
	if (sched_known(c->m, p->intent_id))
		return 0;
	j = job_new(p);
	if (!j)
		return -ENOMEM;
	*c->tail = j;
	c->tail = &j->next;
	return 0;
}

/* Read the pending intents above AFTER_ID and start on the new ones. */
static int drain(struct vmm *m, int64_t after_id)
{
	struct collect c = { .m = m, .tail = &c.head };
	int r;

	if (m->quiescing)
		return 0;
	/* Read everything first: submitting writes to the database. */
	r = db_intents_pending(m->db, after_id, collect_one, &c);
	while (c.head) {
		struct job *j = c.head;

		c.head = j->next;
		j->next = NULL;
		if (r < 0)
			job_free(j);
		else
			submit(m, j);
	}
	if (r < 0)
		sched_record_failed(m, r);
	return r;
}

int intake_read(struct vmm *m, bool all)
{
	if (all || m->rescan_ms >= 0) {
		m->rescan_ms = -1;
		sched_reconcile_due(m);
		return drain(m, 0);
	}
	return drain(m, m->last_id);
}
