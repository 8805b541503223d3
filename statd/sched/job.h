/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The scheduler's jobs (one per pending intent it works on) and their
 * records: the only code in statd that writes an outcome to the database.
 * Private to the scheduler; backends see only the struct vmm_job.
 */
#include <stdint.h>

#include "backend.h"
#include "db.h"

struct worker;

struct job {
	struct vmm_job pub;
	struct job *next;
	struct worker *w;
	int64_t intent_id;
	bool claimed;		/* claimed before, maybe by a statd that died: redone, idempotently */
	bool claim_failed;	/* the claim could not be written: the VMM was not asked */
	bool stale;		/* ... because its intent was closed meanwhile */
	/* Owned copies; PUB's pointers point at them. */
	char *vm, *label, *sysname, *qdev_id, *devpath, *devnode;
	char *key;		/* the attachment's key when claimed (QEMU qdev id, crosvm port) */
	char *bus;		/* the hot-plug port the attach tries, or NULL */
	char **seen;		/* reconcile: the ids the VMM has */
	char **models;		/* ... and their "vvvv:pppp", or NULL */
	size_t n_seen;
	char *note;		/* the note its intent has, while it waits */
	int delay_ms;		/* next "not yet" retry's delay */
	int64_t first_ms;	/* first attempt, for the retry budget */
	int64_t prep_ms;	/* first host-side preparation that was not done yet */
	bool node_wait;		/* on m->retry until a device node shows up (or the bound) */
	bool prepared;		/* host-side preparation was asked: give back if dropped */
	int64_t due_ms;		/* when waiting for a retry */
	/* The backend's answer (vmm_job_done()), kept until the outcome runs. */
	enum vmm_outcome outcome;
	int err;
	char *detail;
};

/* NULL when out of memory, or for a kind statd does not know. */
struct job *job_new(const struct db_pending *p);
void job_free(struct job *j);
/* Replace the VM and qdev id (a detach learns them from the attachment). Takes both. */
void job_set_target(struct job *j, char *vm, char *qdev_id);

/* What an outcome does to the attachment J claimed (J's VM and key). */
enum job_row {
	JOB_ROW_KEEP,		/* nothing was claimed, or nothing changed */
	JOB_ROW_ATTACHED,	/* in the VM, under J's qdev id (crosvm: the port it named) */
	JOB_ROW_DROP,		/* not in the VM: detached, or the attach failed */
	JOB_ROW_TIMEOUT,	/* asked out and did not say it went: 'detach_timeout' */
	JOB_ROW_RESTORE,	/* the detach was refused: still 'attached' */
};
/*
 * Close J's intent in STATE with DETAIL, adding a history EVENT (unless
 * HISTORY_EVENT_INVALID) and settling its attachment as ROW says: one transaction. On
 * failure (-errno) the intent stays as it was (pending or claimed), to be
 * redone: every step is idempotent.
 */
int job_record(struct db *db, struct job *j, enum history_event event, enum intent_state state,
	       const char *detail, enum job_row row);
/* The history event of J's failure: HISTORY_{ATTACH,DETACH,RECONCILE}_FAILED. */
enum history_event job_failed_event(const struct job *j);
/*
 * Claim J for OWNER before the VMM is asked (db_claim()): one transaction.
 * -ESTALE when its intent is no longer open (cancelled meanwhile).
 */
int job_claim(struct db *db, struct job *j, const char *owner);
/*
 * Keep J's intent pending with NOTE; history gets the note the first time it
 * changes. The same note twice in a row costs no database write.
 */
void job_defer(struct db *db, struct job *j, const char *note);
/*
 * The same for every job from HEAD on (a queue whose VM cannot be reached):
 * one transaction for them all.
 */
void job_defer_all(struct db *db, struct job *head, const char *note);
/* Cancel the attach intents of J's device older than J (a detach), except EXCEPT_ID. */
int job_cancel_attaches(struct db *db, const struct job *detach, int64_t except_id);
