/* SPDX-License-Identifier: Apache-2.0 */
/* Rule semantics: every field, AND within a rule, allow/deny, order, hubs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "check.h"
#include "device.h"
#include "macro.h"
#include "match.h"
#include "match-util.h"


static void test_usb_fields(void)
{
	struct device d;

	usb_init(&d);
	CHECK(takes("{\"vendorId\":\"046d\"}", &d));	/* upstream never matched vid alone */
	CHECK(takes("{\"vendorId\":\"046D\"}", &d));
	CHECK(!takes("{\"vendorId\":\"046e\"}", &d));
	CHECK(takes("{\"productId\":\"c077\"}", &d));
	CHECK(takes("{\"vendorId\":\"046d\",\"productId\":\"c077\"}", &d));
	CHECK(!takes("{\"vendorId\":\"046d\",\"productId\":\"c078\"}", &d));
	CHECK(takes("{\"vendorName\":\"logitech\"}", &d));	/* case-insensitive, prefix */
	CHECK(!takes("{\"vendorName\":\"inc\"}", &d));	/* anchored at the start */
	CHECK(takes("{\"productName\":\".*mouse\"}", &d));
	CHECK(!takes("{\"productName\":\".*keyboard\"}", &d));
	/* AND: upstream took vendorName OR productName. */
	CHECK(!takes("{\"vendorName\":\"logitech\",\"productName\":\".*keyboard\"}", &d));
	CHECK(takes("{\"bus\":3}", &d));
	CHECK(!takes("{\"bus\":4}", &d));
	CHECK(takes("{\"port\":2}", &d));	/* root port */
	CHECK(!takes("{\"port\":1}", &d));
	CHECK(takes("{\"bus\":3,\"port\":2}", &d));
	CHECK(!takes("{\"bus\":4,\"port\":2}", &d));
	CHECK(takes("{\"deviceClass\":0}", &d));
	CHECK(!takes("{\"deviceClass\":224}", &d));
	CHECK(takes("{\"deviceClass\":0,\"deviceSubclass\":0,\"deviceProtocol\":0}", &d));
	CHECK(!takes("{\"deviceClass\":0,\"deviceProtocol\":1}", &d));
	CHECK(takes("{\"interfaceClass\":3}", &d));
	CHECK(takes("{\"interfaceClass\":3,\"interfaceSubclass\":1,\"interfaceProtocol\":2}", &d));
	CHECK(!takes("{\"interfaceClass\":3,\"interfaceProtocol\":1}", &d));
	CHECK(takes("{\"removable\":\"removable\"}", &d));
	CHECK(!takes("{\"removable\":[\"fixed\",\"unknown\"]}", &d));
	d.removable = NULL;
	CHECK(takes("{\"removable\":[\"fixed\",\"unknown\"]}", &d));
}

/* Class, subclass and protocol must hold on the same interface. */
static void test_interfaces_together(void)
{
	struct device d;

	usb_init(&d);
	d.ifaces[0] = (struct usb_iface){ 3, 1, 1 };	/* keyboard */
	d.ifaces[1] = (struct usb_iface){ 1, 1, 0 };	/* audio control */
	d.ifaces[2] = (struct usb_iface){ 3, 0, 2 };
	d.n_ifaces = 3;
	CHECK(takes("{\"interfaceClass\":3,\"interfaceProtocol\":2}", &d));
	CHECK(takes("{\"interfaceClass\":1}", &d));
	/* subclass 1 and protocol 2 exist, but on different interfaces */
	CHECK(!takes("{\"interfaceClass\":3,\"interfaceSubclass\":1,\"interfaceProtocol\":2}", &d));
	CHECK(!takes("{\"interfaceClass\":1,\"interfaceProtocol\":1}", &d));
	d.n_ifaces = 0;
	CHECK(!takes("{\"interfaceClass\":3}", &d));
}

static void test_unknown_values(void)
{
	struct device d;

	usb_init(&d);
	d.vendor_id = d.product_id = -1;
	d.vendor_name = d.product_name = NULL;
	d.busnum = -1;
	d.n_ports = 0;
	d.dev_class = -1;
	CHECK(!takes("{\"vendorId\":\"046d\"}", &d));
	CHECK(!takes("{\"bus\":3}", &d));
	CHECK(!takes("{\"port\":2}", &d));
	CHECK(!takes("{\"deviceClass\":0}", &d));
	CHECK(!takes("{\"productName\":\"m\"}", &d));
	CHECK(takes("{\"productName\":\".*\"}", &d));	/* unknown names match as "" */
}

static void test_hubs(void)
{
	struct device d;

	usb_init(&d);
	d.dev_class = 9;
	CHECK(!takes("{\"deviceClass\":9}", &d));
	CHECK(!takes("{\"vendorId\":\"046d\"}", &d));
	usb_init(&d);
	d.ifaces[1] = (struct usb_iface){ 9, 0, 0 };
	d.n_ifaces = 2;
	CHECK(!takes("{\"interfaceClass\":3}", &d));
	CHECK(match_never_reason(&d) != NULL);
}

