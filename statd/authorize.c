/* SPDX-License-Identifier: Apache-2.0 */
/* usbAuthorization at statd's start and reload: see authorize.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"
#include "log.h"
#include "macro.h"
#include "present.h"
#include "safety.h"
#include "sysfs.h"
#include "usbauth.h"
#include "authorize.h"
#include "hostauth.h"

/* One history row for a write to PATH (DEVICE, LABEL when known); failures also logged. */
static void note(struct db *db, int64_t device, const char *label, enum history_event event,
		 const char *detail)
{
	if (event == HISTORY_AUTHORIZATION_FAILED)
		log_warn("%s: %s", label, detail);
	else
		log_info("%s: %s", label, detail);
	if (db_history_add(db, device, label, event, NULL, detail) < 0)
		log_err("%s: not recorded in history: %s", label, detail);
}

/* DIR/ATTR, an authorized_default, to 0: what it held saved first, so "off" can give it back. */
static void default_off(struct db *db, const char *dir, const char *label)
{
	char path[512], old[16], detail[640];
	int r = sysfs_read(dir, "authorized_default", old, sizeof(old));

	snprintf(path, sizeof(path), "%s/authorized_default", dir);
	if (r == -ENOENT) {
		log_debug("%s: no such file: nothing to turn off", path);
		return;
	}
	if (r >= 0)
		r = db_usbauth_save(db, path, old);
	if (r >= 0 && streq(old, "0"))
		return;
	if (r >= 0)
		r = usbauth_set(dir, "authorized_default", "0");
	if (r < 0) {
		snprintf(detail, sizeof(detail), "usbAuthorization on: cannot set %s to 0: %s", path,
			 usbauth_strerror(r));
		note(db, 0, label, HISTORY_AUTHORIZATION_FAILED, detail);
		return;
	}
	snprintf(detail, sizeof(detail), "usbAuthorization on: %s 0 (it was %s)", path, old);
	note(db, 0, label, HISTORY_DEAUTHORIZED, detail);
}

/* usbcore's default, then each root hub's ("usb1", ...: bus/usb/devices has them by name). */
static void defaults_off(struct db *db)
{
	char devices[512], dir[300];
	struct dirent *e;
	DIR *d;

	default_off(db, "module/usbcore/parameters", "usbcore");
	if (sysfs_path(devices, sizeof(devices), "bus/usb/devices") < 0 || !(d = opendir(devices))) {
		log_warn("cannot list the USB root hubs: %m");
		return;
	}
	while ((e = readdir(d)))
		if (strncmp(e->d_name, "usb", 3) == 0 &&
		    snprintf(dir, sizeof(dir), "bus/usb/devices/%s", e->d_name) < (int)sizeof(dir))
			default_off(db, dir, e->d_name);
	closedir(d);
}

struct sweep {
	struct db *db;
	const struct config *cfg;
	bool unmatched;		/* deauthorizeUnmatched */
};

/* DEV's label and id in the database, or as it describes itself (id 0). */
static char *device_label(struct db *db, const struct device *dev, int64_t *id)
{
	_cleanup_free_ char *ident = ident_make(dev);
	char *label = NULL;

	*id = 0;
	if (!ident || db_device_find(db, ident, id, &label) < 0 || !label) {
		free(label);
		label = device_describe(dev);
	}
	return label;
}

/* Write VALUE to DEV's authorized, unless it holds it: a history row with WHY. */
static void device_set(struct db *db, const struct device *dev, const char *value, const char *why)
{
	_cleanup_free_ char *label = NULL;
	char detail[640];
	int64_t id = 0;
	int r;

	if (usbauth_get(dev->devpath, "authorized") == value[0] - '0')
		return;
	label = device_label(db, dev, &id);
	r = usbauth_set(dev->devpath, "authorized", value);
	if (r < 0)
		snprintf(detail, sizeof(detail), "%s: cannot write %s/authorized: %s", why, dev->sysname,
			 usbauth_strerror(r));
	else
		snprintf(detail, sizeof(detail), "%s: %s/authorized %s", why, dev->sysname, value);
	note(db, id, label ?: dev->sysname, r < 0 ? HISTORY_AUTHORIZATION_FAILED :
	     value[0] == '1' ? HISTORY_AUTHORIZED : HISTORY_DEAUTHORIZED, detail);
}

/*
 * A hostAllow rule HOST that names only some of DEV's interfaces: an
 * unauthorized device gets those (statd/hostauth.c), one authorized from
 * before loses the others.
 */
