/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Run by udev (RUN+=) for each add/remove of a USB device, PCI device or
 * input event node. It decides from the rules what should happen, records
 * that as an intent in the database, pokes statd and exits. udev waits for
 * it, so: no network, no QMP, a bounded lock wait, and exit 0 in every case
 * (a failing RUN program only fills udev's log; the reason goes to syslog).
 * An event the database cannot take in time goes to the spool (lib/intake/spool.h),
 * which statd imports: it is lost only when neither can be written.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libudev.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "db.h"
#include "device.h"
#include "intake.h"
#include "log.h"
#include "macro.h"
#include "match.h"
#include "paths.h"
#include "spool.h"
#include "wake.h"

/*
 * udev kills RUN programs after minutes; we promise far less. All lock waits
 * of one event together stay under this budget (DB_BUSY_BUDGET); past it the
 * event goes to the spool, which takes no lock.
 */
#define HELPER_BUSY_MS 100

struct event {
	const char *action;
	const char *devpath;	/* checked: device_devpath_valid() */
	uint64_t seqnum;
	struct device *dev;	/* add only */
	struct config *cfg;
	char *config_error;	/* first line of a config error, recorded in history */
};

/* NAME: the event's copy, recorded in the same transaction (lib/spool.h). */
static int store(const struct paths *paths, const struct event *ev, const char *name)
{
	struct db *db;
	int r = db_setup_brief();

	/* Here, not at start: an event spooled or ignored never starts SQLite. */
	if (r < 0)
		log_debug("SQLite left as it is: %s", strerror(-r));
	r = db_open(paths->db, HELPER_BUSY_MS,
		    DB_NO_CLOSE_CHECKPOINT | DB_BUSY_BUDGET | DB_NO_MIGRATE | DB_RELAXED, &db);
	if (r < 0)
		return r;
	r = db_begin(db);
	if (r == 0)
		r = ev->dev ? intake_add(db, ev->cfg, ev->config_error, ev->dev, HISTORY_PLUGGED) :
			      intake_remove(db, ev->devpath);
	if (r == 0)
		r = db_spool_note(db, name);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	db_close(db);
	return r;
}

/*
 * Commit, or else spool. While anything waits in the spool, later events
 * are spooled too: a remove must not overtake the add before it.
 */
static int record(const struct paths *paths, const struct event *ev, const char *where)
{
	char name[SPOOL_NAME_MAX];
	int r, s;

	spool_name(ev->seqnum, name);
	r = spool_pending(paths->rundir) ? -EINPROGRESS : store(paths, ev, name);
	/*
	 * Committed: a copy kept until statd has seen the event in the
	 * database, so that one the database loses after its commit is found.
	 */
	if (r == 0 && (s = spool_keep(paths->rundir, name, ev->action, ev->devpath, ev->seqnum)) < 0)
		log_warn("%s %s: recorded, but its copy in %s: %s", ev->action, where, paths->rundir,
			 strerror(-s));
	if (r == 0)
		return 0;
	if (r == -EBADMSG)
		log_crit("%s %s: the database %s is corrupt: events go to the spool until it is repaired",
			 ev->action, where, paths->db);
	s = spool_write(paths->rundir, ev->action, ev->devpath, ev->seqnum);
	if (s == 0 && r == -EBUSY)
		log_notice("%s %s: spooled for statd (database locked for more than %d ms)",
			   ev->action, where, HELPER_BUSY_MS);
	else if (s == 0)
		log_notice("%s %s: spooled for statd (database: %s)", ev->action, where,
			   r == -EINPROGRESS ? "earlier events wait in the spool" : strerror(-r));
	if (s == 0)
		return 0;
	log_crit("%s %s: NOT recorded: database: %s, spool in %s: %s", ev->action, where,
		 r == -EINPROGRESS ? "not tried" : strerror(-r), paths->rundir, strerror(-s));
	return s;
}

/* Keep the first error line for history; every line still goes to the log. */
static void load_config(const char *file, struct config **cfg, char **first_error)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	/* Warnings are for --check-config and statd start, not for every event. */
	*cfg = NULL;
	if (config_load_flags(file, CONFIG_QUIET, cfg, f) < 0)
		*cfg = NULL;
	if (f)
		fclose(f);
	if (!*cfg && buf) {
		log_err("%s", buf);
		buf[strcspn(buf, "\n")] = '\0';
		*first_error = buf;
		return;
	}
	free(buf);
}

