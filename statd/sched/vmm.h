/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "db.h"

/*
 * The VM side of statd, its scheduler: one worker per VM, each with its own
 * queue of jobs (pending intents), one job at a time in the VM's backend
 * (backend.h). Workers never wait on each other: a slow, dead or hostile VM
 * only delays its own queue, and a device waiting for a retry steps aside
 * for the rest.
 */
struct loop;
struct vmm;

/* LOOP, DB and CFG are borrowed; CFG is replaced with vmm_set_config(). */
int vmm_new(struct loop *loop, struct db *db, const struct config *cfg, struct vmm **out);
void vmm_free(struct vmm *m);
void vmm_set_config(struct vmm *m, const struct config *cfg);

/*
 * The loop's post hook (loop_set_post()): after each batch of events, run
 * the outcomes of the jobs the backends answered, read the intents asked
 * for, start the next job of every free VM. Everything below only notes
 * work for it; call it once before the loop's first wait, too.
 */
void vmm_dispatch(struct vmm *m);

/* Read every pending intent from the database and start on the new ones (at the next dispatch). */
int vmm_drain(struct vmm *m);
/*
 * statd was poked: read only the intents newer than the last one read, and
 * let every VM waiting after a failure try again now (at most one attempt
 * per VM every 100 ms, however many pokes come).
 */
int vmm_poke(struct vmm *m);
/*
 * The socket of VM NAME appeared: it (re)started. Whatever the database says
 * is in it is 'vm_stopped', and a reconcile is queued that puts it back.
 * Its waiting jobs are tried now. The socket exists
 * from QEMU's bind(), a moment before its listen(), so refused connections
 * leave no note for a while (the backoff goes on).
 */
void vmm_vm_appeared(struct vmm *m, const char *name);
/* The socket of VM NAME was removed: it stopped; its attachments are 'vm_stopped'. */
void vmm_vm_gone(struct vmm *m, const char *name);
/* Queue a reconcile (WHY) of every VM whose socket is there; vmm_drain() reads them. */
void vmm_reconcile_all(struct vmm *m, const char *why);

/* Earliest CLOCK_MONOTONIC ms at which vmm_timer() has work, or -1. */
int64_t vmm_next_deadline(const struct vmm *m);
void vmm_timer(struct vmm *m, int64_t now_ms);

/* Stop taking jobs; true once no command is in flight anywhere. */
bool vmm_quiesce(struct vmm *m);
