/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Run by udev (RUN+=) for each add/remove of a USB device, PCI device or
 * input event node. It decides from the rules what should happen, records
 * that as an intent in the database, pokes statd and exits. udev waits for
 * it, so: no network, no QMP, a bounded lock wait, and exit 0 in every case
 * (a failing RUN program only fills udev's log; the reason goes to syslog).
 */
#include <errno.h>
#include <getopt.h>
#include <libudev.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "device.h"
#include "intake.h"
#include "log.h"
#include "macro.h"
#include "match.h"
#include "paths.h"
#include "wake.h"

/* udev kills RUN programs after minutes; we promise far less. */
#define HELPER_BUSY_MS 100

struct event {
	struct device *dev;
	struct config *cfg;
	char *config_error;	/* first line of a config error, recorded in history */
};

/* EV is NULL for a removal. */
static int store(const struct paths *paths, const char *devpath, const struct event *ev)
{
	struct db *db;
	int r = db_open(paths->db, HELPER_BUSY_MS, DB_NO_CLOSE_CHECKPOINT, &db);

	if (r < 0)
		return r;
	r = db_begin(db);
	if (r == 0)
		r = ev ? intake_add(db, ev->cfg, ev->config_error, ev->dev, "plugged") :
			 intake_remove(db, devpath);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	db_close(db);
	return r;
}

/* Keep the first error line for history; every line still goes to the log. */
static void load_config(const char *file, struct config **cfg, char **first_error)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	/* Warnings are for --check-config and statd start, not for every event. */
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
 * in its database, so the syspath gives everything. The environment is the
 * fallback, for a device that is already gone again.
 */
static struct udev_device *event_device(struct udev *udev, const char *devpath)
{
	struct udev_device *d;
	char syspath[4096];

	snprintf(syspath, sizeof(syspath), "/sys%s", devpath);
	d = udev_device_new_from_syspath(udev, syspath);
	return d ? d : udev_device_new_from_environment(udev);
}

static int device_event(const char *devpath, struct device **dev)
{
	struct udev *udev = udev_new();
	struct udev_device *ud = udev ? event_device(udev, devpath) : NULL;
	int r = ud ? device_from_udev(ud, dev) : -ENODEV;

	udev_device_unref(ud);
	udev_unref(udev);
	return r;
}

static int handle_add(const struct paths *paths, const char *devpath)
{
	struct event ev = {};
	int r = device_event(devpath, &ev.dev);

	if (r < 0)
		return r;
	/* USB input nodes go with their USB device: not worth a row each. */
	if (ev.dev->kind == DEV_EVDEV && match_never_reason(ev.dev)) {
		device_free(ev.dev);
		return -ENOTSUP;
	}
	load_config(paths->config, &ev.cfg, &ev.config_error);
	r = store(paths, devpath, &ev);
	config_free(ev.cfg);
	free(ev.config_error);
	device_free(ev.dev);
	return r;
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

int main(int argc, char **argv)
{
	const char *action = getenv("ACTION");
	const char *devpath = getenv("DEVPATH");
	struct paths paths;
	int r;

	log_open("vhotplug-helper", LOG_TARGET_SYSLOG);
	paths_init(&paths);
	if (parse_args(argc, argv, &paths))
		return 0;
	if (!action || !devpath) {
		log_err("ACTION and DEVPATH are not set: this program is run by udev");
		return 0;
	}
	if (!streq(action, "add") && !streq(action, "remove"))
		return 0;
	r = streq(action, "add") ? handle_add(&paths, devpath) : store(&paths, devpath, NULL);
	if (r == -ENOTSUP) {
		log_debug("%s: not a device vhotplug handles", devpath);
		return 0;
	}
	if (r < 0) {
		log_err("%s %s: NOT recorded: %s%s", action, devpath, strerror(-r),
			r == -EBUSY ? " (database locked for more than 100 ms)" : "");
		return 0;
	}
	r = wake_statd(&paths, "intent");
	if (r < 0)
		log_debug("statd not woken (%s): it drains the queue when it starts", strerror(-r));
	return 0;
}
