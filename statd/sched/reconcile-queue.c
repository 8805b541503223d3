/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reconcile intents: queued when a VM's socket appears, at statd's start and
 * when the database could not take one earlier. Like every operation a
 * reconcile is an intent; reconcile.c carries it out when its VM lists.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "sched-private.h"

/*
 * Queue a reconcile of VM NAME unless one is open. A write that fails is not
 * lost: the VM's worker remembers it, and the next full read (a second later,
 * sched_record_failed()) queues it again.
 */
static int queue_reconcile(struct vmm *m, const char *name, const char *why)
{
	struct db_intent in = { .action = INTENT_RECONCILE, .vm = name, .rule = why, .busnum = -1,
				.devnum = -1 };
	struct worker *w;
	bool open = false;
	int r = db_intent_open(m->db, INTENT_RECONCILE, name, 0, &open);

	if (r == 0 && !open)
		r = db_intent_add(m->db, &in, NULL);
	if (r == 0)
		return 0;
	log_err("could not queue a reconcile of %s, trying again shortly: %s", name, strerror(-r));
	w = sched_worker_get(m, name);
	if (w)
		w->reconcile_due = true;
	sched_record_failed(m, r);
	return r;
}

void sched_reconcile(struct vmm *m, const char *name, const char *why)
{
	queue_reconcile(m, name, why);
	sched_want_read(m, false);
}

void sched_reconcile_due(struct vmm *m)
{
	for (size_t i = 0; i < m->n_workers; i++) {
		struct worker *w = m->workers[i];

		if (w->reconcile_due && !w->removed) {
			w->reconcile_due = false;
			queue_reconcile(m, w->name, "asked for when the database could not record it");
		}
	}
}

void vmm_reconcile_all(struct vmm *m, const char *why)
{
	for (size_t i = 0; i < m->cfg->n_vms; i++) {
		const struct vm *vm = &m->cfg->vms[i];
		struct stat st;

		/* A VM not running is reconciled when its socket appears. */
		if (lstat(vm->socket, &st) == 0 && S_ISSOCK(st.st_mode))
			queue_reconcile(m, vm->name, why);
	}
}
