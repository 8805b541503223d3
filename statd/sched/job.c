/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ident.h"
#include "job.h"
#include "log.h"
#include "loop.h"
#include "macro.h"
#include "qmp.h"
#include "sched-private.h"

/* A note waits this long for the database lock at most; it is written next time otherwise. */
#define NOTE_BUSY_MS 10
/* The first "not yet" retry comes after this; each next one after twice as long. */
#define RETRY_FIRST_MS 20

static void job_sync(struct job *j)
{
	j->pub.vm = j->vm;
	j->pub.label = j->label;
	j->pub.sysname = j->sysname;
	j->pub.qdev_id = j->qdev_id;
	j->pub.devpath = j->devpath;
	j->pub.devnode = j->devnode;
}

static void free_strv(char **v, size_t n);

struct job *job_new(const struct db_pending *p)
{
	bool reconcile = p->action == INTENT_RECONCILE;
	int kind = p->kind ? dev_kind_from_string(p->kind) : DEV_USB;	/* a reconcile has none */
	struct job *j = kind < 0 ? NULL : calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->pub.reconcile = reconcile;
	j->claimed = p->claimed;
	j->pub.kind = kind;
	j->pub.detach = p->action == INTENT_DETACH;
	j->pub.device_id = p->device_id;
	j->pub.busnum = p->busnum;
	j->pub.devnum = p->devnum;
	j->pub.vendor_id = p->vendor_id;
	j->pub.product_id = p->product_id;
	j->intent_id = p->intent_id;
	j->vm = p->vm ? strdup(p->vm) : NULL;
	j->label = strdup(reconcile ? "reconcile" : p->label ?: "");
	j->sysname = strdup(p->sysname ?: "");
	j->devpath = strdup(p->devpath ?: "");
	j->devnode = p->devnode ? strdup(p->devnode) : NULL;
	/* The same id for the same device wherever it is plugged; another device, another id. */
	j->qdev_id = ident_qdev_id(dev_kind_to_string(kind), p->ident ?: j->sysname ?: "");
	j->delay_ms = RETRY_FIRST_MS;
	if (!j->label || !j->sysname || !j->qdev_id || !j->devpath || (p->devnode && !j->devnode) ||
	    (p->vm && !j->vm)) {
		job_free(j);
		return NULL;
	}
	job_sync(j);
	return j;
}

void job_free(struct job *j)
{
	if (!j)
		return;
	free(j->vm);
	free(j->label);
	free(j->sysname);
	free(j->qdev_id);
	free(j->devpath);
	free(j->devnode);
	free(j->note);
	free(j->key);
	free(j->bus);
	free(j->detail);
	free_strv(j->seen, j->n_seen);
	free_strv(j->models, j->n_seen);
	free(j);
}

void job_set_target(struct job *j, char *vm, char *qdev_id)
{
	free(j->vm);
	free(j->qdev_id);
	j->vm = vm;
	j->qdev_id = qdev_id;
	job_sync(j);
}

int vmm_job_set_bus(struct vmm_job *pub, const char *bus)
{
	struct job *j = container_of(pub, struct job, pub);
	char *b = bus ? strdup(bus) : NULL;

	if (bus && !b)
		return -ENOMEM;
	free(j->bus);
	j->bus = b;
	return 0;
}

int vmm_job_set_key(struct vmm_job *pub, const char *key)
{
	struct job *j = container_of(pub, struct job, pub);
	char *k = strdup(key), *vm = j->vm ? strdup(j->vm) : NULL;

	if (!k || (j->vm && !vm)) {
		free(k);
		free(vm);
		return -ENOMEM;
	}
	job_set_target(j, vm, k);
	return 0;
}

