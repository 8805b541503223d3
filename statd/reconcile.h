/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Reconcile a VM: what it should have (devices plugged in now, known to the
 * database, that the rules send to it) against what its VMM says it has.
 * Missing devices get attach intents, devices statd put there and no longer
 * wanted get detach intents, rows for devices the VM lost are forgotten, and
 * whatever else the VM has is left alone. The new intents go through the
 * VM's queue like any other, after the reconcile; one 'reconciled' history
 * row gives the counts.
 */
#include "backend.h"
#include "sched.h"

/* J, a reconcile on W, ended with O: with VMM_OK J's seen list is what the VM has. Takes J. */
void reconcile_done(struct worker *w, struct job *j, enum vmm_outcome o, const char *detail);
