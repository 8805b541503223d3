/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of what udev and sysfs give us, and the readable label. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "device.h"
#include "ident.h"
#include "macro.h"


static void test_sysname(void)
{
	int bus, ports[DEVICE_MAX_PORTS], n;

	CHECK(device_parse_usb_sysname("3-2.1", &bus, ports, &n) == 0);
	CHECK(bus == 3 && n == 2 && ports[0] == 2 && ports[1] == 1);
	CHECK(device_parse_usb_sysname("11-22.33.44", &bus, ports, &n) == 0);
	CHECK(bus == 11 && n == 3 && ports[0] == 22 && ports[2] == 44);
	CHECK(device_parse_usb_sysname("1-7", &bus, ports, &n) == 0 && n == 1 && ports[0] == 7);
	CHECK(device_parse_usb_sysname("usb3", &bus, ports, &n) < 0);
	CHECK(device_parse_usb_sysname("3-2:1.0", &bus, ports, &n) < 0);
	CHECK(device_parse_usb_sysname("3-", &bus, ports, &n) < 0);
	CHECK(device_parse_usb_sysname("1-1.1.1.1.1.1.1.1.1", &bus, ports, &n) < 0);
}

static void test_interfaces(void)
{
	struct usb_iface i[4];

	CHECK(device_parse_usb_interfaces(":030102:0e0100:", i, 4) == 2);
	CHECK(i[0].cls == 3 && i[0].subclass == 1 && i[0].protocol == 2);
	CHECK(i[1].cls == 14 && i[1].subclass == 1 && i[1].protocol == 0);
	CHECK(device_parse_usb_interfaces("", i, 4) == 0);
	CHECK(device_parse_usb_interfaces(NULL, i, 4) == 0);
	CHECK(device_parse_usb_interfaces(":0301:", i, 4) < 0);
	CHECK(device_parse_usb_interfaces(":zz0102:", i, 4) < 0);
	CHECK(device_parse_usb_interfaces(":010100:010200:010300:010400:010500:", i, 4) == 4);
}

static void test_label(void)
{
	char big[5000];
	struct device d = { .kind = DEV_USB, .vendor_id = 0x0bda, .product_id = 0x4852,
			    .vendor_name = "Realtek", .product_name = "Bluetooth Radio",
			    .serial = "00e04c000001", .sysname = "3-2" };
	char *s = device_describe(&d);

	CHECK(s && strcmp(s, "usb 0bda:4852 Realtek Bluetooth Radio serial 00e04c000001 at 3-2") == 0);
	free(s);
	d.product_name = "say \"hi\"\nDROP TABLE\x01\xff\xc3\xa9";
	s = device_describe(&d);
	CHECK(s && strstr(s, "say \"hi\"\\nDROP TABLE\\x01\\xff\xc3\xa9 serial") != NULL);
	CHECK(s && !strchr(s, '\n'));
	free(s);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	d.product_name = big;
	s = device_describe(&d);
	CHECK(s && strlen(s) < 400 && strstr(s, "...") != NULL);
	free(s);
	d = (struct device){ .kind = DEV_USB, .vendor_id = -1, .product_id = -1 };
	s = device_describe(&d);
	CHECK(s && strcmp(s, "usb ????:???? at ?") == 0);
	free(s);
}

/* Invisible characters that reorder or hide text are escaped as controls are. */
static void test_label_format_characters(void)
{
	struct device d = { .kind = DEV_USB, .vendor_id = 0x0bda, .product_id = 0x4852,
			    .sysname = "3-2" };
	char *s;

	/* U+202E RLO, U+2028 LS, U+2029 PS, U+200B ZWSP, U+FEFF BOM, U+2066 LRI */
	d.product_name = "a\u202Egpj.exe\u2028b\u2029c\u200Bd\uFEFFe\u2066f";
	s = device_describe(&d);
	CHECK(s && streq(s, "usb 0bda:4852 a\\xe2\\x80\\xaegpj.exe\\xe2\\x80\\xa8b\\xe2\\x80\\xa9c"
			    "\\xe2\\x80\\x8bd\\xef\\xbb\\xbfe\\xe2\\x81\\xa6f at 3-2"));
	free(s);
	/* Their neighbours are text: en dash, bullet, U+FEFE, é. */
	d.product_name = "a\u2013b\u2022c\uFEFEd\u00e9";
	s = device_describe(&d);
	CHECK(s && streq(s, "usb 0bda:4852 a\u2013b\u2022c\uFEFEd\u00e9 at 3-2"));
	free(s);
	s = device_escape("x\u202Ey");
	CHECK(s && streq(s, "x\\xe2\\x80\\xaey"));
	free(s);
}

/* A serial is the device's to choose: a '/' in it is no path, vid:pid stay. */
static void test_qdev_id_serial_with_slash(void)
{
	char *id = ident_qdev_id("usb", "usb:046d:c077:AB/CD");

	CHECK(id && strncmp(id, "vhp-usb-046d-c077-AB_CD-", 24) == 0 && strlen(id) == 32);
	free(id);
	id = ident_qdev_id("evdev", "evdev:/devices/platform/i8042/serio0/input/input3/event3");
	CHECK(id && strncmp(id, "vhp-evdev-event3-", 17) == 0);
	free(id);
}

static void test_devpath(void)
{
	char big[DEVICE_DEVPATH_MAX + 16];
	char *e;

	CHECK(device_devpath_valid("/devices/pci0000:00/0000:00:14.0/usb1/1-3"));
	CHECK(device_devpath_valid("/devices/platform/i8042/serio1/input/input5/event5"));
	CHECK(device_devpath_valid("/devices/x..y/.hidden"));
	CHECK(!device_devpath_valid(NULL));
	CHECK(!device_devpath_valid(""));
	CHECK(!device_devpath_valid("/devices/"));
	CHECK(!device_devpath_valid("/devices"));
	CHECK(!device_devpath_valid("/devices/../../../tmp/x"));
	CHECK(!device_devpath_valid("/devices/a/.."));
	CHECK(!device_devpath_valid("/devices/a/./b"));
	CHECK(!device_devpath_valid("/devices//a"));
	CHECK(!device_devpath_valid("/devices/a/"));
	CHECK(!device_devpath_valid("/sys/devices/a"));
	CHECK(!device_devpath_valid("devices/a"));
	CHECK(!device_devpath_valid("/devices/a\nb"));
	CHECK(!device_devpath_valid("/devices/a\x7f"));
	strcpy(big, "/devices/");
	memset(big + 9, 'a', sizeof(big) - 10);
	big[sizeof(big) - 1] = '\0';
	CHECK(!device_devpath_valid(big));
	big[DEVICE_DEVPATH_MAX - 1] = '\0';
	CHECK(device_devpath_valid(big));

	e = device_escape("/devices/a\n<0>b\\\xff");
	CHECK(e && strcmp(e, "/devices/a\\n<0>b\\\\\\xff") == 0);
	free(e);
}

int main(void)
{
	test_devpath();
	test_sysname();
	test_interfaces();
	test_label();
	test_label_format_characters();
	test_qdev_id_serial_with_slash();
	return check_result();
}
