/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The scheduler's insides. Its files are layered: each calls only files
 * listed BEFORE it here, never one after it, so no call goes round in a
 * loop (check: grep each file for the extern functions of the later ones).
 *
 *   backoff.c    pure arithmetic: how long a VM or a "not yet" job waits
 *   job.c        the job and its transactions: claim, record, defer; the
 *                backend's answer (vmm_job_done()) only lands on a list
 *   queue.c      the workers (one per VM; its backend from a table indexed
 *                by VM type) and their queues, the retry list, the list of
 *                answered jobs
 *   prepare.c    host preparation before an attach (prep/), and giving back
 *   present.c,   what the VM should have against what it has: plan and
 *   reconcile.c  apply
 *   reconcile-queue.c  reconcile intents queued (a VM appeared, statd started)
 *   vmstate.c    a VM appeared, stopped or is gone
 *   outcome.c    THE way every job leaves: recorded, retried or waiting; a
 *                prepared device that did not end in a VM is given back; a
 *                failed record arms the rescan
 *   intake.c     pending intents become jobs on their VM's queue; never
 *                starts one
 *   dispatch.c   the loop's post hook: outcomes, then intake, then the next
 *                job of every free worker; time; config changes
 *
 * So a backend's answer never runs the scheduler on its caller's stack: it
 * is queued, and the post hook takes it from there. The backends (qemu/,
 * crosvm/) are called through their ops table only, by queue.c (new, free)
 * and dispatch.c (the job); they call back only job.c's vmm_job_*().
 */
#include <stdbool.h>
#include <stddef.h>

#include "backend.h"
#include "job.h"
#include "vmm.h"

struct worker {
	struct vmm *m;
	char *name;
	const struct vmm_backend_ops *ops;	/* NULL: no backend for this VM type */
	struct vmm_backend *b;
	struct job *cur;	/* the job in flight */
	struct job *head, *tail;
	/* Unreachable: the queue holds until DUE_MS, then the head job tries again. */
	bool waiting;
	int backoff_ms;		/* the last wait; 0 after a success */
	int64_t due_ms;
	int64_t tried_ms;	/* when the last job started */
	char *note;		/* why it waits, for jobs that join the queue meanwhile */
	bool appeared;		/* its socket just appeared: a refused connect gets no note */
	int last_err;		/* why the last attempt failed (-errno), 0 after a success */
	bool removed;		/* its VM left the config: no more jobs */
	bool hostile;		/* cut off for flooding or garbage: a poke does not cut its wait */
	bool reconcile_due;	/* a reconcile the database could not take: queued at the next read */
};

struct vmm {
	struct loop *loop;
	struct db *db;
	const struct config *cfg;
	struct worker **workers;
	size_t n_workers;
	struct job *retry;	/* jobs waiting for their due_ms, any order */
	struct job *done, **done_tail;	/* answered by their backend, outcome not run yet */
	int64_t last_id;	/* the newest intent read: a poke reads only newer ones */
	int64_t rescan_ms;	/* a record failed: read every pending intent again then, or -1 */
	bool read_all;		/* read every pending intent at the next dispatch */
	bool read_new;		/* read the intents newer than last_id at the next dispatch */
	bool quiescing;
	bool freeing;
	char *owner;		/* this statd, in the claims it makes */
	struct nodewatch *nodes;	/* /dev/vfio, once an attach waited for a node */
	bool nodes_unwatched;	/* inotify failed for it: the timer looks instead */
	struct present_look *look;	/* reconcile's look at what is plugged in, while shared */
};

/* ---- backoff.c ---- */

/* The wait after LAST_MS (0: the first). */
int backoff_next(int last_ms);
/* The first wait, and the shortest time between two attempts after a poke. */
int backoff_first(void);
/* Past this wait a socket that appeared is not "just appeared" any more. */
bool backoff_past_quiet(int wait_ms);
/*
 * "Not yet" retry of a job first tried at FIRST_MS, whose next delay is
 * *DELAY_MS, at NOW, with OPS's pace (NULL: defaults): false when the budget
 * is spent; else *DUE_MS is set and *DELAY_MS doubled.
 */
bool backoff_not_yet(const struct vmm_backend_ops *ops, int64_t first_ms, int64_t now,
		     int *delay_ms, int64_t *due_ms);

/* ---- job.c: see job.h ---- */

/* ---- queue.c ---- */