static void by_interface(struct db *db, const struct device *dev, const struct rule *host)
{
	_cleanup_free_ char *label = NULL;
	char detail[2304], done[1024] = "";
	enum history_event event;
	int64_t id;
	int r;

	if (usbauth_get(dev->devpath, "authorized") != 1) {
		r = hostauth_authorize(dev, host, done, sizeof(done));
		snprintf(detail, sizeof(detail), "usbAuthorization on: %s", done);
		event = r < 0 ? HISTORY_AUTHORIZATION_FAILED : HISTORY_AUTHORIZED;
	} else {
		r = usbauth_interfaces_deny_others(dev->devpath, host, done, sizeof(done));
		if (r == 0 && !done[0])
			return;
		snprintf(detail, sizeof(detail), "deauthorizeUnmatched: the interfaces %s (%s) does "
			 "not name: %s%s%s%s", host->path, host->description ?: "",
			 r < 0 ? "cannot write: " : "", r < 0 ? usbauth_strerror(r) : "",
			 r < 0 && done[0] ? "; written: " : "", done);
		event = r < 0 ? HISTORY_AUTHORIZATION_FAILED : HISTORY_DEAUTHORIZED;
	}
	label = device_label(db, dev, &id);
	note(db, id, label ?: dev->sysname, event, detail);
}

static int sweep_one(void *userdata, const struct device *dev, const struct match_result *m)
{
	struct sweep *s = userdata;
	const struct rule *host;
	char why[256];
	bool in_vm = false;

	(void)m;
	if (dev->kind != DEV_USB || !dev->devpath)
		return 0;
	if (usbauth_is_hub(dev)) {
		device_set(s->db, dev, "1",
			   "usbAuthorization on: a hub, so that the devices behind it enumerate");
		return 0;
	}
	if (!s->unmatched)
		return 0;
	/* The original keeps its boot disk; this keeps whatever backs a mount or swap. */
	if (dev->syspath && safety_check_usb(dev->syspath, why, sizeof(why)) != 0)
		return 0;
	if (db_usbauth_in_vm(s->db, dev->devpath, &in_vm) < 0 || in_vm)
		return 0;
	host = usbauth_host_rule(s->cfg, dev);
	if (host && usbauth_by_interface(host, dev)) {
		by_interface(s->db, dev, host);
	} else if (host) {
		snprintf(why, sizeof(why), "usbAuthorization on: for the host: %s (%s)", host->path,
			 host->description ?: "");
		device_set(s->db, dev, "1", why);
	} else {
		device_set(s->db, dev, "0",
			   "deauthorizeUnmatched: no VM has it and no hostAllow rule takes it");
	}
	return 0;
}

static void turn_on(struct db *db, const struct config *cfg)
{
	struct sweep s = { .db = db, .cfg = cfg, .unmatched = cfg->usb_auth.deauthorize_unmatched };

	log_info("usbAuthorization: on");
	defaults_off(db);
	if (present_each(cfg, sweep_one, &s) < 0)
		log_warn("usbAuthorization: cannot list the USB devices: hubs not authorized");
}

struct saved {
	char *path;
	char *value;
};

static int collect(void *userdata, const char *path, const char *value)
{
	struct saved **v = userdata;
	size_t n = 0;
	struct saved *nv;

	while ((*v)[n].path)
		n++;
	nv = realloc(*v, (n + 2) * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[n] = (struct saved){ .path = strdup(path), .value = strdup(value) };
	nv[n + 1] = (struct saved){ 0 };
	return nv[n].path && nv[n].value ? 0 : -ENOMEM;
}

/* Each saved default back; one that cannot be written stays saved, for the next start or reload. */
static void turn_off(struct db *db)
{
	struct saved *v = calloc(1, sizeof(*v));
	char detail[640];
	int r = v ? db_usbauth_saved_each(db, collect, &v) : -ENOMEM;

	if (r < 0)
		log_err("usbAuthorization: cannot read the saved authorized_default values: %s",
			strerror(-r));
	for (size_t i = 0; r == 0 && v[i].path; i++) {
		char *slash = strrchr(v[i].path, '/');
		char label[64] = "usbcore";
		int w;

		if (!slash)
			continue;
		*slash = '\0';
		/* As turn_on named them: "usbcore", or the root hub ("usb1"). */
		if (!strstr(v[i].path, "usbcore"))
			snprintf(label, sizeof(label), "%s", usbauth_name(v[i].path));
		w = usbauth_set(v[i].path, slash + 1, v[i].value);
		*slash = '/';
		/* Gone (a root hub unplugged): nothing to give back. */
		if (w == 0 || w == -ENOENT)
			db_usbauth_forget(db, v[i].path);
		if (w == -ENOENT)
			continue;
		if (w < 0)
			snprintf(detail, sizeof(detail), "usbAuthorization off: cannot set %s back to %s: %s",
				 v[i].path, v[i].value, usbauth_strerror(w));
		else
			snprintf(detail, sizeof(detail), "usbAuthorization off: %s back to %s", v[i].path,
				 v[i].value);
		note(db, 0, label, w < 0 ? HISTORY_AUTHORIZATION_FAILED :
		     streq(v[i].value, "0") ? HISTORY_DEAUTHORIZED : HISTORY_AUTHORIZED, detail);
	}
	for (size_t i = 0; v && v[i].path; i++) {
		free(v[i].path);
		free(v[i].value);
	}
	free(v);
}

void statd_usbauth_apply(struct db *db, const struct config *old, const struct config *cfg)
{
	bool was = old && old->usb_auth.enabled;

	if (cfg->usb_auth.enabled && !was)
		turn_on(db, cfg);
	else if (!cfg->usb_auth.enabled && (was || !old))
		turn_off(db);
}
