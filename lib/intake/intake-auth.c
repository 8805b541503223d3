/* SPDX-License-Identifier: Apache-2.0 */
/*
 * usbAuthorization on the helper's add path: a hub, or a device a hostAllow
 * rule gives the host, is authorized here, as its event is recorded. One
 * sysfs write at most (a read first: an authorized device costs none), no
 * process, no VM: udev waits for us. A hostAllow rule that names only some
 * of a device's interfaces is statd's to carry out (record_by_interface).
 * A device for a VM is statd's to authorize, just before its device_add;
 * anything else stays as the kernel left it (authorized_default 0:
 * unauthorized).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "intake.h"
#include "log.h"
#include "macro.h"
#include "usbauth.h"

/*
 * Only the interfaces the rule names: more writes than ours (the bus's
 * interface default, the device, each interface, drivers_probe), so statd
 * does them. The pending intent is its queue, kept across a statd restart;
 * 'ignore', as the device stays out of every VM.
 */
static int record_by_interface(struct db *db, const struct device *dev, int64_t device_id,
			       const char *why)
{
	char rule[600];
	struct db_intent in = { .device_id = device_id, .action = INTENT_IGNORE,
				.state = INTENT_PENDING, .busnum = dev->busnum,
				.devnum = dev->devnum, .rule = rule };

	snprintf(rule, sizeof(rule), "%s, only the interfaces it names: statd authorizes them", why);
	return db_intent_add(db, &in, NULL);
}

int intake_authorize(struct db *db, const struct config *cfg, const struct device *dev,
		     int64_t device_id, const char *label)
{
	const struct rule *rule = NULL;
	char why[512];
	int r;

	if (!cfg || !cfg->usb_auth.enabled || dev->kind != DEV_USB || !dev->devpath)
		return 0;
	if (usbauth_is_hub(dev))
		snprintf(why, sizeof(why), "a hub: the devices behind it enumerate");
	else if ((rule = usbauth_host_rule(cfg, dev)))
		snprintf(why, sizeof(why), "for the host: %s (%s)", rule->path,
			 rule->description ?: "");
	else
		return 0;
	if (usbauth_get(dev->devpath, "authorized") == 1)
		return 0;
	if (rule && usbauth_by_interface(rule, dev))
		return record_by_interface(db, dev, device_id, why);
	r = usbauth_set(dev->devpath, "authorized", "1");
	if (r < 0) {
		/* The event is still recorded: only the host goes without the device. */
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "; cannot write %s/authorized: %s",
			 usbauth_name(dev->devpath), usbauth_strerror(r));
		log_warn("%s: not authorized, %s", label, why);
		return db_history_add(db, device_id, label, HISTORY_AUTHORIZATION_FAILED, NULL, why);
	}
	snprintf(why + strlen(why), sizeof(why) - strlen(why), "; %s/authorized 1",
		 usbauth_name(dev->devpath));
	return db_history_add(db, device_id, label, HISTORY_AUTHORIZED, NULL, why);
}
