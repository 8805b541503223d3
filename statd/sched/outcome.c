/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one way every job leaves the scheduler: its outcome recorded (job.c),
 * retried ("not yet"), or waiting with its VM's queue (unreachable). Its
 * host preparation is given back whenever a prepared device did not end in
 * a VM, and a record that fails arms the rescan, here and nowhere else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "job.h"
#include "log.h"
#include "macro.h"
#include "qmp.h"
#include "sched-private.h"

/*
 * Close J's intent (STATE, DETAIL, history EVENT), settle its row (ROW); if
 * GIVE_BACK, its device is in no VM: the host gets back what preparation
 * took, once that is recorded (a record that failed is redone, and gives
 * back then).
 */
static void finish(struct vmm *m, struct job *j, enum history_event event, enum intent_state state,
		   const char *detail, enum job_row row, bool give_back)
{
	int r = job_record(m->db, j, event, state, detail, row);

	sched_record_failed(m, r);
	/* A move's attach waits for its detach (db_intents_pending()): read it now. */
	if (r == 0 && j->pub.detach)
		sched_want_read(m, true);
	if (r == 0 && give_back)
		sched_restore(m, &j->pub);
	job_free(j);
}

/* An attach that ends here without the VM having been asked has nothing in it. */
static bool attach_not_in(const struct job *j)
{
	return !j->pub.detach && !j->pub.reconcile && j->prepared && !j->key;
}

void outcome_end(struct vmm *m, struct job *j, enum sched_end why, const char *detail)
{
	switch (why) {
	case END_UNSUPPORTED:
	case END_NO_VM:
		finish(m, j, job_failed_event(j), INTENT_FAILED, detail, JOB_ROW_KEEP, attach_not_in(j));
		return;
	case END_PREP_REFUSED:
		finish(m, j, HISTORY_IGNORED, INTENT_DONE, detail, JOB_ROW_KEEP, true);
		return;
	case END_PREP_FAILED:
		finish(m, j, HISTORY_ATTACH_FAILED, INTENT_FAILED, detail, JOB_ROW_KEEP, true);
		return;
	case END_NOT_ATTACHED:
		finish(m, j, HISTORY_EVENT_INVALID, INTENT_DONE, detail, JOB_ROW_KEEP, false);
		return;
	case END_VM_STOPPED:
		/* Out of a VM that is gone: the host has the device back (README: a stopped VM). */
		finish(m, j, HISTORY_DETACHED, INTENT_DONE, detail, JOB_ROW_DROP, true);
		return;
	case END_CANCELLED:
		/* Its intent is closed by whoever cancelled it. */
		if (j->claimed)
			log_info("%s: the %s a statd that stopped had begun is cancelled", j->label,
				 j->pub.detach ? "detach" : "attach");
		if (attach_not_in(j))
			sched_restore(m, &j->pub);
		job_free(j);
		return;
	case END_REREAD:
		if (attach_not_in(j))
			sched_restore(m, &j->pub);
		sched_record_failed(m, -EAGAIN);
		job_free(j);
		return;
	}
}

static void backoff(struct worker *w)
{
	w->backoff_ms = backoff_next(w->backoff_ms);
	if (backoff_past_quiet(w->backoff_ms))
		w->appeared = false;
	w->waiting = true;
	w->due_ms = clock_now_ms() + w->backoff_ms;
	log_debug("%s: unreachable, next attempt in %d ms", w->name, w->backoff_ms);
}

void outcome_unreachable(struct worker *w, struct job *j, int err, const char *note)
{
	struct vmm *m = w->m;

	if (w->removed) {
		outcome_end(m, j, END_NO_VM, w->note);
		return;
	}
	/* Asked, and no answer: the VM may have done it. */
	if (j->key)
		j->pub.redo = true;
	sched_enqueue(w, j, true);
	/* Missing, and now refusing: the socket has just appeared, though its
	 * inotify event may not be read yet. Maybe bound but not listening. */
	if (err == -ECONNREFUSED && w->last_err == -ENOENT)
		w->appeared = true;
	w->last_err = err;
	backoff(w);
	w->hostile = err == -ENOBUFS || err == -EPROTO || err == -EMSGSIZE;
	/* Maybe bound but not listening yet: not worth a note. */
	if (err == -ECONNREFUSED && w->appeared)
		return;
	free(w->note);
	w->note = strdup(note);
	job_defer_all(m->db, w->head, note);
}

