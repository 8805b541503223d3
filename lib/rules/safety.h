/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/*
 * Devices that are never passed to a VM, whatever the rules say: a USB hub
 * (it would take every device behind it), and a USB device that backs a
 * mounted filesystem (the root or /boot disk above all) or active swap.
 *
 * SYSPATH is the USB device's syspath as libudev reports it
 * ("/sys/devices/.../2-2"); sysfs is read under sysfs_root(), and
 * /proc/self/mountinfo and /proc/swaps under $VHOTPLUG_PROC_ROOT (default
 * /proc), so tests can supply both.
 *
 * Returns 0 when the device may be passed, 1 when it must not be, with the
 * reason in REASON ("is a USB hub", "backs the filesystem mounted at /boot"),
 * or -errno when the question cannot be answered (treat that as a refusal).
 */
int safety_check_usb(const char *syspath, char *reason, size_t size);
