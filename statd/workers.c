/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler's workers, one per VM, and their life: made on first use
 * with the backend for the VM's type (chosen once, as ndctl picks a DIMM's
 * ops), and failed and freed when the VM leaves the config.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job.h"
#include "log.h"
#include "macro.h"
#include "nodewatch.h"
#include "qmp.h"
#include "sched.h"

static const struct vmm_backend_ops *backend_for(enum vm_type type)
{
	return type == VM_CROSVM ? &crosvm_backend_ops : &qemu_backend_ops;
}

/* ---- workers ---- */

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
	/* Claims name the statd that made them: any other one's are redone. */
	if (asprintf(&m->owner, "%d:%lld", (int)getpid(), (long long)qmp_now_ms()) < 0) {
		free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

static void worker_free(struct worker *w)
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
	while ((j = sched_dequeue(w)))
		sched_unreachable(w, j, -ENOENT, note);	/* recorded as failed */
	sched_pump(w);
}

void vmm_set_config(struct vmm *m, const struct config *cfg)
{
	m->cfg = cfg;
	for (size_t i = 0; i < m->n_workers; i++) {
		struct worker *w = m->workers[i];

		if (!w->removed && !config_find_vm(cfg, w->name))
			remove_worker(m, w);
		if (w->removed && !w->cur) {
			worker_free(w);
			m->workers[i--] = m->workers[--m->n_workers];
		}
	}
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
	for (size_t i = 0; i < m->n_workers; i++)
		worker_free(m->workers[i]);
	nodewatch_free(m->nodes);
	free(m->workers);
	free(m->owner);
	free(m);
}
