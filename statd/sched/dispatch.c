/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler's dispatcher, run as the loop's post hook (vmm_dispatch()):
 * after each batch of events, the outcomes of the jobs the backends
 * answered, then the intents asked to be read, then the next job of every
 * free worker; again until nothing moves. Event handlers (pokes, timers,
 * sockets appearing, backend answers) only note work for it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "backend.h"
#include "job.h"
#include "log.h"
#include "loop.h"
#include "macro.h"
#include "qmp.h"
#include "sched-private.h"

/* No backend entry for this kind on this VM: recorded as failed, not left waiting. */
static void unsupported(struct worker *w, const struct vm *vm, struct job *j)
{
	const char *what = j->pub.reconcile ? "reconcile" : j->pub.detach ? "detach" : "attach";
	const char *backend = w->ops ? w->ops->name : vm_type_to_string(vm->type);
	char detail[128];

	if (j->pub.reconcile)
		snprintf(detail, sizeof(detail), "reconcile not supported by %s backend", backend);
	else
		snprintf(detail, sizeof(detail), "%s devices not supported by %s backend",
			 dev_kind_to_string(j->pub.kind), backend);
	log_warn("%s: %s to %s failed: %s", j->label, what, w->name, detail);
	outcome_end(w->m, j, END_UNSUPPORTED, detail);
}

/* A detach queued behind an attach that may have failed: is it attached? */
static bool detach_needed(struct vmm *m, struct job *j)
{
	struct db_attachment a;
	int r = db_attachment_find(m->db, j->pub.device_id, j->vm, &a);

	/* Only "no row" means not attached: a busy or failing database says nothing. */
	if (r == -ENOENT)
		outcome_end(m, j, END_NOT_ATTACHED, "not attached");
	else if (r < 0)
		outcome_end(m, j, END_REREAD, NULL);
	if (r < 0)
		return false;
	job_set_target(j, a.vm, a.qdev_id);
	a.vm = a.qdev_id = NULL;
	db_attachment_clear(&a);
	return true;
}

/* No row for J's id in its VM: not even one a repeated event or a lost outcome left. */
static bool attachment_absent(struct vmm *m, const struct job *j)
{
	bool exists = true;	/* unread: the backend looks */

	return db_attachment_exists(m->db, j->vm, j->qdev_id, &exists) == 0 && !exists;
}

/* Host preparation before an attach: true when it may go to the backend; else J is taken. */
static bool prepared(struct worker *w, struct job *j)
{
	char reason[512];

	switch (sched_prepare(w, j, reason, sizeof(reason))) {
	case PREPARE_READY:
		return true;
	case PREPARE_LATER:
		return false;	/* on the retry list */
	case PREPARE_REFUSED:
		log_notice("%s: not attached to %s: %s", j->label, w->name, reason);
		outcome_end(w->m, j, END_PREP_REFUSED, reason);
		return false;
	case PREPARE_FAILED:
		log_notice("%s: not attached to %s: %s", j->label, w->name, reason);
		outcome_end(w->m, j, END_PREP_FAILED, reason);
		return false;
	}
	return false;
}

static void start(struct worker *w, struct job *j)
{
	const struct vm *vm = config_find_vm(w->m->cfg, w->name);
	vmm_job_fn fn = NULL;
	char note[512];

	if (!vm) {
		snprintf(note, sizeof(note), "no VM named \"%s\" in the config", w->name);
		outcome_unreachable(w, j, -ENOENT, note);
		return;
	}
	if (w->ops)
		fn = j->pub.reconcile ? w->ops->list :
		     j->pub.detach ? w->ops->detach[j->pub.kind] : w->ops->attach[j->pub.kind];
	if (!fn) {
		unsupported(w, vm, j);
		return;
	}
	if (j->pub.detach && !detach_needed(w->m, j))
		return;
	if (!j->pub.detach && !j->pub.reconcile && !prepared(w, j))
		return;
	if (j->claimed)
		log_info("%s: a %s a statd that stopped had begun: done again, idempotently",
			 j->label, j->pub.detach ? "detach" : "attach");
	/* Claimed by a statd that died: the VM may have it (outcome.c: or this one lost it). */
	if (j->claimed)
		j->pub.redo = true;
	if (!j->pub.detach && !j->pub.reconcile)
		j->pub.absent = attachment_absent(w->m, j);
	w->cur = j;
	w->tried_ms = clock_now_ms();
	/* Its answer may come from inside: it only lands on the finished list. */
	fn(w->b, w->m->cfg, vm, &j->pub);
}

/* Start W's next job if it is free: true when one started or ended. */
static bool pump(struct worker *w)
{
	if (w->cur || !w->head || w->waiting || w->m->quiescing)
		return false;
	start(w, sched_dequeue(w));
	return true;
}

