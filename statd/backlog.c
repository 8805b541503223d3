/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include "backlog.h"
#include "device.h"
#include "hostauth.h"
#include "intake.h"
#include "log.h"
#include "macro.h"
#include "loop.h"
#include "spool.h"
#include "timer.h"
#include "wake.h"

/* Retry of an import or decision the database refused (busy). */
#define BACKLOG_RETRY_MS 200
/* A corrupt database is not repaired by trying again soon. */
#define BACKLOG_CORRUPT_RETRY_MS 10000
/*
 * Events imported per run: between runs the loop serves QMP, so a large
 * spool (a burst while the database was locked) does not starve the VMs.
 */
#define BACKLOG_BATCH 32

struct backlog {
	struct db *db;
	const struct paths *paths;
	const struct config *cfg;
	struct udev *udev;
	struct loop *loop;
	int timerfd;
	struct source timer_src;
	int64_t decided_upto;	/* undecided intents up to this id were looked at */
	int64_t hostauth_upto;	/* hostAllow interface intents likewise (hostauth.c) */
	bool corrupt_said;	/* the corrupt database was reported */
};

/* ---- one transaction per batch of events, or per decision ---- */

typedef int (*txn_fn)(struct backlog *b, const void *arg);

static int in_transaction(struct backlog *b, txn_fn fn, const void *arg)
{
	int r = db_begin(b->db);

	if (r == 0)
		r = fn(b, arg);
	if (r == 0)
		r = db_commit(b->db);
	if (r < 0)
		db_rollback(b->db);
	return r;
}

static int read_device(struct backlog *b, const char *devpath, struct device **dev)
{
	char syspath[DEVICE_DEVPATH_MAX + 8];
	struct udev_device *ud;
	int r;

	snprintf(syspath, sizeof(syspath), "/sys%s", devpath);
	ud = udev_device_new_from_syspath(b->udev, syspath);
	r = ud ? device_from_udev(ud, dev) : -ENODEV;
	udev_device_unref(ud);
	return r;
}

/* ---- the spool: one transaction per batch ---- */

struct import {
	const struct spool_event *ev;
	struct device *dev;	/* an add's device, read before the transaction */
	bool skip;		/* in already, or dropped */
};

struct batch {
	struct import *v;
	int n;
};

static int import_txn(struct backlog *b, const void *arg)
{
	const struct batch *batch = arg;
	int r = 0;

	for (int i = 0; r == 0 && i < batch->n; i++) {
		const struct import *im = &batch->v[i];

		if (im->skip)
			continue;
		r = im->dev ? intake_add(b->db, b->cfg, NULL, im->dev, HISTORY_PLUGGED) :
			      intake_remove(b->db, im->ev->devpath);
		if (r == 0)
			r = db_spool_mark(b->db, im->ev->name);
	}
	return r;
}

/*
 * What the transaction needs, read before it, so that it is short: whether
 * the event is in already (a statd stopped before it removed the file; only
 * this statd imports, so that does not change meanwhile), and an add's
 * device. KEPT: the helper's copy of an event it committed, which the
 * database should have; one it does not have was lost after its commit, as
 * when SQLite ends a damaged WAL at the bad frame and every later commit with
 * it: said loudly, and recorded again from the copy.
 */
static int import_prepare(struct backlog *b, struct import *im, bool kept)
{
	const struct spool_event *ev = im->ev;
	_cleanup_free_ char *where = device_escape(ev->devpath);
	bool seen = false;
	int r = db_spool_imported(b->db, ev->name, &seen);

	if (r < 0 || (im->skip = seen))
		return r;
	if (!where)
		return -ENOMEM;
	if (kept)
		log_crit("%s %s (event %llu) was committed by the helper, but the database has lost it "
			 "(a damaged WAL?): recorded again from the helper's copy", ev->action,
			 where, (unsigned long long)ev->seqnum);
	if (!device_devpath_valid(ev->devpath)) {
		log_err("spool/%s: \"%s\" is not a device path: dropped", ev->name, where);
		im->skip = true;
		return 0;
	}
	if (!streq(ev->action, "add"))
		return 0;
	r = read_device(b, ev->devpath, &im->dev);
	if (r == -ENODEV || r == -ENOTSUP) {
		/* Its remove follows, if it has not been imported already. */
		log_warn("spool/%s: add %s: not in sysfs any more: dropped", ev->name, where);
		im->skip = true;
		return 0;
	}
	return r;
}

