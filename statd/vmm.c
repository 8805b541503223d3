/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler: one worker per VM (workers.c), each with its own queue and
 * at most one job in flight in its backend; "not yet" retries; and every
 * outcome recorded (through job.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "job.h"
#include "log.h"
#include "loop.h"
#include "macro.h"
#include "qmp.h"
#include "reconcile.h"
#include "sched.h"

/* "Not yet" answers are retried for this long in all, then recorded as refused. */
#define RETRY_BUDGET_MS 3000
/* After a failed record, read every pending intent again this much later. */
#define RESCAN_MS 1000

void sched_record_failed(struct vmm *m, int r)
{
	if (r < 0 && m->rescan_ms < 0)
		m->rescan_ms = qmp_now_ms() + RESCAN_MS;
}

static bool retry_later(struct job *j)
{
	struct vmm *m = j->w->m;
	const struct vmm_backend_ops *ops = j->w->ops;
	int64_t now = qmp_now_ms();
	int budget = ops && ops->not_yet_budget_ms ? ops->not_yet_budget_ms : RETRY_BUDGET_MS;

	/* A backend's own pace for its "not yet" (crosvm: a guest still booting). */
	if (ops && j->delay_ms < ops->not_yet_first_ms)
		j->delay_ms = ops->not_yet_first_ms;
	if (ops && ops->not_yet_max_ms && j->delay_ms > ops->not_yet_max_ms)
		j->delay_ms = ops->not_yet_max_ms;
	if (now + j->delay_ms - j->first_ms > budget)
		return false;
	j->due_ms = now + j->delay_ms;
	j->delay_ms *= 2;
	j->next = m->retry;
	m->retry = j;
	return true;
}

int vmm_job_attempt(struct vmm_job *pub)
{
	struct job *j = container_of(pub, struct job, pub);
	int r;

	if (!j->first_ms)
		j->first_ms = qmp_now_ms();
	r = job_claim(j->w->m->db, j, j->w->m->owner);
	j->claim_failed = r < 0;
	j->stale = r == -ESTALE;
	return r;
}

void vmm_job_done(struct vmm_job *pub, enum vmm_outcome o, int err, const char *detail)
{
	struct job *j = container_of(pub, struct job, pub);
	struct worker *w = j->w;
	struct vmm *m = w->m;
	const char *verb = pub->detach ? "detach" : "attach";
	int r = 0;

	if (w->cur == j)
		w->cur = NULL;
	if (m->freeing) {
		job_free(j);	/* its intent stays pending: the next start redoes it */
		return;
	}
	if (j->claim_failed) {
		/* Not asked: nothing to record. Read again soon, unless it was cancelled meanwhile. */
		if (!pub->detach)
			sched_restore(m, j);
		if (!j->stale)
			sched_record_failed(m, -EAGAIN);
		job_free(j);
		sched_pump(w);
		return;
	}
	if (o != VMM_UNREACHABLE)
		sched_reachable(w);
	if (o == VMM_UNREACHABLE && err == -ESHUTDOWN)
		sched_vm_stopped(m, w->name, detail);
	if (j->pub.reconcile && o != VMM_UNREACHABLE) {
		reconcile_done(w, j, o, detail);
		sched_pump(w);
		return;
	}
	switch (o) {
	case VMM_OK:
		if (pub->detach) {
			log_info("%s: detached from %s", j->label, j->vm);
			r = job_record(m->db, j, HISTORY_DETACHED, INTENT_DONE, detail, JOB_ROW_DROP);
			if (r == 0)
				sched_restore(m, j);
		} else {
			log_info("%s: attached to %s as %s", j->label, j->vm, j->qdev_id);
			r = job_record(m->db, j, HISTORY_ATTACHED, INTENT_DONE, detail, JOB_ROW_ATTACHED);
		}
		break;
	case VMM_NOT_YET:
		if (retry_later(j)) {
			log_debug("%s: %s; retrying in %d ms", j->label, detail, j->delay_ms / 2);
			j = NULL;
			break;
		}
		/* fall through */
	case VMM_REFUSED:
		log_warn("%s: %s %s %s failed: %s", j->label, verb, pub->detach ? "from" : "to", j->vm,
			 detail);
		r = job_record(m->db, j, job_failed_event(j), INTENT_FAILED,
			       detail, pub->detach ? JOB_ROW_RESTORE : JOB_ROW_DROP);
		if (r == 0 && !pub->detach)
			sched_restore(m, j);	/* not in the VM: the host has its device back */
		break;
	case VMM_UNREACHABLE:
		sched_unreachable(w, j, err, detail);
		j = NULL;
		break;
	case VMM_TIMEOUT:
		/* It may still be in the guest: the attachment stays, the host keeps its drivers off it. */
		log_warn("%s: %s from %s timed out: %s", j->label, verb, j->vm, detail);
		r = job_record(m->db, j, pub->detach ? HISTORY_DETACH_TIMEOUT : HISTORY_ATTACH_TIMEOUT,
			       INTENT_FAILED, detail, pub->detach ? JOB_ROW_TIMEOUT : JOB_ROW_KEEP);
		break;
	}
	sched_record_failed(m, r);
	job_free(j);
	sched_pump(w);
}

/* No backend entry for this kind on this VM: recorded as failed, not left waiting. */
static void unsupported(struct worker *w, const struct vm *vm, struct job *j)
{
	char detail[128];

	const char *what = j->pub.reconcile ? "reconcile" : j->pub.detach ? "detach" : "attach";

	if (j->pub.reconcile)
		snprintf(detail, sizeof(detail), "reconcile not supported by %s backend",
			 w->ops ? w->ops->name : vm_type_to_string(vm->type));
	else
		snprintf(detail, sizeof(detail), "%s devices not supported by %s backend",
			 dev_kind_to_string(j->pub.kind), w->ops ? w->ops->name : vm_type_to_string(vm->type));
	log_warn("%s: %s to %s failed: %s", j->label, what, w->name, detail);
	sched_record_failed(w->m, job_record(w->m->db, j, job_failed_event(j), INTENT_FAILED, detail,
					     JOB_ROW_KEEP));
	job_free(j);
}

/* A detach queued behind an attach that may have failed: is it attached? */
static bool detach_needed(struct vmm *m, struct job *j)
{
	struct db_attachment a;
	int r = db_attachment_find(m->db, j->pub.device_id, j->vm, &a);

	/* Only "no row" means not attached: a busy or failing database says nothing. */
	if (r == -ENOENT)
		sched_record_failed(m, job_record(m->db, j, HISTORY_EVENT_INVALID, INTENT_DONE,
						  "not attached", JOB_ROW_KEEP));
	else if (r < 0)
		sched_record_failed(m, r);	/* read again and redone */
	if (r < 0) {
		job_free(j);
		return false;
	}
	job_set_target(j, a.vm, a.qdev_id);
	a.vm = a.qdev_id = NULL;
	db_attachment_clear(&a);
	return true;
}

static void start(struct worker *w, struct job *j)
{
	const struct vm *vm = config_find_vm(w->m->cfg, w->name);
	vmm_job_fn fn = NULL;
	char note[512];

	if (!vm) {
		snprintf(note, sizeof(note), "no VM named \"%s\" in the config", w->name);
		sched_unreachable(w, j, -ENOENT, note);
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
	if (!j->pub.detach && !j->pub.reconcile && !sched_prepare(w, j))
		return;
	if (j->claimed)
		log_info("%s: a %s a statd that stopped had begun: done again, idempotently",
			 j->label, j->pub.detach ? "detach" : "attach");
	w->cur = j;
	w->tried_ms = qmp_now_ms();
	fn(w->b, w->m->cfg, vm, &j->pub);
}

/* Start the next job if none is in flight; let go of the VM when there is no work left. */
void sched_pump(struct worker *w)
{
	if (w->pumping)
		return;	/* an answer given from inside start(): the loop below goes on */
	w->pumping = true;
	while (!w->cur && w->head && !w->waiting && !w->m->quiescing)
		start(w, sched_dequeue(w));
	w->pumping = false;
	if (!w->cur && (!w->head || w->waiting) && w->ops && w->ops->idle)
		w->ops->idle(w->b);
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
		if (w->waiting && w->due_ms <= now_ms && !m->quiescing) {
			w->waiting = false;
			sched_pump(w);
		}
	}
	if (m->rescan_ms >= 0 && m->rescan_ms <= now_ms)
		vmm_drain(m);
	while (*p) {
		struct job *j = *p;

		if (j->due_ms > now_ms || m->quiescing) {
			p = &j->next;
			continue;
		}
		*p = j->next;
		sched_enqueue(j->w, j, true);
		sched_pump(j->w);
	}
}

bool vmm_quiesce(struct vmm *m)
{
	m->quiescing = true;
	for (size_t i = 0; i < m->n_workers; i++)
		if (m->workers[i]->cur)
			return false;
	return true;
}
