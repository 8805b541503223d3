/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler's state: one worker per VM, made on first use with the
 * backend for the VM's type (one table, as networkd's netdev_vtable[]), its
 * queue, the retry list, and the list of jobs their backend has answered.
 * A backend's answer only lands on that list: the dispatcher takes it from
 * there after the loop's batch, never on the backend's stack.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "job.h"
#include "log.h"
#include "macro.h"
#include "nodewatch.h"
#include "qmp.h"
#include "sched-private.h"

/* After a failed record, read every pending intent again this much later. */
#define RESCAN_MS 1000

/* The backend of each VM type; NULL: none (its jobs fail as unsupported). */
static const struct vmm_backend_ops *const backends[] = {
	[VM_QEMU] = &qemu_backend_ops,
	[VM_CROSVM] = &crosvm_backend_ops,
};

static const struct vmm_backend_ops *backend_for(enum vm_type type)
{
	return (size_t)type < ARRAY_SIZE(backends) ? backends[type] : NULL;
}

struct worker *sched_worker_get(struct vmm *m, const char *name)
{
	const struct vm *vm = config_find_vm(m->cfg, name);
	struct worker **v, *w;

	for (size_t i = 0; i < m->n_workers; i++)
		if (streq(m->workers[i]->name, name) && !m->workers[i]->removed)
			return m->workers[i];
	v = realloc(m->workers, (m->n_workers + 1) * sizeof(*v));
	if (!v)
		return NULL;
	m->workers = v;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->name = strdup(name))) {
		free(w);
		return NULL;
	}
	w->m = m;
	w->ops = vm ? backend_for(vm->type) : NULL;
	if (w->ops && w->ops->new(m->loop, name, &w->b) < 0) {
		free(w->name);
		free(w);
		return NULL;
	}
	m->workers[m->n_workers++] = w;
	return w;
}

void sched_enqueue(struct worker *w, struct job *j, bool front)
{
	j->w = w;
	if (front) {
		j->next = w->head;
		w->head = j;
		if (!w->tail)
			w->tail = j;
		return;
	}
	j->next = NULL;
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
}

struct job *sched_dequeue(struct worker *w)
{
	struct job *j = w->head;

	if (j) {
		w->head = j->next;
		if (!w->head)
			w->tail = NULL;
		j->next = NULL;
	}
	return j;
}

void sched_retry_add(struct vmm *m, struct job *j)
{
	j->next = m->retry;
	m->retry = j;
}

struct job *sched_done_take(struct vmm *m)
{
	struct job *j = m->done;

	if (j) {
		m->done = j->next;
		if (!m->done)
			m->done_tail = &m->done;
		j->next = NULL;
	}
	return j;
}

bool sched_known(const struct vmm *m, int64_t intent_id)
{
	for (const struct job *j = m->retry; j; j = j->next)
		if (j->intent_id == intent_id)
			return true;
	for (const struct job *j = m->done; j; j = j->next)
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

void sched_record_failed(struct vmm *m, int r)
{
	if (r < 0 && m->rescan_ms < 0)
		m->rescan_ms = clock_now_ms() + RESCAN_MS;
}

void sched_want_read(struct vmm *m, bool all)
{
	if (all)
		m->read_all = true;
	else
		m->read_new = true;
}

/* Try again now, or as soon as the last attempt is backoff_first() old. */
static void wake(struct worker *w, int64_t now)
{
	int64_t earliest = w->tried_ms + backoff_first();

	if (!w->waiting || w->hostile)
		return;
	w->backoff_ms = 0;
	if (w->due_ms > earliest)
		w->due_ms = earliest > now ? earliest : now;
}

void sched_wake_all(struct vmm *m)
{
	int64_t now = clock_now_ms();

	for (size_t i = 0; i < m->n_workers; i++)
		wake(m->workers[i], now);
}

/* ---- life cycle ---- */

int vmm_new(struct loop *loop, struct db *db, const struct config *cfg, struct vmm **out)
{
	struct vmm *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->db = db;
	m->cfg = cfg;
	m->rescan_ms = -1;
	m->done_tail = &m->done;
	/* Claims name the statd that made them: any other one's are redone. */
	if (asprintf(&m->owner, "%d:%lld", (int)getpid(), (long long)clock_now_ms()) < 0) {
		free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

void sched_worker_free(struct worker *w)
{
	struct job *j;

	if (w->ops)
		w->ops->free(w->b);	/* a job in flight stays pending */
	while ((j = sched_dequeue(w)))
		job_free(j);
	free(w->note);
	free(w->name);
	free(w);
}

void vmm_free(struct vmm *m)
{
	struct job *j;

	if (!m)
		return;
	m->freeing = true;
	while ((j = m->retry)) {
		m->retry = j->next;
		job_free(j);
	}
	while ((j = sched_done_take(m)))
		job_free(j);
	for (size_t i = 0; i < m->n_workers; i++)
		sched_worker_free(m->workers[i]);
	nodewatch_free(m->nodes);
	free(m->workers);
	free(m->owner);
	free(m);
}
