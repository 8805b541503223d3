/* SPDX-License-Identifier: Apache-2.0 */
/* lib/host/usbauth: the authorized attributes, read strictly, written through sysfs.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "macro.h"
#include "usbauth.h"

static char root[] = "/tmp/test-usbauth-XXXXXX";

static void put(const char *rel, const char *content)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	if (!f || fputs(content, f) < 0 || fclose(f) != 0)
		abort();
}

static void test_root_hub_of_a_device(void)
{
	char buf[64];

	CHECK(usbauth_root_hub("3-2.1", buf, sizeof(buf)) == 0);
	CHECK(streq(buf, "bus/usb/devices/usb3"));
	CHECK(usbauth_root_hub("12-1", buf, sizeof(buf)) == 0);
	CHECK(streq(buf, "bus/usb/devices/usb12"));
	/* A root hub has none above it; anything else is no USB device name. */
	CHECK(usbauth_root_hub("usb1", buf, sizeof(buf)) == -ENODEV);
	CHECK(usbauth_root_hub("-1", buf, sizeof(buf)) == -ENODEV);
	CHECK(usbauth_root_hub("3", buf, sizeof(buf)) == -ENODEV);
	CHECK(usbauth_root_hub("3-2", buf, 8) == -ENAMETOOLONG);
}

static void test_get_reads_only_0_or_1(void)
{
	put("1-3/authorized", "1\n");
	CHECK(usbauth_get("/sys/1-3", "authorized") == 1);
	put("1-3/authorized", "0\n");
	CHECK(usbauth_get("1-3", "authorized") == 0);
	/* authorized_default may be 2 ("internal only"): not a device's answer. */
	put("1-3/authorized", "2\n");
	CHECK(usbauth_get("1-3", "authorized") == -EBADMSG);
	CHECK(usbauth_get("1-3", "absent") == -ENOENT);
}

static void test_set_refuses_a_link_and_leaves_its_target(void)
{
	char p[512], t[512], buf[8] = "";
	FILE *f;

	put("1-3/bait", "0\n");
	snprintf(p, sizeof(p), "%s/1-3/link", root);
	snprintf(t, sizeof(t), "%s/1-3/bait", root);
	CHECK(symlink(t, p) == 0);
	CHECK(usbauth_set("1-3", "link", "1") == -ELOOP);
	CHECK(streq(usbauth_strerror(-ELOOP), "a symbolic link, not the kernel's attribute: refused"));
	f = fopen(t, "r");
	CHECK(f && fgets(buf, sizeof(buf), f));
	if (f)
		fclose(f);
	CHECK(streq(buf, "0\n"));
	CHECK(usbauth_set("1-3", "authorized", "1") == 0);
	CHECK(usbauth_get("1-3", "authorized") == 1);
}

static void test_interfaces_of_the_device_only(void)
{
	char p[512];
	size_t n = 9;

	snprintf(p, sizeof(p), "%s/1-3/1-3:1.0", root);
	CHECK(mkdir(p, 0755) == 0);
	snprintf(p, sizeof(p), "%s/1-3/1-3:1.1", root);
	CHECK(mkdir(p, 0755) == 0);
	/* A directory that is not one of its interfaces (a child device, power/). */
	snprintf(p, sizeof(p), "%s/1-3/1-3.1", root);
	CHECK(mkdir(p, 0755) == 0);
	put("1-3/1-3:1.0/authorized", "0\n");
	put("1-3/1-3:1.1/authorized", "0\n");
	put("1-3/1-3.1/authorized", "0\n");
	CHECK(usbauth_interfaces_set("1-3", "1", &n) == 0);
	CHECK(n == 2);
	CHECK(usbauth_get("1-3/1-3:1.0", "authorized") == 1);
	CHECK(usbauth_get("1-3/1-3:1.1", "authorized") == 1);
	CHECK(usbauth_get("1-3/1-3.1", "authorized") == 0);
}

