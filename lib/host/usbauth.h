/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * usbAuthorization's sysfs side: the kernel's USB authorization attributes
 * (authorized, authorized_default, interface_authorized_default), read and
 * written through sysfs.c only: relative to the device's directory fd, a
 * symbolic link where the attribute should be refused (O_NOFOLLOW), the
 * whole value written in one write(2) and read back.
 *
 * Who writes what (README "USB authorization"): statd the defaults at start
 * and reload, and a device just before its device_add and after it left its
 * VM; the helper a hub or a hostAllow device, one write per event.
 */
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "device.h"
#include "macro.h"

/* usbcore's default for new devices, relative to the sysfs root (VHOTPLUG_SYSFS_ROOT). */
#define USBAUTH_USBCORE_DEFAULT "module/usbcore/parameters/authorized_default"

/*
 * ATTR of the device directory DIR ("/devices/...", "/sys/...", or relative
 * to sysfs): 0, 1, or -errno (-EBADMSG: it holds something else).
 */
int usbauth_get(const char *dir, const char *attr);

/*
 * Write VALUE ("0", "1") to ATTR of DIR. 0, or -errno: -ELOOP when ATTR is
 * a symbolic link, -EREMOTEIO when the kernel kept another value.
 */
int usbauth_set(const char *dir, const char *attr, const char *value);

/* Why usbauth_set() failed, for history: -ELOOP is named for what it is. */
const char *usbauth_strerror(int r);

/* "1-3", "usb1": the last component of DIR, for history details. */
const char *usbauth_name(const char *dir);

/* A hub (device class or an interface of class 9): authorized, so that what is behind it enumerates. */
bool usbauth_is_hub(const struct device *dev);

/* The first enabled usbAuthorization.hostAllow rule that takes DEV; NULL also when it is off. */
const struct rule *usbauth_host_rule(const struct config *cfg, const struct device *dev);

/* The root hub of the device SYSNAME ("3-2.1"), as "bus/usb/devices/usb3", into BUF. */
int usbauth_root_hub(const char *sysname, char *buf, size_t size);

/*
 * Write VALUE to the authorized attribute of every interface of the device
 * at DIR ("1-3:1.0", ...); *N says how many were written. 0 or the first -errno.
 */
int usbauth_interfaces_set(const char *dir, const char *value, size_t *n);

/*
 * RULE (a hostAllow rule that takes DEV) names interface fields that some
 * interface of DEV lacks: the host gets only the interfaces it names, which
 * takes statd's writes (usbauth_interfaces_allow), not the helper's one.
 */
bool usbauth_by_interface(const struct rule *rule, const struct device *dev);

/*
 * Each interface of the device at DIR whose class/subclass/protocol RULE
 * names: authorized 1, then its name to bus/usb/drivers_probe (authorizing
 * an interface binds no driver by itself). The others are not written. DONE
 * gets what was written, SKIPPED the interfaces left alone, comma-separated.
 * 0 or the first -errno.
 */
int usbauth_interfaces_allow(const char *dir, const struct rule *rule, char *done, size_t dsize,
			     char *skipped, size_t ssize);

/*
 * The device at DIR is authorized already (before usbAuthorization was on):
 * each interface RULE does not name gets authorized 0, which unbinds its
 * driver. DONE gets what was written. 0 or the first -errno.
 */
int usbauth_interfaces_deny_others(const char *dir, const struct rule *rule, char *done,
				   size_t size);

/* Append to BUF ("a, b"), comma-separated; what does not fit is cut. */
void usbauth_append(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
