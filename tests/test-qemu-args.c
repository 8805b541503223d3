/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statd/qemu-args: device_add arguments for vfio-pci and evdev, and reading
 * query-pci as captured from a real QEMU 7.2 (q35, qemu-xhci, pcie-root-ports
 * rp1..rp3, a virtio-rng-pci behind rp2):
 *   tests/data/query-pci-running.json  after the firmware ran: rp2 shows rng0
 *   tests/data/query-pci-paused.json   under -S: no port lists what is behind it
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "macro.h"
#include "qemu-args.h"

static struct json_object *load(const char *name)
{
	const char *src = getenv("top_srcdir");
	char p[512];
	struct json_object *o;

	snprintf(p, sizeof(p), "%s/tests/data/%s", src && *src ? src : ".", name);
	o = json_object_from_file(p);
	if (!o) {
		fprintf(stderr, "cannot load %s\n", p);
		exit(1);
	}
	return o;
}

static void check_json(struct json_object *o, const char *want)
{
	const char *got = NULL;

	if (o)
		got = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!streq(got, want))
		fprintf(stderr, "got  %s\nwant %s\n", got ? got : "(null)", want);
	CHECK(streq(got, want));
	json_object_put(o);
}

static void test_vfio_pci_args(void)
{
	check_json(qemu_args_vfio_pci("0000:06:00.0", "vhp-pci-1", "rp1"),
		   "{\"driver\":\"vfio-pci\",\"host\":\"0000:06:00.0\",\"id\":\"vhp-pci-1\",\"bus\":\"rp1\","
		   "\"addr\":\"0\"}");
	CHECK(!qemu_args_vfio_pci("06:00.0", "vhp", "rp1"));
	CHECK(!qemu_args_vfio_pci("0000:06:00.0,x=1", "vhp", "rp1"));
	CHECK(!qemu_args_vfio_pci("0000:06:00.0", "1bad", "rp1"));
	CHECK(!qemu_args_vfio_pci("0000:06:00.0", "vhp", "rp 1"));
	CHECK(!qemu_args_vfio_pci("0000:06:00.0", "vhp", NULL));
}

static void test_evdev_args(void)
{
	check_json(qemu_args_evdev("/dev/input/event7", "vhp-evdev-7", "rp3"),
		   "{\"driver\":\"virtio-input-host-pci\",\"evdev\":\"/dev/input/event7\","
		   "\"id\":\"vhp-evdev-7\",\"bus\":\"rp3\",\"addr\":\"0\"}");
	CHECK(!qemu_args_evdev("/dev/input/mouse0", "vhp", "rp1"));
	CHECK(!qemu_args_evdev("/dev/input/js0", "vhp", "rp1"));
	CHECK(!qemu_args_evdev("/dev/input/event", "vhp", "rp1"));
	CHECK(!qemu_args_evdev("/dev/input/event1/../../sda", "vhp", "rp1"));
	CHECK(!qemu_args_evdev("/dev/input/by-id/usb-kbd-event-kbd", "vhp", "rp1"));
	CHECK(!qemu_args_evdev(NULL, "vhp", "rp1"));
	CHECK(qemu_args_evdev_node_valid("/dev/input/event12"));
}

static void test_free_ports_of_a_running_guest(void)
{
	struct json_object *q = load("query-pci-running.json");
	char ports[4][QEMU_ARGS_ID_MAX];
	const char *busy[] = { "rp1", NULL };

	CHECK(qemu_args_free_ports(q, NULL, ports, 4) == 2);
	CHECK(streq(ports[0], "rp1") && streq(ports[1], "rp3"));
	/* A port our records hold is skipped even though the guest shows it empty. */
	CHECK(qemu_args_free_ports(q, busy, ports, 4) == 1);
	CHECK(streq(ports[0], "rp3"));
	CHECK(qemu_args_free_ports(q, NULL, ports, 1) == 1 && streq(ports[0], "rp1"));
	json_object_put(q);
}

static void test_free_ports_of_a_paused_guest(void)
{
	struct json_object *q = load("query-pci-paused.json");
	char ports[4][QEMU_ARGS_ID_MAX];
	const char *busy[] = { "rp1", "rp2", "rp3", NULL };

	CHECK(qemu_args_free_ports(q, NULL, ports, 4) == 3);
	CHECK(streq(ports[0], "rp1") && streq(ports[1], "rp2") && streq(ports[2], "rp3"));
	CHECK(qemu_args_free_ports(q, busy, ports, 4) == 0);
	json_object_put(q);
}