/* The VM answered: whatever it said, it is reachable; the backoff starts over. */
static void reachable(struct worker *w)
{
	w->backoff_ms = 0;
	w->appeared = false;
	w->last_err = 0;
	w->hostile = false;
	free(w->note);
	w->note = NULL;
}

static void reconcile_answer(struct vmm *m, struct job *j)
{
	char summary[256];
	int r;

	if (j->outcome != VMM_OK) {
		log_warn("reconcile of %s failed: %s", j->w->name, j->detail);
		finish(m, j, job_failed_event(j), INTENT_FAILED, j->detail, JOB_ROW_KEEP, false);
		return;
	}
	r = reconcile_apply(m, j, summary, sizeof(summary));
	if (r < 0) {
		/* Nothing written: the claimed reconcile is redone at the next read. */
		log_err("reconcile of %s not recorded: %s", j->w->name, strerror(-r));
		sched_record_failed(m, r);
	} else {
		log_info("reconciled %s: %s", j->w->name, summary);
		sched_want_read(m, false);	/* the intents it queued */
	}
	job_free(j);
}

void outcome_answer(struct vmm *m, struct job *j)
{
	struct worker *w = j->w;
	struct vmm_job *pub = &j->pub;
	const char *verb = pub->detach ? "detach" : "attach";
	const char *detail = j->detail ?: "out of memory";
	enum vmm_outcome o = j->outcome;

	if (j->claim_failed) {
		/* Not asked: nothing to record. Read again soon, unless it was cancelled meanwhile. */
		if (j->stale) {
			outcome_end(m, j, END_CANCELLED, NULL);
			return;
		}
		j->key = (free(j->key), NULL);	/* the claim wrote nothing: the VM was not asked */
		outcome_end(m, j, END_REREAD, NULL);
		return;
	}
	if (o != VMM_UNREACHABLE)
		reachable(w);
	if (o == VMM_UNREACHABLE && j->err == -ESHUTDOWN)
		sched_vm_stopped(m, w->name, detail);
	if (pub->reconcile && o != VMM_UNREACHABLE) {
		reconcile_answer(m, j);
		return;
	}
	switch (o) {
	case VMM_OK:
		if (pub->detach) {
			log_info("%s: detached from %s", j->label, j->vm);
			finish(m, j, HISTORY_DETACHED, INTENT_DONE, detail, JOB_ROW_DROP, true);
		} else {
			log_info("%s: attached to %s as %s", j->label, j->vm, j->qdev_id);
			finish(m, j, HISTORY_ATTACHED, INTENT_DONE, detail, JOB_ROW_ATTACHED, false);
		}
		return;
	case VMM_NOT_YET:
		if (backoff_not_yet(w->ops, j->first_ms, clock_now_ms(), &j->delay_ms, &j->due_ms)) {
			log_debug("%s: %s; retrying in %d ms", j->label, detail, j->delay_ms / 2);
			sched_retry_add(m, j);
			return;
		}
		/* fall through */
	case VMM_REFUSED:
		log_warn("%s: %s %s %s failed: %s", j->label, verb, pub->detach ? "from" : "to", j->vm,
			 detail);
		/* A refused attach is not in the VM; a refused detach still is. */
		finish(m, j, job_failed_event(j), INTENT_FAILED, detail,
		       pub->detach ? JOB_ROW_RESTORE : JOB_ROW_DROP, !pub->detach);
		return;
	case VMM_UNREACHABLE:
		outcome_unreachable(w, j, j->err, detail);
		return;
	case VMM_TIMEOUT:
		/* Detach only (backend.h). It may still be in the guest: the row stays, the host keeps off it. */
		log_warn("%s: %s from %s timed out: %s", j->label, verb, j->vm, detail);
		finish(m, j, pub->detach ? HISTORY_DETACH_TIMEOUT : HISTORY_ATTACH_FAILED, INTENT_FAILED, detail,
		       pub->detach ? JOB_ROW_TIMEOUT : JOB_ROW_KEEP, false);
		return;
	}
}