/* The upstream README's sample rule set, case by case. */
static const char readme_cfg[] =
	"{\"usbPassthrough\":[{\"description\":\"Devices for VM1\",\"targetVm\":\"vm1\","
	"\"allow\":[{\"interfaceClass\":3,\"interfaceProtocol\":2,\"description\":\"HID Mouse\"},"
	"{\"productName\":\".*ethernet.*\",\"description\":\"Ethernet devices\"},"
	"{\"vendorId\":\"067b\",\"productId\":\"23a3\",\"description\":\"Serial\",\"disable\":true}],"
	"\"deny\":[{\"vendorId\":\"046d\",\"productId\":\"c52b\",\"description\":\"Unifying\"},"
	"{\"vendorId\":\"0b95\",\"productId\":\"1790\",\"description\":\"AX88179\"}]},"
	"{\"description\":\"VM2\",\"targetVm\":\"vm2\",\"allow\":[{\"deviceClass\":224},"
	"{\"bus\":11,\"port\":22}]},"
	"{\"description\":\"multi\",\"allowedVms\":[\"vm1\",\"vm2\"],\"allow\":[{\"interfaceClass\":14}]},"
	"{\"description\":\"off\",\"disable\":true,\"targetVm\":\"vm2\",\"allow\":[{\"interfaceClass\":8}]}],"
	VMS "}";

static void test_readme_cases(void)
{
	struct config *cfg = load(readme_cfg);
	struct device d;
	struct match_result res;

	usb_init(&d);
	CHECK(streq(decide(cfg, &d), "vm1"));	/* HID mouse */
	CHECK(match_device(cfg, &d, &res, NULL) && streq(res.rule->description, "HID Mouse"));

	usb_init(&d);
	d.vendor_id = 0x0b95;
	d.product_id = 0x1790;
	d.product_name = "AX88179 Gigabit Ethernet";
	d.ifaces[0] = (struct usb_iface){ 0xff, 0xff, 0 };
	CHECK(streq(decide(cfg, &d), "none"));	/* ethernet, but denied by vid/pid */
	d.product_id = 0x178a;
	CHECK(streq(decide(cfg, &d), "vm1"));	/* another ethernet: allowed by name */

	usb_init(&d);
	d.vendor_id = 0x046d;
	d.product_id = 0xc52b;
	CHECK(streq(decide(cfg, &d), "none"));	/* mouse interface, but denied */

	usb_init(&d);
	d.vendor_id = 0x067b;
	d.product_id = 0x23a3;
	d.ifaces[0] = (struct usb_iface){ 0xff, 0, 0 };
	CHECK(streq(decide(cfg, &d), "none"));	/* its rule is disabled */

	usb_init(&d);
	d.dev_class = 224;
	d.ifaces[0] = (struct usb_iface){ 224, 1, 1 };
	CHECK(streq(decide(cfg, &d), "vm2"));	/* Bluetooth by deviceClass */

	usb_init(&d);
	d.busnum = 11;
	d.ports[0] = 22, d.ports[1] = 33, d.ports[2] = 44, d.n_ports = 3;
	d.ifaces[0] = (struct usb_iface){ 8, 6, 80 };
	CHECK(streq(decide(cfg, &d), "vm2"));
	d.ports[0] = 33, d.ports[1] = 22;
	CHECK(streq(decide(cfg, &d), "none"));	/* set 4 would take class 8, but it is disabled */

	usb_init(&d);
	d.ifaces[0] = (struct usb_iface){ 14, 1, 0 };
	CHECK(streq(decide(cfg, &d), "allowed"));
	CHECK(match_device(cfg, &d, &res, NULL) && res.set->n_allowed_vms == 2);
	config_free(cfg);
}

static void test_first_set_wins(void)
{
	struct config *cfg = load("{\"usbPassthrough\":["
				  "{\"targetVm\":\"vm2\",\"allow\":[{\"interfaceClass\":3}]},"
				  "{\"targetVm\":\"vm1\",\"allow\":[{\"vendorId\":\"046d\"}]}]," VMS "}");
	struct device d;

	usb_init(&d);
	CHECK(streq(decide(cfg, &d), "vm2"));
	d.ifaces[0].cls = 1;
	CHECK(streq(decide(cfg, &d), "vm1"));
	config_free(cfg);
}

