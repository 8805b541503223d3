/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the input is a config file. It is loaded the way statd and
 * the helper load theirs, and when it loads, three fixed devices (USB, PCI,
 * evdev) go through the matcher with its explanation on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config-json.h"
#include "config.h"
#include "device.h"
#include "fuzz.h"
#include "log.h"
#include "match.h"

#include <json-c/json.h>

static struct dev_property keyboard_props[] = {
	{ "ID_INPUT", "1" },
	{ "ID_INPUT_KEY", "1" },
	{ "ID_INPUT_KEYBOARD", "1" },
	{ "ID_PATH_TAG", "platform-i8042-serio-0" },
};

static const struct device devices[] = {
	{
		.kind = DEV_USB, .syspath = "/sys/devices/pci0000:00/0000:00:14.0/usb3/3-2.1",
		.devpath = "/devices/pci0000:00/0000:00:14.0/usb3/3-2.1", .sysname = "3-2.1",
		.vendor_id = 0x046d, .product_id = 0xc077, .vendor_name = "Logitech, Inc.",
		.product_name = "M105 Optical Mouse", .serial = "0001", .busnum = 3, .devnum = 7,
		.ports = { 2, 1 }, .n_ports = 2, .dev_class = 0, .dev_subclass = 0, .dev_protocol = 0,
		.ifaces = { { 3, 1, 2 }, { 14, 1, 0 } }, .n_ifaces = 2, .removable = "removable",
		.iommu_group = -1,
	},
	{
		.kind = DEV_PCI, .syspath = "/sys/devices/pci0000:00/0000:00:14.3",
		.devpath = "/devices/pci0000:00/0000:00:14.3", .sysname = "0000:00:14.3",
		.vendor_id = 0x8086, .product_id = 0xa0f0, .dev_class = 2, .dev_subclass = 0x80,
		.dev_protocol = 0, .busnum = -1, .devnum = -1, .driver = "iwlwifi", .iommu_group = 12,
	},
	{
		.kind = DEV_EVDEV, .syspath = "/sys/devices/platform/i8042/serio0/input/input3/event3",
		.devpath = "/devices/platform/i8042/serio0/input/input3/event3", .sysname = "event3",
		.devnode = "/dev/input/event3", .vendor_id = -1, .product_id = -1, .dev_class = -1,
		.dev_subclass = -1, .dev_protocol = -1, .busnum = -1, .devnum = -1, .iommu_group = -1,
		.name = "AT Translated Set 2 keyboard", .path_tag = "platform-i8042-serio-0",
		.props = keyboard_props, .n_props = 4,
	},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	static FILE *sink;
	struct config *cfg;

	if (fd < 0) {
		/* The loader reads a path: a memfd is one without touching the disk. */
		fd = memfd_create("fuzz-config.json", MFD_CLOEXEC);
		sink = fopen("/dev/null", "w");
		if (fd < 0 || !sink)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		log_set_max_level(LOG_CRIT);	/* warnings about ignored keys */
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (config_load(path, &cfg, sink) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		struct match_result m;

		if (!match_device(cfg, &devices[i], &m, sink))
			continue;
		if (m.set->target_vm)
			config_find_vm(cfg, m.set->target_vm);
		json_object_put(config_allowed_vms_json(m.set));
	}
	config_free(cfg);
	return 0;
}