static void test_free_ports_of_nonsense(void)
{
	struct json_object *o = json_tokener_parse("{\"return\":[]}");
	char ports[1][QEMU_ARGS_ID_MAX];

	CHECK(qemu_args_free_ports(o, NULL, ports, 1) == -EINVAL);
	json_object_put(o);
	o = json_tokener_parse("[{\"bus\":0,\"devices\":[{\"qdev_id\":5,\"id\":{\"vendor\":6966,\"device\":12}},"
			       "{\"id\":{\"vendor\":6966,\"device\":12}},{\"qdev_id\":\"rp9\"}]}]");
	CHECK(qemu_args_free_ports(o, NULL, ports, 1) == 0);
	json_object_put(o);
}

static void test_device_already_in_the_guest(void)
{
	struct json_object *q = load("query-pci-running.json");

	CHECK(qemu_args_has_device(q, 0x1af4, 0x1044));		/* rng0, behind rp2 */
	CHECK(qemu_args_has_device(q, 0x1b36, 0x000d));		/* qemu-xhci on the root bus */
	CHECK(!qemu_args_has_device(q, 0x8086, 0x100e));
	json_object_put(q);
	q = load("query-pci-paused.json");
	CHECK(!qemu_args_has_device(q, 0x1af4, 0x1044));	/* -S: not visible yet */
	json_object_put(q);
}

/* The first port of a dual-port NIC, added by statd, does not hide the second. */
static void test_own_device_does_not_hide_its_twin(void)
{
	static const char fmt[] =
		"[{\"bus\":0,\"devices\":[{\"qdev_id\":\"rp1\",\"id\":{\"vendor\":6966,\"device\":12},"
		"\"pci_bridge\":{\"devices\":[{\"qdev_id\":\"%s\",\"id\":{\"vendor\":32902,"
		"\"device\":5409}}]}}]}]";
	char text[512];
	struct json_object *q;

	snprintf(text, sizeof(text), fmt, "vhp-pci-0000_06_00.0");
	q = json_tokener_parse(text);
	CHECK(q && !qemu_args_has_device(q, 0x8086, 0x1521));
	json_object_put(q);
	snprintf(text, sizeof(text), fmt, "nic0");	/* given on the command line */
	q = json_tokener_parse(text);
	CHECK(q && qemu_args_has_device(q, 0x8086, 0x1521));
	json_object_put(q);
}

/* Devices with the same ids are named for the caller to ask each one's host: not ours, not anonymous. */
static void test_devices_named_like(void)
{
	static const char text[] =
		"[{\"bus\":0,\"devices\":[{\"qdev_id\":\"emulated\",\"id\":{\"vendor\":32902,\"device\":4307}},"
		"{\"qdev_id\":\"\",\"id\":{\"vendor\":32902,\"device\":4307}},"
		"{\"qdev_id\":\"rp1\",\"id\":{\"vendor\":6966,\"device\":12},\"pci_bridge\":{\"devices\":["
		"{\"qdev_id\":\"vhp-pci-0000-06-00.0\",\"id\":{\"vendor\":32902,\"device\":4307}},"
		"{\"qdev_id\":\"nic0\",\"id\":{\"vendor\":32902,\"device\":4307}}]}}]}]";
	struct json_object *q = json_tokener_parse(text);
	char ids[4][QEMU_ARGS_ID_MAX];

	CHECK(q && qemu_args_named_like(q, 0x8086, 0x10d3, ids, 4) == 2);
	CHECK(streq(ids[0], "emulated"));	/* on the root bus */
	CHECK(streq(ids[1], "nic0"));		/* behind a bridge; statd's own is left out */
	CHECK(qemu_args_named_like(q, 0x8086, 0x10d3, ids, 1) == 1);
	CHECK(qemu_args_named_like(q, 0x8086, 0x100e, ids, 4) == 0);
	json_object_put(q);
}

/* The descriptions as QEMU gives them (measured with device_add; the grab
 * failure as virtio-input-host words it). */
static void test_errors_that_matter(void)
{
	CHECK(qemu_args_port_occupied("PCI: slot 0 function 0 not available for vfio-pci, "
				      "in use by virtio-rng-pci,id=rng0"));
	CHECK(!qemu_args_port_occupied("vfio /sys/bus/pci/devices/0000:99:00.0: no such host device: "
				       "No such file or directory"));
	CHECK(!qemu_args_port_occupied(NULL));
	CHECK(qemu_args_evdev_busy("/dev/input/event3: failed to get exclusive access: "
				   "Device or resource busy"));
	CHECK(!qemu_args_evdev_busy("Could not open '/dev/input/event99': No such file or directory"));
}

int main(void)
{
	test_vfio_pci_args();
	test_evdev_args();
	test_free_ports_of_a_running_guest();
	test_free_ports_of_a_paused_guest();
	test_free_ports_of_nonsense();
	test_device_already_in_the_guest();
	test_own_device_does_not_hide_its_twin();
	test_devices_named_like();
	test_errors_that_matter();
	return check_result();
}