static void test_pci(void)
{
	struct config *cfg = load("{\"pciPassthrough\":["
				  "{\"targetVm\":\"vm1\",\"allow\":[{\"address\":\"0000:00:14.3\"}]},"
				  "{\"targetVm\":\"vm2\",\"allow\":[{\"vendorId\":\"8086\",\"deviceId\":\"a7a1\"}]},"
				  "{\"targetVm\":\"vm1\",\"allow\":[{\"deviceClass\":1,\"deviceSubclass\":8,"
				  "\"deviceProgIf\":2}]}]," VMS "}");
	struct device d = { .kind = DEV_PCI, .sysname = "0000:00:14.3", .vendor_id = 0x8086,
			    .product_id = 0xa0f0, .dev_class = 2, .dev_subclass = 0x80,
			    .dev_protocol = 0 };

	CHECK(streq(decide(cfg, &d), "vm1"));
	d.sysname = "0000:00:02.0";
	CHECK(streq(decide(cfg, &d), "none"));
	d.product_id = 0xa7a1;
	CHECK(streq(decide(cfg, &d), "vm2"));
	d.vendor_id = 0x144d, d.product_id = 0xa808;
	d.dev_class = 1, d.dev_subclass = 8, d.dev_protocol = 2;
	CHECK(streq(decide(cfg, &d), "vm1"));
	d.dev_protocol = 1;
	CHECK(streq(decide(cfg, &d), "none"));
	config_free(cfg);
}

static void test_evdev(void)
{
	struct config *cfg = load("{\"evdevPassthrough\":["
				  "{\"targetVm\":\"vm1\",\"allow\":[{\"name\":\"TPPS/2\"},"
				  "{\"pathTag\":\"platform-i8042-serio-2\"}]},"
				  "{\"targetVm\":\"vm2\",\"allow\":[{\"property\":\"ID_INPUT_KEYBOARD\",\"value\":\"1\"}],"
				  "\"deny\":[{\"property\":\"ID_INPUT_MOUSE\"}]}]," VMS "}");
	struct dev_property props[] = { { "ID_INPUT", "1" }, { "ID_INPUT_KEYBOARD", "1" } };
	struct device d = { .kind = DEV_EVDEV, .name = "TPPS/2 Elan TrackPoint",
			    .path_tag = "platform-i8042-serio-1", .props = props, .n_props = 1 };

	CHECK(streq(decide(cfg, &d), "vm1"));
	d.name = "AT Translated Set 2 keyboard";
	CHECK(streq(decide(cfg, &d), "none"));
	d.n_props = 2;
	CHECK(streq(decide(cfg, &d), "vm2"));
	d.path_tag = "platform-i8042-serio-2";
	CHECK(streq(decide(cfg, &d), "vm1"));
	config_free(cfg);

	/* The older object form: every non-USB keyboard, mouse, ... */
	cfg = load("{\"evdevPassthrough\":{\"disable\":false,\"targetVm\":\"vm2\"}," VMS "}");
	d.n_props = 2;
	CHECK(streq(decide(cfg, &d), "vm2"));
	d.n_props = 1;
	CHECK(streq(decide(cfg, &d), "none"));
	config_free(cfg);
	cfg = load("{\"evdevPassthrough\":{\"disable\":true,\"targetVm\":\"vm2\"}," VMS "}");
	d.n_props = 2;
	CHECK(streq(decide(cfg, &d), "none"));
	config_free(cfg);
}

static void test_evdev_never_usb(void)
{
	struct dev_property props[] = { { "ID_INPUT", "1" }, { "ID_INPUT_MOUSE", "1" },
					{ "ID_BUS", "usb" } };
	struct device d = { .kind = DEV_EVDEV, .name = "Logitech Mouse", .props = props,
			    .n_props = 3 };
	struct config *cfg = load("{\"evdevPassthrough\":[{\"targetVm\":\"vm1\","
				  "\"allow\":[{\"property\":\"ID_INPUT_MOUSE\"}]}]," VMS "}");

	CHECK(streq(decide(cfg, &d), "none"));
	d.n_props = 2;
	CHECK(streq(decide(cfg, &d), "vm1"));
	config_free(cfg);
}

static void test_why(void)
{
	struct config *cfg = load(readme_cfg);
	struct match_result res;
	struct device d;
	char *why = NULL;
	size_t len;
	FILE *f = open_memstream(&why, &len);

	usb_init(&d);
	d.vendor_id = 0x046d;
	d.product_id = 0xc52b;
	match_device(cfg, &d, &res, f);
	fclose(f);
	CHECK(strstr(why, "denied by usbPassthrough[0].deny[0]") != NULL);
	CHECK(strstr(why, "usbPassthrough[3] (off): disabled") != NULL);
	CHECK(strstr(why, "usbPassthrough[0].allow[0] (HID Mouse): matches") != NULL);
	free(why);
	config_free(cfg);
}

int main(void)
{
	test_usb_fields();
	test_interfaces_together();
	test_unknown_values();
	test_hubs();
	test_readme_cases();
	test_first_set_wins();
	test_pci();
	test_evdev();
	test_evdev_never_usb();
	test_why();
	return check_result();
}
