/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of lib/api's unit tests: the program runs again inside a umockdev
 * testbed of a few recordings (tests/data/NAME.umockdev, with the PCI parts
 * tests/pci-testbed.sh adds), on a fresh database, with a config from inline
 * JSON.
 */
#pragma once

#include <errno.h>
#include <json-c/json.h>
#include <libudev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api-private.h"
#include "config.h"
#include "db.h"
#include "device.h"
#include "ident.h"
#include "intake.h"
#include "macro.h"

/* The recordings every lib/api test runs with. */
static const char *const testbed_recordings[] = {
	"usb-mouse", "usb-webcam", "usb-hub", "pci-wifi", "pci-group",
};

/* One recording of them all, each device once (umockdev-run refuses one twice). */
static void testbed_merge(const char *srcdir, FILE *out)
{
	char seen[64][1024];
	size_t n_seen = 0;

	for (size_t i = 0; i < ARRAY_SIZE(testbed_recordings); i++) {
		char path[PATH_MAX], line[65536];
		bool skip = false, start = true;
		FILE *f;

		snprintf(path, sizeof(path), "%s/tests/data/%s.umockdev", srcdir, testbed_recordings[i]);
		f = fopen(path, "r");
		if (!f) {
			perror(path);
			exit(1);
		}
		while (fgets(line, sizeof(line), f)) {
			if (start && line[0] != '\n') {
				skip = false;
				for (size_t k = 0; k < n_seen && !skip; k++)
					skip = streq(seen[k], line);
				if (!skip && n_seen < ARRAY_SIZE(seen))
					snprintf(seen[n_seen++], sizeof(seen[0]), "%.1000s", line);
			}
			start = line[0] == '\n';
			if (!skip)
				fputs(line, out);
		}
		fputs("\n", out);
		fclose(f);
	}
}

/* Outside a testbed: run this program again inside one. Returns inside it. */
static void testbed_enter(char **argv)
{
	static char merged[] = "/tmp/vhotplug-test-api-XXXXXX";
	const char *srcdir = getenv("top_srcdir") ?: ".";
	char self[PATH_MAX], script[PATH_MAX + 64];
	ssize_t n;
	FILE *f;
	int fd;

	if (getenv("UMOCKDEV_DIR"))
		return;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	fd = mkstemp(merged);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (n <= 0 || !f) {
		perror("testbed");
		exit(1);
	}
	self[n] = '\0';
	testbed_merge(srcdir, f);
	fclose(f);
	snprintf(script, sizeof(script), ". '%s/tests/pci-testbed.sh'; rm -f '%s'; exec \"$@\"",
		 srcdir, merged);
	execlp("umockdev-run", "umockdev-run", "--device", merged, "--", "bash", "-c", script,
	       "bash", self, NULL);
	perror("umockdev-run");
	exit(1);
	(void)argv;
}

static struct config *config_from(const char *json)
{
	char path[] = "/tmp/vhotplug-test-api-cfg-XXXXXX";
	struct config *cfg = NULL;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, json, strlen(json)) != (ssize_t)strlen(json))
		abort();
	close(fd);
	if (config_load_flags(path, CONFIG_QUIET, &cfg, stderr) < 0) {
		fprintf(stderr, "config did not load: %s\n", json);
		abort();
	}
	unlink(path);
	return cfg;
}

/* A fresh database in DIR (a mkdtemp template, made here). */
static struct db *db_fresh(char *dir)
{
	char path[PATH_MAX];
	struct db *db = NULL;

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/vhotplug.db", dir);
	if (db_open(path, 1000, 0, &db) < 0)
		abort();
	return db;
}