static void import_said(const struct batch *batch)
{
	int n = 0;

	for (int i = 0; i < batch->n; i++) {
		const struct spool_event *ev = batch->v[i].ev;
		_cleanup_free_ char *where = NULL;

		if (batch->v[i].skip)
			continue;
		where = device_escape(ev->devpath);
		log_info("%s %s: imported from the spool (event %llu)", ev->action, where ?: "?",
			 (unsigned long long)ev->seqnum);
		n++;
	}
	if (n > 0)
		log_info("%d event%s imported in one transaction", n, n == 1 ? "" : "s");
}

static int import_batch(struct backlog *b, const struct spool_event *v, int n, bool kept)
{
	struct batch batch = { .v = calloc(n, sizeof(*batch.v)), .n = n };
	bool any = false;
	int r = batch.v ? 0 : -ENOMEM;

	for (int i = 0; r == 0 && i < n; i++) {
		batch.v[i].ev = &v[i];
		r = import_prepare(b, &batch.v[i], kept);
		any = any || !batch.v[i].skip;
	}
	if (r == 0 && any)
		r = in_transaction(b, import_txn, &batch);
	if (r == 0)
		import_said(&batch);
	for (int i = 0; batch.v && i < n; i++)
		device_free(batch.v[i].dev);
	free(batch.v);
	return r;
}

static int import_spooled(void *userdata, const struct spool_event *v, int n)
{
	return import_batch(userdata, v, n, false);
}

static int import_kept(void *userdata, const struct spool_event *v, int n)
{
	return import_batch(userdata, v, n, true);
}

/* ---- undecided plugs ---- */

struct undecided {
	struct intake_undecided u;
	char *devpath, *label, *config_error;
	bool present;
};

static int cancel_txn(struct backlog *b, const void *arg)
{
	const struct undecided *d = arg;
	const char *why = "device gone before a valid config decided on it";
	int r = db_history_add(b->db, d->u.device_id, d->label, HISTORY_CANCELLED, NULL, why);

	return r ?: db_intent_finish(b->db, d->u.intent_id, INTENT_CANCELLED, why);
}

static int decide_txn(struct backlog *b, const void *arg)
{
	const struct undecided *d = arg;
	struct device *dev = NULL;
	int r = d->present ? read_device(b, d->devpath, &dev) : -ENODEV;

	if (r == -ENODEV || r == -ENOTSUP)
		return cancel_txn(b, d);
	if (r == 0)
		r = intake_decide(b->db, b->cfg, dev, &d->u);
	device_free(dev);
	return r;
}

struct undecided_list {
	struct undecided *v;
	size_t n, size;
};

static int collect_undecided(void *userdata, const struct db_undecided *u)
{
	struct undecided_list *l = userdata;
	struct undecided *d;

	if (l->n == l->size) {
		size_t size = l->size ? 2 * l->size : 8;
		struct undecided *bigger = realloc(l->v, size * sizeof(*l->v));

		if (!bigger)
			return -ENOMEM;
		l->v = bigger;
		l->size = size;
	}
	d = &l->v[l->n++];
	*d = (struct undecided){
		.u.intent_id = u->intent_id,
		.u.device_id = u->device_id,
		.u.busnum = u->busnum,
		.u.devnum = u->devnum,
		.config_error = strdup(u->config_error ?: ""),
		.devpath = strdup(u->devpath ?: ""),
		.present = u->present,
		.label = strdup(u->label ?: ""),
	};
	d->u.config_error = d->config_error;
	return d->config_error && d->devpath && d->label ? 0 : -ENOMEM;
}

/* Read first, then decide: the statement is not kept open across writes. */
static int read_undecided(struct backlog *b, struct undecided **out, size_t *n)
{
	struct undecided_list l = {};
	int r = db_intents_undecided(b->db, b->decided_upto, collect_undecided, &l);

	*out = l.v;
	*n = l.n;
	return r;
}

