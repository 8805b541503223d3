/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The scheduler's insides, shared by vmm.c (outcomes, time), workers.c,
 * drain.c (intake), backoff.c and sched-prep.c.
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
	bool pumping;
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
	int64_t last_id;	/* the newest intent read: a poke reads only newer ones */
	int64_t rescan_ms;	/* a record failed: read every pending intent again then, or -1 */
	bool quiescing;
	bool freeing;
	char *owner;		/* this statd, in the claims it makes */
	struct nodewatch *nodes;	/* /dev/vfio, once an attach waited for a node */
	bool nodes_unwatched;	/* inotify failed for it: the timer looks instead */
};

/* The worker of the VM NAME, made on first use with the backend for its type; NULL: no memory. */
struct worker *sched_worker_get(struct vmm *m, const char *name);
/* Queue J on W, at the end or (a retry) in front. */
void sched_enqueue(struct worker *w, struct job *j, bool front);
/* The job at the head of W's queue, taken off it, or NULL. */
struct job *sched_dequeue(struct worker *w);
/* Queue a new job J on W and start it if W is free; if W is waiting, J waits too. */
void sched_submit(struct worker *w, struct job *j);
/*
 * J could not be done because its VM cannot be reached (ERR, NOTE): J goes
 * back to the head of W's queue, which waits on the backoff timer; the
 * queued jobs get NOTE. On a removed worker J is recorded as failed.
 */
void sched_unreachable(struct worker *w, struct job *j, int err, const char *note);
/* The VM answered: whatever it said, it is reachable; the backoff starts over. */
void sched_reachable(struct worker *w);
/* Cut every waiting worker's backoff short (statd was poked). */
void sched_wake_all(struct vmm *m);
/* A record of J's outcome failed with R < 0: read every pending intent again soon. */
void sched_record_failed(struct vmm *m, int r);
/*
 * Before J's attach goes to W's backend (sched-prep.c): true when the host
 * side is ready. Otherwise J is taken: waiting on the timer, or recorded.
 */
bool sched_prepare(struct worker *w, struct job *j);
/* J's device is out of its VM (or never got in): the host gets back what preparation took. */
void sched_restore(struct vmm *m, struct job *j);
/*
 * VM NAME stopped or restarted (WHY): its attachments are 'vm_stopped', with
 * history, until a reconcile puts them back or forgets them.
 */
void sched_vm_stopped(struct vmm *m, const char *name, const char *why);
/* Queue a reconcile of VM NAME (WHY) unless one is open, and read it in. */
void sched_reconcile(struct vmm *m, const char *name, const char *why);
/* Queue the reconciles that could not be written before (reconcile_due). */
void sched_reconcile_due(struct vmm *m);
/* Read in the intents newer than the last one read. */
int sched_drain_new(struct vmm *m);
/* Start W's next job if none is in flight; let go of the VM when there is no work left. */
void sched_pump(struct worker *w);
