/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The scheduler's jobs (one per pending intent it works on) and their
 * records: the only code in statd that writes an outcome to the database.
 * Private to the scheduler (vmm.c); backends see only the struct vmm_job.
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
	/* Owned copies; PUB's pointers point at them. */
	char *vm, *label, *sysname, *qdev_id, *devpath, *devnode;
	char *note;		/* the note its intent has, while it waits */
	int delay_ms;		/* next "not yet" retry's delay */
	int64_t first_ms;	/* first attempt, for the retry budget */
	int64_t prep_ms;	/* first host-side preparation that was not done yet */
	int64_t due_ms;		/* when waiting for a retry */
};

/* NULL when out of memory, or for a kind statd does not know. */
struct job *job_new(const struct db_pending *p);
void job_free(struct job *j);
/* Replace the VM and qdev id (a detach learns them from the attachment). Takes both. */
void job_set_target(struct job *j, char *vm, char *qdev_id);

/*
 * Close J's intent in STATE with DETAIL, adding a history EVENT (if not
 * NULL) and, ATTACH > 0, recording the attachment, < 0 removing it,
 * JOB_MARK_TIMEOUT marking it 'detach_timeout': one transaction. On failure
 * (-errno) the intent stays pending, to be redone.
 */
#define JOB_MARK_TIMEOUT 2
int job_record(struct db *db, struct job *j, const char *event, const char *state,
		const char *detail, int attach);
/*
 * Keep J's intent pending with NOTE; history gets the note the first time it
 * changes. The same note twice in a row costs no database write.
 */
void job_defer(struct db *db, struct job *j, const char *note);
/* Cancel the attach intents of J's device older than J (a detach), except EXCEPT_ID. */
int job_cancel_attaches(struct db *db, const struct job *detach, int64_t except_id);
