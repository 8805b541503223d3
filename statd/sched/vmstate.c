/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A VM's life as statd sees it: its socket appeared (a new VM process), it
 * stopped (hung up, socket removed). Its attachments are then 'vm_stopped'
 * until a reconcile puts them back or forgets them.
 */
#include <string.h>

#include "clock.h"
#include "log.h"
#include "macro.h"
#include "qmp.h"
#include "sched-private.h"

void sched_vm_stopped(struct vmm *m, const char *name, const char *why)
{
	int n = 0, r = db_begin(m->db);

	if (r == 0)
		r = db_attachments_stopped(m->db, name, why, &n);
	if (r == 0)
		r = db_commit(m->db);
	if (r < 0) {
		db_rollback(m->db);
		/* Not lost: the reconcile that follows finds those rows not in the VM and forgets them. */
		log_warn("%s stopped (%s); its attachments could not be marked: %s", name, why,
			 strerror(-r));
		return;
	}
	if (n > 0)
		log_notice("%s stopped (%s): %d attachment(s) kept as vm_stopped", name, why, n);
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
			w->due_ms = clock_now_ms();
		}
	}
	sched_wake_all(m);
	sched_want_read(m, false);
}

void vmm_vm_gone(struct vmm *m, const char *name)
{
	sched_vm_stopped(m, name, "its socket was removed");
}