/*
 * On add, sysfs is there and udev has already stored the event's properties
 * in its database, so the syspath gives everything. A device that is not in
 * sysfs is not taken from the environment: anyone who can run us could claim
 * any vendor and product there.
 */
static int device_event(const char *devpath, struct device **dev)
{
	struct udev *udev = udev_new();
	struct udev_device *ud = NULL;
	char syspath[DEVICE_DEVPATH_MAX + 8];
	int r = -ENOMEM;

	if (udev) {
		snprintf(syspath, sizeof(syspath), "/sys%s", devpath);
		ud = udev_device_new_from_syspath(udev, syspath);
		r = ud ? device_from_udev(ud, dev) : -ENODEV;
	}
	udev_device_unref(ud);
	udev_unref(udev);
	return r;
}

static int handle(const struct paths *paths, struct event *ev, const char *where)
{
	int r;

	if (streq(ev->action, "add")) {
		r = device_event(ev->devpath, &ev->dev);
		if (r == -ENODEV) {
			log_warn("add %s: not in sysfs (gone already?): ignored", where);
			return 0;
		}
		if (r < 0)
			return r;
		/* USB input nodes go with their USB device: not worth a row each. */
		if (ev->dev->kind == DEV_EVDEV && match_never_reason(ev->dev))
			return -ENOTSUP;
		load_config(paths->config, &ev->cfg, &ev->config_error);
	}
	return record(paths, ev, where);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: vhotplug-helper [-c CONFIG] [--db FILE] [--run-dir DIR] [-d]\n"
		   "Run by udev with ACTION and DEVPATH (and the rest of the event) in the environment.\n");
}

static int parse_args(int argc, char **argv, struct paths *paths)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		PATHS_OPTIONS,
		{}
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:dh", opts, NULL)) != -1) {
		int r = paths_option(paths, c, optarg);

		if (r > 0)
			continue;
		if (r == 0)
			usage(c == 'h' ? stdout : stderr);
		return 1;
	}
	return 0;
}

static uint64_t seqnum(void)
{
	const char *s = getenv("SEQNUM");
	char *end;
	uint64_t v;

	if (!s)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	return errno || *end ? 0 : v;
}

int main(int argc, char **argv)
{
	struct event ev = { .action = getenv("ACTION"), .devpath = getenv("DEVPATH") };
	_cleanup_free_ char *where = NULL;
	struct paths paths;
	int r;

	/* Database, spool and run directory are root's alone, whatever udev's umask. */
	umask(077);
	log_open("vhotplug-helper", LOG_TARGET_SYSLOG);
	paths_init(&paths);
	if (parse_args(argc, argv, &paths))
		return 0;
	if (!ev.action || !ev.devpath) {
		log_err("ACTION and DEVPATH are not set: this program is run by udev");
		return 0;
	}
	if (!streq(ev.action, "add") && !streq(ev.action, "remove"))
		return 0;
	where = device_escape(ev.devpath);
	if (!where)
		return 0;
	if (!device_devpath_valid(ev.devpath)) {
		log_err("%s \"%s\": not a device path the kernel makes: ignored", ev.action, where);
		return 0;
	}
	ev.seqnum = seqnum();
	r = handle(&paths, &ev, where);
	config_free(ev.cfg);
	free(ev.config_error);
	device_free(ev.dev);
	if (r == -ENOTSUP) {
		log_debug("%s: not a device vhotplug handles", where);
		return 0;
	}
	if (r < 0)
		return 0;	/* logged */
	r = wake_statd(&paths, "intent");
	if (r < 0)
		log_debug("statd not woken (%s): it drains the queue when it starts", strerror(-r));
	return 0;
}