static char **copy_strv(const char *const *v, size_t n)
{
	char **c = calloc(n ?: 1, sizeof(*c));

	for (size_t i = 0; c && i < n; i++) {
		c[i] = strdup(v[i]);
		if (!c[i]) {
			while (i--)
				free(c[i]);
			free(c);
			return NULL;
		}
	}
	return c;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int vmm_job_set_seen(struct vmm_job *pub, const char *const *ids, const char *const *models,
		     size_t n)
{
	struct job *j = container_of(pub, struct job, pub);
	char **v = copy_strv(ids, n), **m = models ? copy_strv(models, n) : NULL;

	if (!v || (models && !m)) {
		free_strv(v, n);
		free_strv(m, n);
		return -ENOMEM;
	}
	j->seen = v;
	j->models = m;
	j->n_seen = n;
	return 0;
}

static int settle(struct db *db, struct job *j, enum job_row row)
{
	/* The row the claim wrote: its key, which crosvm's answer may replace. */
	const char *key = j->key ?: j->qdev_id;

	if (!j->vm || j->pub.reconcile)
		return 0;
	/* In the VM, claimed by this job or found there ("already attached"): the row says so. */
	if (row == JOB_ROW_ATTACHED)
		return streq(key, j->qdev_id) ?
		       db_attachment_put(db, j->pub.device_id, j->vm, j->qdev_id) :
		       db_attachment_settle(db, j->vm, key, ATTACHMENT_ATTACHED, j->qdev_id);
	if (!j->key)
		return 0;	/* the VM was not asked: the row, if any, is not this job's */
	switch (row) {
	case JOB_ROW_DROP:
		return db_attachment_drop(db, j->vm, key);
	case JOB_ROW_TIMEOUT:
		return db_attachment_settle(db, j->vm, key, ATTACHMENT_DETACH_TIMEOUT, NULL);
	case JOB_ROW_RESTORE:
		return db_attachment_settle(db, j->vm, key, ATTACHMENT_ATTACHED, NULL);
	default:
		return 0;
	}
}

int job_record(struct db *db, struct job *j, enum history_event event, enum intent_state state,
	       const char *detail, enum job_row row)
{
	int r = db_begin(db);

	if (r == 0)
		r = settle(db, j, row);
	if (r == 0 && event >= 0)
		r = db_history_add(db, j->pub.device_id, j->label, event, j->vm, detail);
	if (r == 0)
		r = db_intent_finish(db, j->intent_id, state, detail);
	if (r == 0)
		r = db_commit(db);
	if (r < 0) {
		/* It stays open: the next drain redoes it, and every step is idempotent. */
		db_rollback(db);
		log_err("%s: could not record %s: %s", j->label,
			event >= 0 ? history_event_to_string(event) : intent_state_to_string(state),
			strerror(-r));
	}
	return r;
}

enum history_event job_failed_event(const struct job *j)
{
	return j->pub.reconcile ? HISTORY_RECONCILE_FAILED : j->pub.detach ? HISTORY_DETACH_FAILED :
	       HISTORY_ATTACH_FAILED;
}

int job_claim(struct db *db, struct job *j, const char *owner)
{
	int r = j->qdev_id && !j->key ? ((j->key = strdup(j->qdev_id)) ? 0 : -ENOMEM) : 0;

	if (r == 0)
		r = db_begin(db);
	if (r == 0)
		r = db_claim(db, j->intent_id, owner, j->pub.detach, j->pub.device_id, j->vm, j->key,
			     j->bus);
	if (r == 0)
		r = db_commit(db);
	if (r < 0) {
		db_rollback(db);
		if (r != -ESTALE)
			log_err("%s: could not claim its intent, the VM is not asked: %s", j->label,
				strerror(-r));
	}
	return r;
}

void job_defer(struct db *db, struct job *j, const char *note)
{
	struct job *next = j->next;

	/* J alone: a list of one. */
	j->next = NULL;
	job_defer_all(db, j, note);
	j->next = next;
}

/* Keep J's intent pending with NOTE, in the caller's transaction: 1 when its note is new. */
static int defer_one(struct db *db, struct job *j, const char *note, bool *first)
{
	int r;

	*first = false;
	if (streq(j->note, note))
		return 0;
	r = db_intent_defer(db, j->intent_id, note, first);
	/* A reconcile is the VM's own business: its waits are in the intent only. */
	if (r == 0 && *first && !j->pub.reconcile)
		r = db_history_add(db, j->pub.device_id, j->label, HISTORY_WAITING, j->vm, note);
	return r < 0 ? r : 1;
}

void job_defer_all(struct db *db, struct job *head, const char *note)
{
	bool any = false;
	int r = 0;

	for (struct job *j = head; j && !any; j = j->next)
		any = !streq(j->note, note);
	if (!any)
		return;	/* the same note again: no write at all */
	/* Only a note: a held lock costs the loop NOTE_BUSY_MS, and the note comes next time. */
	r = db_begin_brief(db, NOTE_BUSY_MS);

	for (struct job *j = head; r == 0 && j; j = j->next) {
		bool first;

		r = defer_one(db, j, note, &first);
		r = r < 0 ? r : 0;
		if (r == 0 && first)
			log_notice("%s: waiting: %s", j->label, note);
	}
	if (r == 0)
		r = db_commit(db);
	if (r < 0) {
		/* Not written: the next note (or the same one next time) is. */
		db_rollback(db);
		return;
	}
	for (struct job *j = head; j; j = j->next) {
		if (streq(j->note, note))
			continue;
		free(j->note);
		j->note = strdup(note);
	}
}

int job_cancel_attaches(struct db *db, const struct job *detach, int64_t except_id)
{
	int n = 0, r = db_begin(db);

	if (r == 0)
		r = db_intents_cancel(db, detach->pub.device_id, detach->intent_id, except_id, &n);
	if (r == 0 && n > 0)
		r = db_history_add(db, detach->pub.device_id, detach->label, HISTORY_ATTACH_CANCELLED, NULL,
				   "device unplugged before it was attached");
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r;
}

/* ---- the backend's answers (backend.h): noted, for the dispatcher to act on ---- */

int vmm_job_attempt(struct vmm_job *pub)
{
	struct job *j = container_of(pub, struct job, pub);
	int r;

	if (!j->first_ms)
		j->first_ms = clock_now_ms();
	r = job_claim(j->w->m->db, j, j->w->m->owner);
	j->claim_failed = r < 0;
	j->stale = r == -ESTALE;
	return r;
}

void vmm_job_done(struct vmm_job *pub, enum vmm_outcome o, int err, const char *detail)
{
	struct job *j = container_of(pub, struct job, pub);
	struct worker *w = j->w;
	struct vmm *m = w->m;

	if (w->cur == j)
		w->cur = NULL;
	if (m->freeing) {
		job_free(j);	/* its intent stays pending: the next start redoes it */
		return;
	}
	j->outcome = o;
	j->err = err;
	free(j->detail);
	j->detail = strdup(detail ?: "");
	if (!j->detail)
		log_err("%s: out of memory for its answer", j->label);
	j->next = NULL;
	*m->done_tail = j;
	m->done_tail = &j->next;
}
