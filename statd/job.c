/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "log.h"
#include "loop.h"
#include "macro.h"

/* The first "not yet" retry comes after this; each next one after twice as long. */
#define RETRY_FIRST_MS 20

static int kind_from_name(const char *name)
{
	for (int k = 0; k < DEV_KIND_MAX; k++)
		if (streq(dev_kind_name(k), name))
			return k;
	return -EINVAL;
}

/* A qdev id that stays the same across replugs into the same port. */
static char *qdev_id_for(const char *kind, const char *sysname)
{
	char *id = NULL;

	if (asprintf(&id, "vhp-%s-%s", kind, sysname) < 0)
		return NULL;
	for (char *p = id; *p; p++)
		if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') ||
		      ('0' <= *p && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
			*p = '_';
	return id;
}

static void job_sync(struct job *j)
{
	j->pub.vm = j->vm;
	j->pub.label = j->label;
	j->pub.sysname = j->sysname;
	j->pub.qdev_id = j->qdev_id;
	j->pub.devpath = j->devpath;
	j->pub.devnode = j->devnode;
}

struct job *job_new(const struct db_pending *p)
{
	int kind = kind_from_name(p->kind ?: "usb");
	struct job *j = kind < 0 ? NULL : calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->pub.kind = kind;
	j->pub.detach = streq(p->action, "detach");
	j->pub.device_id = p->device_id;
	j->pub.busnum = p->busnum;
	j->pub.devnum = p->devnum;
	j->pub.vendor_id = p->vendor_id;
	j->pub.product_id = p->product_id;
	j->intent_id = p->intent_id;
	j->vm = p->vm ? strdup(p->vm) : NULL;
	j->label = strdup(p->label ?: "");
	j->sysname = strdup(p->sysname ?: "");
	j->devpath = strdup(p->devpath ?: "");
	j->devnode = p->devnode ? strdup(p->devnode) : NULL;
	j->qdev_id = j->sysname ? qdev_id_for(dev_kind_name(kind), j->sysname) : NULL;
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

int job_record(struct db *db, struct job *j, const char *event, const char *state,
	       const char *detail, int attach)
{
	int r = db_begin(db);

	if (r == 0 && attach == JOB_MARK_TIMEOUT)
		r = db_attachment_mark(db, j->pub.device_id, "detach_timeout");
	else if (r == 0 && attach > 0)
		r = db_attachment_set(db, j->pub.device_id, j->vm, j->qdev_id);
	if (r == 0 && attach < 0)
		r = db_attachment_del(db, j->pub.device_id);
	if (r == 0 && event)
		r = db_history_add(db, j->pub.device_id, j->label, event, j->vm, detail);
	if (r == 0)
		r = db_intent_finish(db, j->intent_id, state, detail);
	if (r == 0)
		r = db_commit(db);
	if (r < 0) {
		/* It stays pending: the next drain redoes it, and both steps are idempotent. */
		db_rollback(db);
		log_err("%s: could not record %s: %s", j->label, event ?: state, strerror(-r));
	}
	return r;
}

void job_defer(struct db *db, struct job *j, const char *note)
{
	bool first = false;
	int r;

	if (streq(j->note, note))
		return;
	r = db_begin(db);
	if (r == 0)
		r = db_intent_defer(db, j->intent_id, note, &first);
	if (r == 0 && first)
		r = db_history_add(db, j->pub.device_id, j->label, "waiting", j->vm, note);
	if (r == 0)
		r = db_commit(db);
	if (r < 0) {
		db_rollback(db);
		return;
	}
	free(j->note);
	j->note = strdup(note);
	if (first)
		log_notice("%s: waiting: %s", j->label, note);
}

int job_cancel_attaches(struct db *db, const struct job *detach, int64_t except_id)
{
	int n = 0, r = db_begin(db);

	if (r == 0)
		r = db_intents_cancel(db, detach->pub.device_id, detach->intent_id, except_id, &n);
	if (r == 0 && n > 0)
		r = db_history_add(db, detach->pub.device_id, detach->label, "attach_cancelled", NULL,
				   "device unplugged before it was attached");
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r;
}
