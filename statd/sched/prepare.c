/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler's side of host-side preparation (prep/): ask before an
 * attach goes to the backend, look again when a device node appears while
 * it is under way, and give back what it took. Recording is the outcome's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "job.h"
#include "log.h"
#include "nodewatch.h"
#include "prep.h"
#include "qmp.h"
#include "sched-private.h"
#include "vfio.h"

void sched_restore(struct vmm *m, const struct vmm_job *j)
{
	char detail[512];

	if (prep_restore(m->db, m->cfg, j, detail, sizeof(detail)) < 0) {
		log_warn("%s: %s", j->label, detail);
		db_history_add(m->db, j->device_id, j->label, HISTORY_RESTORE_FAILED, j->vm, detail);
	}
}

/* A node appeared in /dev/vfio (or it did): the jobs waiting for one look again now. */
static void nodes_changed(void *userdata)
{
	struct vmm *m = userdata;
	int64_t now = clock_now_ms();

	for (struct job *j = m->retry; j; j = j->next)
		if (j->node_wait)
			j->due_ms = now;
}

/*
 * Watch /dev/vfio from the first wait on: 1 when the watch is new (the look
 * that failed came before it, so look once more), 0 when it was there, or
 * -errno (no inotify: look again on the timer).
 */
static int watch_nodes(struct vmm *m)
{
	char dir[512];
	int r;

	if (m->nodes)
		return 0;
	if (m->nodes_unwatched)
		return -ENOSYS;
	r = vfio_dev_dir(dir, sizeof(dir));
	if (r == 0)
		r = nodewatch_new(m->loop, dir, nodes_changed, m, &m->nodes);
	if (r < 0) {
		log_warn("cannot watch for vfio group nodes, looking again every %d ms: %s",
			 PREP_RECHECK_MS, strerror(-r));
		m->nodes_unwatched = true;	/* said once */
		return r;
	}
	return 1;
}

/* Host-side preparation is under way: look again when a node shows up, within its bound. */
static bool prep_later(struct vmm *m, struct job *j)
{
	int64_t now = clock_now_ms();
	int r;

	if (!j->prep_ms)
		j->prep_ms = now;
	if (now - j->prep_ms >= PREP_WAIT_MS)
		return false;
	r = watch_nodes(m);
	j->due_ms = r == 1 ? now : r == 0 ? j->prep_ms + PREP_WAIT_MS : now + PREP_RECHECK_MS;
	j->node_wait = true;
	sched_retry_add(m, j);
	return true;
}

enum prepare_result sched_prepare(struct worker *w, struct job *j, char *reason, size_t size)
{
	int r;

	j->prepared = true;
	j->node_wait = false;
	r = prep_attach(w->m->db, w->m->cfg, &j->pub, reason, size);

	if (r == PREP_NOT_YET && prep_later(w->m, j))
		return PREPARE_LATER;
	if (r == PREP_NOT_YET) {
		snprintf(reason + strlen(reason), size - strlen(reason), " within %d ms",
			 PREP_WAIT_MS);
		return PREPARE_FAILED;
	}
	if (r == PREP_REFUSED)
		return PREPARE_REFUSED;
	return r == PREP_READY ? PREPARE_READY : PREPARE_FAILED;
}