/* The worker of the VM NAME, made on first use with the backend for its type; NULL: no memory. */
struct worker *sched_worker_get(struct vmm *m, const char *name);
/* Queue J on W, at the end or (a retry) in front. */
void sched_enqueue(struct worker *w, struct job *j, bool front);
/* The job at the head of W's queue, taken off it, or NULL. */
struct job *sched_dequeue(struct worker *w);
/* Put J on the retry list (J->due_ms set). */
void sched_retry_add(struct vmm *m, struct job *j);
/* The next finished job, or NULL. */
struct job *sched_done_take(struct vmm *m);
/* Is intent ID a job already (queued, in flight, waiting, finished)? */
bool sched_known(const struct vmm *m, int64_t intent_id);
/* A record failed (R < 0): read every pending intent again soon. */
void sched_record_failed(struct vmm *m, int r);
/* Ask the next dispatch to read the intents: every pending one (ALL) or the new ones. */
void sched_want_read(struct vmm *m, bool all);
/* Cut every waiting worker's backoff short (statd was poked). */
void sched_wake_all(struct vmm *m);
/* Free W and what it holds (its backend ends a job in flight; it stays pending). */
void sched_worker_free(struct worker *w);

/* ---- prepare.c ---- */

enum prepare_result {
	PREPARE_READY,		/* hand the attach to the backend */
	PREPARE_LATER,		/* under way: J is on the retry list */
	PREPARE_REFUSED,	/* never attach it: REASON */
	PREPARE_FAILED,		/* it failed (or took too long): REASON */
};
/* Before J's attach goes to W's backend. REASON: why not. */
enum prepare_result sched_prepare(struct worker *w, struct job *j, char *reason, size_t size);
/* J's device is out of its VM (or never got in): the host gets back what preparation took. */
void sched_restore(struct vmm *m, const struct vmm_job *j);

/* ---- reconcile.c ---- */

/*
 * J, a reconcile, ended with VMM_OK: J's seen list is what the VM has.
 * Applies the plan; < 0 when nothing could be written (redone at the next read).
 */
int reconcile_apply(struct vmm *m, struct job *j, char *summary, size_t size);
/* Let go of the shared look at what is plugged in once no reconcile may use it (CFG changed: ALL). */
void reconcile_look_release(struct vmm *m, bool all);

/* ---- reconcile-queue.c ---- */

/* Queue a reconcile of VM NAME (WHY) unless one is open; the next dispatch reads it. */
void sched_reconcile(struct vmm *m, const char *name, const char *why);
/* Queue the reconciles that could not be written before (reconcile_due). */
void sched_reconcile_due(struct vmm *m);

/* ---- vmstate.c ---- */

/*
 * VM NAME stopped or restarted (WHY): its attachments are 'vm_stopped', with
 * history, until a reconcile puts them back or forgets them.
 */
void sched_vm_stopped(struct vmm *m, const char *name, const char *why);

/* ---- outcome.c ---- */

/* Why a job ends, when its backend did not say (or was not asked). */
enum sched_end {
	END_UNSUPPORTED,	/* no backend entry for it: failed */
	END_NO_VM,		/* its VM is not in the config (DETAIL says which): failed */
	END_PREP_REFUSED,	/* host preparation said never: 'ignored' */
	END_PREP_FAILED,	/* host preparation failed: attach_failed */
	END_NOT_ATTACHED,	/* a detach of what is in no VM: done */
	END_VM_STOPPED,		/* a detach of a row whose VM stopped: detached, nothing asked */
	END_CANCELLED,		/* closed by someone else (an unplug): nothing to record */
	END_REREAD,		/* the database could not tell: the intent is read again */
};
/* The backend answered J (vmm_job_done()): record, retry or wait. Takes J. */
void outcome_answer(struct vmm *m, struct job *j);
/* J ends for WHY (DETAIL), without its backend. Takes J. */
void outcome_end(struct vmm *m, struct job *j, enum sched_end why, const char *detail);
/* W's VM cannot be reached (ERR, NOTE): J waits at the head of W's queue. Takes J. */
void outcome_unreachable(struct worker *w, struct job *j, int err, const char *note);

/* ---- intake.c ---- */

/*
 * Read the pending intents (ALL, or after a failed record: every one; else
 * only those newer than the last read) onto their VMs' queues.
 */
int intake_read(struct vmm *m, bool all);
