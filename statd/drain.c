/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler's intake: pending intents read from the database become
 * jobs on their VM's worker; a detach first cancels the attaches it makes
 * pointless.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "macro.h"
#include "sched.h"

static bool known(const struct vmm *m, int64_t intent_id)
{
	for (const struct job *j = m->retry; j; j = j->next)
		if (j->intent_id == intent_id)
			return true;
	for (size_t i = 0; i < m->n_workers; i++) {
		const struct worker *w = m->workers[i];

		if (w->cur && w->cur->intent_id == intent_id)
			return true;
		for (const struct job *j = w->head; j; j = j->next)
			if (j->intent_id == intent_id)
				return true;
	}
	return false;
}

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
	while (!j->vm && (waiting = take_waiting(m, j->pub.device_id))) {
		/* Waiting for its vfio group node, or for a port: the host gets back what it gave. */
		if (waiting->prepared)
			sched_restore(m, waiting);
		job_free(waiting);	/* job_cancel_attaches() closes their intents too */
	}
	r = j->vm ? 0 : job_cancel_attaches(m->db, j, w ? w->cur->intent_id : 0);
	if (r < 0) {
		/*
		 * The attaches dropped above are still pending in the database:
		 * read everything again shortly, in order, this detach included.
		 */
		sched_record_failed(m, r);
		job_free(j);
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
		sched_record_failed(m, job_record(m->db, j, HISTORY_DETACHED, INTENT_DONE,
						  "its VM had stopped", JOB_ROW_DROP));
		job_free(j);
		return;
	}
	if (r == 0) {
		job_set_target(j, a.vm, a.qdev_id);
		a.vm = a.qdev_id = NULL;
		db_attachment_clear(&a);
		w = sched_worker_get(m, j->vm);
	} else if (r != -ENOENT) {
		/* Busy or failing: not a "not attached". Read again and redone. */
		sched_record_failed(m, r);
		job_free(j);
		return;
	} else if (!w) {
		sched_record_failed(m, job_record(m->db, j, HISTORY_EVENT_INVALID, INTENT_DONE,
						  "not attached", JOB_ROW_KEEP));
		job_free(j);
		return;
	}
	if (!w) {
		job_free(j);
		return;
	}
	if (!j->vm)
		job_set_target(j, strdup(w->name), strdup(j->qdev_id));
	sched_submit(w, j);
}

static void submit(struct vmm *m, struct job *j)
{
	struct worker *w;

	if (j->pub.detach) {
		submit_detach(m, j);
		return;
	}
	if (!j->vm || !config_find_vm(m->cfg, j->vm)) {
		job_defer(m->db, j, "its VM is not in the config");
		job_free(j);
		return;
	}
	w = sched_worker_get(m, j->vm);
	if (!w) {
		job_free(j);
		return;
	}
	sched_submit(w, j);
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
	if (known(c->m, p->intent_id))
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

int vmm_drain(struct vmm *m)
{
	m->rescan_ms = -1;
	sched_reconcile_due(m);
	return drain(m, 0);
}

int sched_drain_new(struct vmm *m)
{
	if (m->rescan_ms >= 0)
		return vmm_drain(m);
	return drain(m, m->last_id);
}

int vmm_poke(struct vmm *m)
{
	sched_wake_all(m);
	return sched_drain_new(m);
}