static int decide_all(struct backlog *b)
{
	struct undecided *v = NULL;
	int64_t upto;
	size_t n = 0;
	int r = db_intent_last_id(b->db, &upto);

	if (r == 0)
		r = read_undecided(b, &v, &n);
	for (size_t i = 0; i < n; i++) {
		if (r == 0) {
			r = in_transaction(b, decide_txn, &v[i]);
			if (r == 0)
				log_info("intent %lld (%s): decided with %s", (long long)v[i].u.intent_id,
					 v[i].label, b->cfg->file);
		}
		free(v[i].devpath);
		free(v[i].label);
		free(v[i].config_error);
	}
	free(v);
	if (r == 0 && upto > b->decided_upto)
		b->decided_upto = upto;
	return r;
}

/* ---- running ---- */

static void arm_retry(struct backlog *b, long ms)
{
	timer_arm(b->timerfd, ms, false);	/* a failure is logged; the next wake runs it */
}

void backlog_run(struct backlog *b, const struct config *cfg)
{
	int kept, n, r;

	b->cfg = cfg;
	/* Committed before anything now in the spool: once the spool has one, the helper spools all. */
	r = spool_import_kept(b->paths->rundir, import_kept, b, BACKLOG_BATCH, &kept);
	n = 0;
	if (r == 0 && kept < BACKLOG_BATCH)
		r = spool_import(b->paths->rundir, import_spooled, b, BACKLOG_BATCH, &n);
	if (n > 0)
		log_notice("%d spooled event%s imported", n, n == 1 ? "" : "s");
	/* An undecided plug spooled after it must wait for it: decide after importing. */
	if (r == 0 && cfg)
		r = decide_all(b);
	/* A plug's hostAllow interfaces, imported or decided above included. */
	if (r == 0 && cfg)
		r = hostauth_run(b->db, cfg, b->udev, &b->hostauth_upto);
	if (r == -EBUSY) {
		log_info("database busy: backlog retried in %d ms", BACKLOG_RETRY_MS);
		arm_retry(b, BACKLOG_RETRY_MS);
	} else if (r == -EBADMSG) {
		if (!b->corrupt_said)
			log_crit("the database is corrupt: events wait in %s/spool, kept, until it is "
				 "repaired (sqlite3 DB 'PRAGMA integrity_check'; .recover)",
				 b->paths->rundir);
		b->corrupt_said = true;
		arm_retry(b, BACKLOG_CORRUPT_RETRY_MS);
	} else if (r < 0) {
		log_err("backlog: %s", strerror(-r));
		arm_retry(b, BACKLOG_RETRY_MS);
	} else if (n == BACKLOG_BATCH || kept == BACKLOG_BATCH) {
		arm_retry(b, 1);	/* the rest after the drain this run is followed by */
	}
}

void backlog_reload(struct backlog *b, const struct config *cfg)
{
	b->decided_upto = 0;
	backlog_run(b, cfg);
}

/* The retry goes through statd's wake socket: a wake imports, then drains. */
static void on_timer(struct source *src, uint32_t events)
{
	struct backlog *b = container_of(src, struct backlog, timer_src);
	uint64_t expirations;

	if (read(b->timerfd, &expirations, sizeof(expirations)) < 0)
		return;
	if (wake_statd(b->paths, "backlog") < 0)
		backlog_run(b, b->cfg);
}

int backlog_new(struct loop *loop, struct db *db, const struct paths *paths, struct backlog **out)
{
	struct backlog *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return -ENOMEM;
	*b = (struct backlog){ .db = db, .paths = paths, .loop = loop, .timerfd = -1,
			       .timer_src.dispatch = on_timer };
	r = spool_prepare(paths->rundir);
	if (r < 0)
		log_err("%s: cannot prepare the run directory: %s", paths->rundir, strerror(-r));
	b->udev = udev_new();
	b->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r == 0 && (!b->udev || b->timerfd < 0))
		r = -ENOMEM;
	if (r == 0)
		r = loop_add(loop, b->timerfd, EPOLLIN, &b->timer_src);
	if (r < 0) {
		backlog_free(b);
		return r;
	}
	*out = b;
	return 0;
}

void backlog_free(struct backlog *b)
{
	if (!b)
		return;
	/* Closing the timerfd takes it out of the loop's epoll set. */
	if (b->timerfd >= 0)
		close(b->timerfd);
	udev_unref(b->udev);
	free(b);
}
