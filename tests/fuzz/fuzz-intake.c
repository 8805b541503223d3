/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the helper's event-to-record path. The input is a udev event
 * environment, one KEY=VALUE a line. libudev builds the device from it as
 * the helper does for a device already gone (udev_device_new_from_environment),
 * then come the device record, its escaped label, the rules, and the rows
 * intake writes, into an in-memory database rolled back after each input.
 *
 * DEVPATH is put below a directory that does not exist, so no sysfs file of
 * this machine is ever read ("x/../.." cannot climb out of a missing "x").
 */
#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "device.h"
#include "fuzz.h"
#include "intake.h"
#include "log.h"
#include "macro.h"
#include "match.h"

#define FUZZ_MAX_VARS 64
#define FUZZ_DEVPATH_ROOT "/devices/vhotplug-fuzz-missing"

extern char **environ;

/* One rule set of each kind and one with allowedVms, so every record path is taken. */
static const char fuzz_config[] =
	"{\"usbPassthrough\":["
	"{\"targetVm\":\"vm1\",\"allow\":[{\"interfaceClass\":3},{\"vendorName\":\"Logi.*\"}],"
	"\"deny\":[{\"vendorId\":\"dead\",\"productId\":\"beef\"}]},"
	"{\"allowedVms\":[\"vm1\",\"vm2\"],\"allow\":[{\"productName\":\".*[Cc]am.*\"},{\"bus\":3,\"port\":2}]}],"
	"\"pciPassthrough\":[{\"targetVm\":\"vm2\",\"allow\":[{\"vendorId\":\"8086\"},"
	"{\"address\":\"0000:00:14.3\"},{\"deviceClass\":2}]}],"
	"\"evdevPassthrough\":[{\"targetVm\":\"vm1\",\"allow\":[{\"name\":\".*keyboard\"},"
	"{\"property\":\"ID_INPUT_MOUSE\"},{\"pathTag\":\".*i8042.*\"}]}],"
	"\"vms\":[{\"name\":\"vm1\",\"type\":\"qemu\",\"socket\":\"/run/vm1.sock\"},"
	"{\"name\":\"vm2\",\"type\":\"crosvm\",\"socket\":\"/run/vm2.sock\"}]}";

struct fixture {
	struct udev *udev;
	struct config *cfg;
	struct db *db;
};

static struct fixture *fixture(void)
{
	static struct fixture f;
	char path[] = "/tmp/vhotplug-fuzz-intake.XXXXXX";
	int fd;

	if (f.db)
		return &f;
	log_set_max_level(LOG_CRIT);
	fd = mkstemp(path);
	if (fd < 0 || write(fd, fuzz_config, strlen(fuzz_config)) != (ssize_t)strlen(fuzz_config))
		abort();
	close(fd);
	if (config_load(path, &f.cfg, stderr) < 0)
		abort();
	unlink(path);
	f.udev = udev_new();
	if (!f.udev || db_open(":memory:", 0, DB_RELAXED, &f.db) < 0)
		abort();
	return &f;
}

/*
 * Split TEXT (modified) into environment entries; DEVPATH is confined,
 * ACTION and SEQNUM defaulted. libudev writes into the strings: all must be
 * writable, the defaults too.
 */
static int environment(char *text, char **vars, char *defaults, char *devpath, size_t devpath_size)
{
	int n = 0;

	strcpy(defaults, "ACTION=add");
	strcpy(defaults + 11, "SEQNUM=1");
	vars[n++] = defaults;
	vars[n++] = defaults + 11;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && n < FUZZ_MAX_VARS - 2;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "DEVPATH=", 8) == 0) {
			snprintf(devpath, devpath_size, "DEVPATH=" FUZZ_DEVPATH_ROOT "%s%s",
				 line[8] == '/' ? "" : "/", line + 8);
			vars[n++] = devpath;
		} else {
			vars[n++] = line;
		}
	}
	vars[n] = NULL;
	return n;
}

static void record(struct fixture *f, const struct device *dev)
{
	_cleanup_free_ char *label = device_describe(dev);
	struct match_result m;

	if (!label)
		abort();
	match_device(f->cfg, dev, &m, NULL);
	match_never_reason(dev);
	device_property(dev, "ID_INPUT_KEYBOARD");
	if (db_begin(f->db) < 0)
		abort();
	/* Errors are allowed (a constraint on hostile data), crashes and leaks are not. */
	intake_add(f->db, f->cfg, NULL, dev, HISTORY_PLUGGED);
	intake_add(f->db, NULL, "config: fuzz", dev, HISTORY_PRESENT);
	intake_remove(f->db, dev->devpath);
	db_rollback(f->db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fixture *f = fixture();
	_cleanup_free_ char *text = malloc(size + 1);
	char devpath[4096], defaults[32];
	char *vars[FUZZ_MAX_VARS];
	char **saved = environ;
	struct udev_device *ud;
	struct device *dev = NULL;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';	/* a NUL inside ends the text early, as in a real environment */
	environment(text, vars, defaults, devpath, sizeof(devpath));
	environ = vars;
	ud = udev_device_new_from_environment(f->udev);
	environ = saved;
	if (!ud)
		return 0;
	if (device_from_udev(ud, &dev) == 0) {
		record(f, dev);
		device_free(dev);
	}
	udev_device_unref(ud);
	return 0;
}
