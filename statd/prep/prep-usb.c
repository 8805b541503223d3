/* SPDX-License-Identifier: Apache-2.0 */
/*
 * USB: never a hub or a device that backs a mount, swap or the boot disk
 * (lib/safety.c), whatever the rules say. With usbAuthorization, the device
 * is authorized here, just before its device_add, and deauthorized when it
 * did not end up in the VM or left it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "macro.h"
#include "prep.h"
#include "prep-private.h"
#include "safety.h"
#include "usbauth.h"

/*
 * The device goes to a VM: it must never bind a host driver, not even
 * between its authorization and QEMU's claim. interface_authorized_default
 * (its root hub's: the kernel keeps it per bus) 0 first, so its interfaces
 * come up unauthorized and no driver probes them; then the device; then
 * its interfaces, as usbfs refuses to claim an unauthorized one for QEMU
 * (authorizing an interface does not probe drivers); then the bus default
 * back. Every write goes into one history row, authorized or, on failure,
 * authorization_failed (REASON then goes to attach_failed).
 */
static int authorize(struct db *db, const struct vmm_job *j, char *reason, size_t size)
{
	char hub[64], done[512] = "", detail[1024];
	const char *dev = usbauth_name(j->devpath);
	int old = -1, r;
	bool lowered;
	size_t n = 0;

	if (usbauth_root_hub(j->sysname, hub, sizeof(hub)) == 0)
		old = usbauth_get(hub, "interface_authorized_default");
	r = old == 1 ? usbauth_set(hub, "interface_authorized_default", "0") : 0;
	if (r < 0)
		snprintf(reason, size, "cannot authorize it: %s/interface_authorized_default: %s",
			 usbauth_name(hub), usbauth_strerror(r));
	lowered = old == 1 && r == 0;
	if (lowered)
		usbauth_append(done, sizeof(done), "%s/interface_authorized_default 0", usbauth_name(hub));
	if (r == 0 && (r = usbauth_set(j->devpath, "authorized", "1")) < 0)
		snprintf(reason, size, "cannot authorize it: %s/authorized: %s", dev, usbauth_strerror(r));
	else if (r == 0)
		usbauth_append(done, sizeof(done), "%s/authorized 1", dev);
	if (r == 0) {
		r = usbauth_interfaces_set(j->devpath, "1", &n);
		if (n)
			usbauth_append(done, sizeof(done), "%zu interface%s of %s authorized", n, n == 1 ? "" : "s", dev);
		if (r < 0)
			snprintf(reason, size, "cannot authorize the interfaces of %s: %s", dev,
				 usbauth_strerror(r));
	}
	/* The bus default back, whatever happened: the other devices on the bus must not pay. */
	if (lowered && usbauth_set(hub, "interface_authorized_default", "1") == 0)
		usbauth_append(done, sizeof(done), "%s/interface_authorized_default 1", usbauth_name(hub));
	else if (lowered)
		log_warn("%s: %s/interface_authorized_default stays 0", j->label, usbauth_name(hub));
	if (r < 0)
		snprintf(detail, sizeof(detail), "%s%s%s", reason, done[0] ? "; written: " : "", done);
	else
		snprintf(detail, sizeof(detail), "for %s, just before its device_add: %s", j->vm, done);
	db_history_add(db, j->device_id, j->label,
		       r < 0 ? HISTORY_AUTHORIZATION_FAILED : HISTORY_AUTHORIZED, j->vm, detail);
	return r;
}

int prep_usb_prepare(struct db *db, const struct config *cfg, const struct vmm_job *j,
		     char *reason, size_t size)
{
	char why[256];
	int r;

	if (!j->devpath[0]) {
		snprintf(reason, size, "cannot tell whether it is safe to pass: no sysfs path");
		return PREP_REFUSED;
	}
	r = safety_check_usb(j->devpath, why, sizeof(why));
	/*
	 * Gone from sysfs: it backs nothing and is no hub here now (hubs are
	 * refused by the helper from the event, too); its remove event follows.
	 */
	if (r == -ENOENT)
		return PREP_READY;
	if (r < 0) {
		snprintf(reason, size, "cannot tell whether it is safe to pass: %s", strerror(-r));
		return PREP_REFUSED;
	}
	if (r > 0) {
		snprintf(reason, size, "never passed to a VM: it %s", why);
		return PREP_REFUSED;
	}
	if (cfg->usb_auth.enabled && usbauth_get(j->devpath, "authorized") != 1) {
		r = authorize(db, j, reason, size);
		if (r < 0)
			return r;
	}
	return PREP_READY;
}

/*
 * Out of the VM, or never in it: the device is unauthorized again, unless
 * it is not ours to take (never passed: the boot disk), or not authorized.
 */
int prep_usb_restore(struct db *db, const struct config *cfg, const struct vmm_job *j,
		     char *detail, size_t size)
{
	char why[256], row[512];
	int r;

	if (!cfg->usb_auth.enabled || !j->devpath[0] || usbauth_get(j->devpath, "authorized") != 1)
		return 0;
	if (safety_check_usb(j->devpath, why, sizeof(why)) != 0)
		return 0;
	r = usbauth_set(j->devpath, "authorized", "0");
	if (r < 0) {
		snprintf(detail, size, "cannot deauthorize it: %s/authorized: %s",
			 usbauth_name(j->devpath), usbauth_strerror(r));
		return r;
	}
	snprintf(row, sizeof(row), "%s %s: %s/authorized 0",
		 j->detach ? "it left" : "its attach did not end in", j->vm, usbauth_name(j->devpath));
	db_history_add(db, j->device_id, j->label, HISTORY_DEAUTHORIZED, j->vm, row);
	return 0;
}
