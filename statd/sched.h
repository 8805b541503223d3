/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* The scheduler's insides, shared by vmm.c (workers, outcomes, time) and drain.c (intake). */
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
};

struct vmm {
	struct loop *loop;
	struct db *db;
	const struct config *cfg;
	struct worker **workers;
	size_t n_workers;
	struct job *retry;	/* jobs waiting for their due_ms, any order */
	bool quiescing;
	bool freeing;
	bool appeared;		/* in vmm_drain_appeared() */
	bool refused;		/* ...and a connection was refused */
};

/* The worker of the VM NAME, made on first use with the backend for its type; NULL: no memory. */
struct worker *sched_worker_get(struct vmm *m, const char *name);
/* Queue J on W, at the end or (a retry) in front. */
void sched_enqueue(struct worker *w, struct job *j, bool front);
/* Start W's next job if none is in flight; let go of the VM when there is no work left. */
void sched_pump(struct worker *w);
