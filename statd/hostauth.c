/* SPDX-License-Identifier: Apache-2.0 */
/* hostAllow rules that name interfaces: see hostauth.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "log.h"
#include "macro.h"
#include "usbauth.h"
#include "hostauth.h"

struct pending {
	int64_t intent_id, device_id;
	char *label, *devpath;
};

struct pending_list {
	struct pending *v;
	size_t n;
	int64_t last_id;	/* of every open intent read */
};

static int collect(void *userdata, const struct db_pending *p)
{
	struct pending_list *l = userdata;
	struct pending *nv;

	if (p->intent_id > l->last_id)
		l->last_id = p->intent_id;
	if (p->action != INTENT_IGNORE)
		return 0;
	nv = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	if (!nv)
		return -ENOMEM;
	l->v = nv;
	nv[l->n] = (struct pending){ .intent_id = p->intent_id, .device_id = p->device_id,
				     .label = strdup(p->label ?: ""),
				     .devpath = strdup(p->devpath ?: "") };
	return nv[l->n++].label && nv[l->n - 1].devpath ? 0 : -ENOMEM;
}

/* In the order that keeps every interface away from host drivers until it is one the rule names. */
int hostauth_authorize(const struct device *dev, const struct rule *rule, char *detail, size_t size)
{
	char hub[64], done[1024] = "", skipped[512] = "", err[256] = "";
	const char *name = usbauth_name(dev->devpath);
	int old = -1, r;
	bool lowered;

	r = usbauth_root_hub(dev->sysname, hub, sizeof(hub));
	if (r == 0)
		r = old = usbauth_get(hub, "interface_authorized_default");
	/* Unknown, every interface would come up for the host's drivers: not authorized at all. */
	if (r < 0)
		snprintf(err, sizeof(err), "cannot read the interface_authorized_default of its root "
			 "hub: %s", usbauth_strerror(r));
	else if (old == 1 && (r = usbauth_set(hub, "interface_authorized_default", "0")) < 0)
		snprintf(err, sizeof(err), "cannot write %s/interface_authorized_default: %s",
			 usbauth_name(hub), usbauth_strerror(r));
	else
		r = 0;
	lowered = old == 1 && r == 0;
	if (lowered)
		usbauth_append(done, sizeof(done), "%s/interface_authorized_default 0", usbauth_name(hub));
	if (r == 0 && (r = usbauth_set(dev->devpath, "authorized", "1")) < 0)
		snprintf(err, sizeof(err), "cannot write %s/authorized: %s", name, usbauth_strerror(r));
	else if (r == 0)
		usbauth_append(done, sizeof(done), "%s/authorized 1", name);
	if (r == 0 && (r = usbauth_interfaces_allow(dev->devpath, rule, done, sizeof(done), skipped,
						     sizeof(skipped))) < 0)
		snprintf(err, sizeof(err), "cannot authorize the interfaces of %s: %s", name,
			 usbauth_strerror(r));
	/* The bus default back, whatever happened: the other devices on the bus must not pay. */
	if (lowered && usbauth_set(hub, "interface_authorized_default", "1") == 0)
		usbauth_append(done, sizeof(done), "%s/interface_authorized_default 1", usbauth_name(hub));
	else if (lowered)
		log_warn("%s: %s/interface_authorized_default stays 0", name, usbauth_name(hub));
	snprintf(detail, size, "for the host: %s (%s), only the interfaces it names: %s%s%s%s%s",
		 rule->path, rule->description ?: "", err, err[0] && done[0] ? "; written: " : "", done,
		 skipped[0] ? "; left unauthorized: " : "", skipped);
	return r;
}

/* One intent: its writes, then its history row and its close in one transaction. */
static int run_one(struct db *db, const struct config *cfg, struct udev *udev,
		   const struct pending *p)
{
	char syspath[DEVICE_DEVPATH_MAX + 8], detail[2048];
	struct udev_device *ud;
	struct device *dev = NULL;
	const struct rule *rule = NULL;
	enum history_event event = HISTORY_EVENT_INVALID;
	enum intent_state state = INTENT_DONE;
	int r;

	snprintf(syspath, sizeof(syspath), "/sys%s", p->devpath);
	ud = p->devpath[0] ? udev_device_new_from_syspath(udev, syspath) : NULL;
	r = ud ? device_from_udev(ud, &dev) : -ENODEV;
	udev_device_unref(ud);
	if (r < 0 && r != -ENODEV && r != -ENOTSUP)
		return r;
	if (dev)
		rule = usbauth_host_rule(cfg, dev);
	if (!dev) {
		state = INTENT_CANCELLED;
		snprintf(detail, sizeof(detail), "gone before its interfaces were authorized");
	} else if (usbauth_get(dev->devpath, "authorized") == 1) {
		/* statd's start got there first (deauthorizeUnmatched): its writes are done. */
		snprintf(detail, sizeof(detail), "authorized already: nothing written");
	} else if (!rule || !usbauth_by_interface(rule, dev)) {
		/* The config changed since the plug: what the helper would do now is a reload's. */
		snprintf(detail, sizeof(detail), "no hostAllow rule takes only some of its interfaces"
			 " now: left as it is");
	} else {
		r = hostauth_authorize(dev, rule, detail, sizeof(detail));
		event = r < 0 ? HISTORY_AUTHORIZATION_FAILED : HISTORY_AUTHORIZED;
		state = r < 0 ? INTENT_FAILED : INTENT_DONE;
		if (r < 0)
			log_warn("%s: %s", p->label, detail);
		else
			log_info("%s: %s", p->label, detail);
	}
	device_free(dev);
	r = db_begin(db);
	if (r == 0 && event != HISTORY_EVENT_INVALID)
		r = db_history_add(db, p->device_id, p->label, event, NULL, detail);
	if (r == 0)
		r = db_intent_finish(db, p->intent_id, state, detail);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r;
}

int hostauth_run(struct db *db, const struct config *cfg, struct udev *udev, int64_t *upto)
{
	struct pending_list l = { .last_id = *upto };
	/* Read first, then write: the statement is not kept open across writes. */
	int r = db_intents_pending(db, *upto, collect, &l);

	for (size_t i = 0; i < l.n; i++) {
		if (r == 0)
			r = run_one(db, cfg, udev, &l.v[i]);
		free(l.v[i].label);
		free(l.v[i].devpath);
	}
	free(l.v);
	if (r == 0)
		*upto = l.last_id;
	return r;
}