static void test_by_interface_only_when_an_interface_is_left_out(void)
{
	struct rule hid = { .fields = RF_IF_CLASS, .if_class = 3 };
	struct rule vendor = { .fields = RF_VENDOR_ID };
	struct device headset = { .kind = DEV_USB, .n_ifaces = 2,
				  .ifaces = { { 1, 1, 0 }, { 3, 0, 0 } } };
	struct device keyboard = { .kind = DEV_USB, .n_ifaces = 1, .ifaces = { { 3, 1, 1 } } };

	CHECK(usbauth_by_interface(&hid, &headset));
	/* Every interface named: the whole device is the same thing, in one write. */
	CHECK(!usbauth_by_interface(&hid, &keyboard));
	CHECK(!usbauth_by_interface(&vendor, &headset));
}

/* An interface NAME of 1-4 with class CLS and authorized AUTH. */
static void iface(const char *name, const char *cls, const char *auth)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/1-4/%s", root, name);
	CHECK(mkdir(p, 0755) == 0);
	snprintf(p, sizeof(p), "1-4/%s/bInterfaceClass", name);
	put(p, cls);
	snprintf(p, sizeof(p), "1-4/%s/bInterfaceSubClass", name);
	put(p, "00\n");
	snprintf(p, sizeof(p), "1-4/%s/bInterfaceProtocol", name);
	put(p, "00\n");
	snprintf(p, sizeof(p), "1-4/%s/authorized", name);
	put(p, auth);
}

static void test_interfaces_allow_writes_the_named_ones_only(void)
{
	struct rule hid = { .fields = RF_IF_CLASS, .if_class = 3 };
	char p[512], done[256] = "", skipped[128] = "", probed[32] = "";
	FILE *f;

	snprintf(p, sizeof(p), "%s/1-4", root);
	CHECK(mkdir(p, 0755) == 0);
	snprintf(p, sizeof(p), "%s/bus", root);
	CHECK(mkdir(p, 0755) == 0);
	snprintf(p, sizeof(p), "%s/bus/usb", root);
	CHECK(mkdir(p, 0755) == 0);
	put("bus/usb/drivers_probe", "");
	iface("1-4:1.0", "01\n", "0\n");
	iface("1-4:1.1", "03\n", "0\n");
	CHECK(usbauth_interfaces_allow("1-4", &hid, done, sizeof(done), skipped, sizeof(skipped)) == 0);
	CHECK(streq(done, "1-4:1.1/authorized 1, 1-4:1.1 to drivers_probe"));
	CHECK(streq(skipped, "1-4:1.0"));
	CHECK(usbauth_get("1-4/1-4:1.1", "authorized") == 1);
	CHECK(usbauth_get("1-4/1-4:1.0", "authorized") == 0);
	snprintf(p, sizeof(p), "%s/bus/usb/drivers_probe", root);
	f = fopen(p, "r");
	CHECK(f && fgets(probed, sizeof(probed), f));
	if (f)
		fclose(f);
	CHECK(streq(probed, "1-4:1.1"));
}

static void test_deny_others_takes_the_unnamed_ones(void)
{
	struct rule hid = { .fields = RF_IF_CLASS, .if_class = 3 };
	char done[256] = "";

	put("1-4/1-4:1.0/authorized", "1\n");
	put("1-4/1-4:1.1/authorized", "1\n");
	CHECK(usbauth_interfaces_deny_others("1-4", &hid, done, sizeof(done)) == 0);
	CHECK(streq(done, "1-4:1.0/authorized 0"));
	CHECK(usbauth_get("1-4/1-4:1.0", "authorized") == 0);
	CHECK(usbauth_get("1-4/1-4:1.1", "authorized") == 1);
	/* Already 0: nothing written, nothing said. */
	done[0] = '\0';
	CHECK(usbauth_interfaces_deny_others("1-4", &hid, done, sizeof(done)) == 0);
	CHECK(streq(done, ""));
}

int main(void)
{
	char cmd[600];

	if (!mkdtemp(root))
		abort();
	setenv("VHOTPLUG_SYSFS_ROOT", root, 1);
	snprintf(cmd, sizeof(cmd), "%s/1-3", root);
	if (mkdir(cmd, 0755) < 0)
		abort();
	test_root_hub_of_a_device();
	test_get_reads_only_0_or_1();
	test_set_refuses_a_link_and_leaves_its_target();
	test_interfaces_of_the_device_only();
	test_by_interface_only_when_an_interface_is_left_out();
	test_interfaces_allow_writes_the_named_ones_only();
	test_deny_others_takes_the_unnamed_ones();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		CHECK(!"cleanup");
	return check_result();
}
