/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler's waiting: a VM that cannot be reached holds its queue on a
 * per-VM backoff timer, which a poke or its socket appearing cuts short.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "qmp.h"
#include "sched.h"

/* An unreachable VM is tried again after 100 ms, then twice as long each time, up to 30 s. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 30000
/* After its socket appeared, a VM that refuses connections stays quiet this long. */
#define APPEARED_QUIET_MS 1600

static void backoff(struct worker *w)
{
	w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_FIRST_MS;
	if (w->backoff_ms > BACKOFF_MAX_MS)
		w->backoff_ms = BACKOFF_MAX_MS;
	if (w->backoff_ms > APPEARED_QUIET_MS)
		w->appeared = false;
	w->waiting = true;
	w->due_ms = qmp_now_ms() + w->backoff_ms;
	log_debug("%s: unreachable, next attempt in %d ms", w->name, w->backoff_ms);
}

/* The VM cannot be reached: J goes back to the head of the queue, which waits. */
void sched_unreachable(struct worker *w, struct job *j, int err, const char *note)
{
	struct vmm *m = w->m;

	if (w->removed) {
		sched_record_failed(m, job_record(m->db, j, job_failed_event(j), INTENT_FAILED, w->note,
						  JOB_ROW_KEEP));
		job_free(j);
		return;
	}
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
	for (j = w->head; j; j = j->next)
		job_defer(m->db, j, note);
}

/* The VM answered: whatever it said, it is reachable. */
void sched_reachable(struct worker *w)
{
	w->backoff_ms = 0;
	w->appeared = false;
	w->last_err = 0;
	w->hostile = false;
	free(w->note);
	w->note = NULL;
}

void sched_submit(struct worker *w, struct job *j)
{
	sched_enqueue(w, j, false);
	if (w->waiting && w->note)
		job_defer(w->m->db, j, w->note);
	sched_pump(w);
}

/* Try again now, or as soon as the last attempt is BACKOFF_FIRST_MS old. */
static void wake(struct worker *w, int64_t now)
{
	int64_t earliest = w->tried_ms + BACKOFF_FIRST_MS;

	if (!w->waiting || w->hostile)
		return;
	w->backoff_ms = 0;
	if (w->due_ms > earliest)
		w->due_ms = earliest > now ? earliest : now;
}

void sched_wake_all(struct vmm *m)
{
	int64_t now = qmp_now_ms();

	for (size_t i = 0; i < m->n_workers; i++)
		wake(m->workers[i], now);
}

void vmm_vm_appeared(struct vmm *m, const char *name)
{
	sched_vm_stopped(m, name, "its socket appeared again: a new VM process");
	sched_reconcile(m, name, "its socket appeared");
	for (size_t i = 0; i < m->n_workers; i++) {
		struct worker *w = m->workers[i];

		if (streq(w->name, name) && w->waiting) {
			w->appeared = true;
			w->backoff_ms = 0;
			w->due_ms = qmp_now_ms();
		}
	}
	vmm_poke(m);
}

void vmm_vm_gone(struct vmm *m, const char *name)
{
	sched_vm_stopped(m, name, "its socket was removed");
}