static void db_gone(struct db *db, const char *dir)
{
	char cmd[PATH_MAX + 16];

	db_close(db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* The device at /sys/devices/... DEVPATH as the helper reads it; NULL when there is none. */
static struct device *device_at(const char *devpath)
{
	struct udev *udev = udev_new();
	char syspath[PATH_MAX];
	struct udev_device *ud;
	struct device *dev = NULL;

	snprintf(syspath, sizeof(syspath), "/sys%s", devpath);
	ud = udev ? udev_device_new_from_syspath(udev, syspath) : NULL;
	if (ud && device_from_udev(ud, &dev) < 0)
		dev = NULL;
	udev_device_unref(ud);
	udev_unref(udev);
	return dev;
}

/* The plug of the device at DEVPATH, recorded as the helper records it; its row id. */
static int64_t plug(struct db *db, const struct config *cfg, const char *devpath)
{
	struct device *dev = device_at(devpath);
	_cleanup_free_ char *ident = dev ? ident_make(dev) : NULL;
	int64_t id = 0;

	if (!ident || db_begin(db) < 0 || intake_add(db, cfg, NULL, dev, HISTORY_PLUGGED) < 0 ||
	    db_commit(db) < 0 || db_device_find(db, ident, &id, NULL) < 0 || !id)
		abort();
	device_free(dev);
	return id;
}

/* JSON as one line, keys in their order, "/" not escaped: what a byte comparison sees. */
static const char *text_of(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* USB: the mouse to vm1 (tag mouse), the webcam to vm1 or vm2 (tag cam); PCI: the NIC with its group, the Wi-Fi. */
static const char config_json[] =
	"{\"usbPassthrough\":["
	"{\"targetVm\":\"vm1\",\"tag\":\"mouse\",\"allow\":[{\"vendorId\":\"046d\",\"productId\":\"c077\"}]},"
	"{\"allowedVms\":[\"vm1\",\"vm2\"],\"tag\":\"cam\",\"allow\":[{\"vendorId\":\"04f2\"}]},"
	"{\"targetVm\":\"vm1\",\"allow\":[{\"deviceClass\":9}]}],"
	"\"pciPassthrough\":["
	"{\"targetVm\":\"vm2\",\"tag\":\"nic\",\"pciIommuAddAll\":true,"
	"\"allow\":[{\"address\":\"0000:06:00.0\"}]},"
	"{\"targetVm\":\"vm1\",\"tag\":\"wifi\",\"allow\":[{\"address\":\"0000:00:14.3\"}]}],"
	"\"vms\":[{\"name\":\"vm1\",\"type\":\"qemu\",\"socket\":\"/run/vm1.sock\"},"
	"{\"name\":\"vm2\",\"type\":\"qemu\",\"socket\":\"/run/vm2.sock\"}]}";

#define MOUSE "/devices/pci0000:00/0000:00:14.0/usb1/1-3"
#define WEBCAM "/devices/pci0000:00/0000:00:14.0/usb1/1-6"
#define HUB "/devices/pci0000:00/0000:00:14.0/usb1/1-1"
#define WIFI "/devices/pci0000:00/0000:00:14.3"
#define NIC "/devices/pci0000:00/0000:00:1c.4/0000:05:00.0/0000:06:00.0"

/*
 * The objects the original's USBInfo.to_dict() and PCIInfo.to_dict()
 * (vhotplug/usb.py, vhotplug/pci.py) make of these recordings: its keys in
 * its order, vid/pid as udev's ID_VENDOR_ID/ID_MODEL_ID, PCI vid/did as the
 * kernel's PCI_ID, names from the hwdb first, integers where it calls int().
 */
#define MOUSE_OBJ                                                                        \
	"{\"device_node\":\"/dev/bus/usb/001/004\",\"vid\":\"046d\",\"pid\":\"c077\","   \
	"\"vendor_name\":\"Logitech, Inc.\",\"product_name\":\"Mouse\","                 \
	"\"interfaces\":\":030102:\",\"device_class\":0,\"device_subclass\":0,"          \
	"\"device_protocol\":0,\"busnum\":1,\"devnum\":4,\"portnum\":3,\"serial\":null," \
	"\"sys_name\":\"1-3\"}"
#define WEBCAM_OBJ                                                                          \
	"{\"device_node\":\"/dev/bus/usb/001/007\",\"vid\":\"04f2\",\"pid\":\"b604\","      \
	"\"vendor_name\":\"Chicony Electronics Co., Ltd\","                                 \
	"\"product_name\":\"Integrated Camera (1280x720@30)\","                             \
	"\"interfaces\":\":0e0100:0e0200:\",\"device_class\":239,\"device_subclass\":2,"    \
	"\"device_protocol\":1,\"busnum\":1,\"devnum\":7,\"portnum\":6,\"serial\":\"0001\"," \
	"\"sys_name\":\"1-6\"}"
#define WIFI_OBJ                                                                           \
	"{\"address\":\"0000:00:14.3\",\"driver\":\"iwlwifi\",\"vendor_id\":32902,"        \
	"\"device_id\":41200,\"vid\":\"8086\",\"did\":\"A0F0\","                           \
	"\"vendor_name\":\"Intel Corporation\",\"device_name\":\"Wi-Fi 6 AX201\","         \
	"\"pci_class\":2,\"pci_subclass\":128,\"pci_prog_if\":0,"                          \
	"\"pci_subsystem_vendor_id\":\"8086\",\"pci_subsystem_id\":\"0074\"}"
