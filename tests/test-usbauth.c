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
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		CHECK(!"cleanup");
	return check_result();
}