/* A job of W's waits for its retry ("not yet", a device node): W still has work. */
static bool retrying(const struct vmm *m, const struct worker *w)
{
	for (const struct job *j = m->retry; j; j = j->next)
		if (j->w == w)
			return true;
	return false;
}

void vmm_dispatch(struct vmm *m)
{
	bool moved;

	do {
		struct job *j;

		moved = false;
		while ((j = sched_done_take(m))) {
			outcome_answer(m, j);
			moved = true;
		}
		if ((m->read_all || m->read_new) && !m->quiescing) {
			bool all = m->read_all;

			m->read_all = m->read_new = false;
			intake_read(m, all);
			moved = true;
		}
		for (size_t i = 0; i < m->n_workers; i++)
			moved |= pump(m->workers[i]);
	} while (moved);
	/* Nothing left to do for a VM: let go of it (its socket is shared with other tools). */
	for (size_t i = 0; i < m->n_workers; i++) {
		struct worker *w = m->workers[i];

		if (!w->cur && (!w->head || w->waiting) && !retrying(m, w) && w->ops && w->ops->idle)
			w->ops->idle(w->b);
	}
	reconcile_look_release(m, false);
}

int vmm_drain(struct vmm *m)
{
	sched_want_read(m, true);
	return 0;
}

int vmm_poke(struct vmm *m)
{
	sched_wake_all(m);
	sched_want_read(m, false);
	return 0;
}

/* ---- time ---- */

int64_t vmm_next_deadline(const struct vmm *m)
{
	int64_t best = -1;

	if (m->rescan_ms >= 0 && !m->quiescing)
		best = m->rescan_ms;
	for (const struct job *j = m->retry; j; j = j->next)
		if (!m->quiescing && (best < 0 || j->due_ms < best))
			best = j->due_ms;
	for (size_t i = 0; i < m->n_workers; i++) {
		const struct worker *w = m->workers[i];
		int64_t d = w->ops && w->ops->deadline ? w->ops->deadline(w->b) : -1;

		if (d >= 0 && (best < 0 || d < best))
			best = d;
		if (w->waiting && !m->quiescing && (best < 0 || w->due_ms < best))
			best = w->due_ms;
	}
	return best;
}

void vmm_timer(struct vmm *m, int64_t now_ms)
{
	struct job **p = &m->retry;

	for (size_t i = 0; i < m->n_workers; i++) {
		struct worker *w = m->workers[i];

		if (w->ops && w->ops->timer)
			w->ops->timer(w->b, now_ms);
		if (w->waiting && w->due_ms <= now_ms && !m->quiescing)
			w->waiting = false;
	}
	if (m->rescan_ms >= 0 && m->rescan_ms <= now_ms)
		sched_want_read(m, true);
	while (*p) {
		struct job *j = *p;

		if (j->due_ms > now_ms || m->quiescing) {
			p = &j->next;
			continue;
		}
		*p = j->next;
		sched_enqueue(j->w, j, true);
	}
}

bool vmm_quiesce(struct vmm *m)
{
	m->quiescing = true;
	if (m->done)
		return false;	/* answered, not recorded yet */
	for (size_t i = 0; i < m->n_workers; i++)
		if (m->workers[i]->cur)
			return false;
	return true;
}

/* ---- config ---- */

/* W's VM is gone from the config: fail what waits for it; one in flight ends on its own. */
static void remove_worker(struct vmm *m, struct worker *w)
{
	char note[512];
	struct job *j, **p = &m->retry;

	snprintf(note, sizeof(note), "VM %s was removed from the config", w->name);
	log_notice("%s", note);
	free(w->note);
	w->note = strdup(note);
	w->removed = true;
	w->waiting = false;
	while (*p) {
		j = *p;
		if (j->w != w) {
			p = &j->next;
			continue;
		}
		*p = j->next;
		sched_enqueue(w, j, false);
	}
	/* Prepared, or waiting for a vfio node: the outcome gives the host its device back. */
	while ((j = sched_dequeue(w)))
		outcome_end(m, j, END_NO_VM, note);
}

/* Has W a job in flight, or one answered whose outcome has not run? */
static bool worker_busy(const struct vmm *m, const struct worker *w)
{
	if (w->cur)
		return true;
	for (const struct job *j = m->done; j; j = j->next)
		if (j->w == w)
			return true;
	return false;
}

void vmm_set_config(struct vmm *m, const struct config *cfg)
{
	m->cfg = cfg;
	reconcile_look_release(m, true);	/* its decisions were the old config's */
	for (size_t i = 0; i < m->n_workers; i++) {
		struct worker *w = m->workers[i];

		if (!w->removed && !config_find_vm(cfg, w->name))
			remove_worker(m, w);
		if (w->removed && !worker_busy(m, w)) {
			sched_worker_free(w);
			m->workers[i--] = m->workers[--m->n_workers];
		}
	}
}
