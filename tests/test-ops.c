/* SPDX-License-Identifier: Apache-2.0 */
/* lib/ops: naming a device (devname.c) and the desired set (decisions.c), on a real database. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "db.h"
#include "decisions.h"
#include "devname.h"
#include "macro.h"

static char dir[] = "/tmp/vhotplug-test-ops.XXXXXX";

static int64_t add(struct db *db, enum dev_kind kind, const char *sysname, const char *ident,
		   int vid, int pid, const char *devnode)
{
	struct device dev = { .kind = kind, .sysname = (char *)sysname, .devpath = (char *)sysname,
			      .vendor_id = vid, .product_id = pid, .devnode = (char *)devnode,
			      .busnum = -1, .devnum = -1 };
	int64_t id = 0;

	CHECK(db_device_upsert(db, &dev, ident, ident, &id) == 0);
	return id;
}

/* The ids NAME names, "1 2", or "" for none. */
static char *names(struct db *db, const char *name)
{
	struct devname_hit *hits = NULL;
	static char buf[64];
	size_t n = 0, len = 0;

	buf[0] = '\0';
	CHECK(devname_resolve(db, name, &hits, &n) == 0);
	for (size_t i = 0; i < n; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%lld", i ? " " : "",
				(long long)hits[i].id);
	devname_free(hits, n);
	return buf;
}

static void test_devname(struct db *db)
{
	int64_t a = add(db, DEV_USB, "1-3", "usb:046d:c077@1-3", 0x046d, 0xc077, "/dev/bus/usb/001/004");
	int64_t b = add(db, DEV_USB, "1-6", "usb:04f2:b604:0001", 0x04f2, 0xb604, NULL);
	int64_t c = add(db, DEV_USB, "2-1", "usb:04f2:b604:0002", 0x04f2, 0xb604, NULL);
	int64_t p = add(db, DEV_PCI, "0000:06:00.0", "pci:0000:06:00.0", 0x8086, 0x107c, NULL);
	char want[64];

	CHECK(streq(names(db, "usb:046d:c077@1-3"), "1"));
	CHECK(streq(names(db, "046d:c077"), "1"));
	CHECK(streq(names(db, "1-3"), "1"));
	CHECK(streq(names(db, "/dev/bus/usb/001/004"), "1"));
	CHECK(streq(names(db, "#2"), "2"));
	CHECK(streq(names(db, "2"), "2"));
	CHECK(streq(names(db, "0000:06:00.0"), "4"));
	CHECK(streq(names(db, "06:00.0"), "4"));
	/* A PCI address is not a vid:pid, and a vid:pid is not a PCI device's. */
	CHECK(streq(names(db, "8086:107c"), ""));
	CHECK(streq(names(db, "6:00.0"), ""));
	CHECK(streq(names(db, "9-9"), ""));
	/* Ambiguous: both. */
	snprintf(want, sizeof(want), "%lld %lld", (long long)b, (long long)c);
	CHECK(streq(names(db, "04f2:b604"), want));
	/* An unplugged one gives way to a plugged-in one of the same name. */
	CHECK(db_device_absent(db, b) == 0);
	snprintf(want, sizeof(want), "%lld", (long long)c);
	CHECK(streq(names(db, "04f2:b604"), want));
	/* ... but is still found when it is the only one. */
	snprintf(want, sizeof(want), "%lld", (long long)b);
	CHECK(streq(names(db, "usb:04f2:b604:0001"), want));
	/* The exact label, as list prints it. */
	{
		struct device hub = { .kind = DEV_USB, .sysname = "3-1", .devpath = "3-1",
				      .vendor_id = 0x1d6b, .product_id = 2, .busnum = -1, .devnum = -1 };
		int64_t h = 0;

		CHECK(db_device_upsert(db, &hub, "usb:1d6b:0002@3-1", "usb 1d6b:0002 Hub at 3-1", &h) == 0);
		snprintf(want, sizeof(want), "%lld", (long long)h);
		CHECK(streq(names(db, "usb 1d6b:0002 Hub at 3-1"), want));
		CHECK(streq(names(db, "usb 1d6b:0002 Hub"), ""));
	}
	(void)a;
	(void)p;
}

static void test_decisions(struct db *db)
{
	char *allowed[] = { "vm1", "vm2" };
	struct ruleset pick = { .path = "usbPassthrough[0]", .allowed_vms = allowed,
				.n_allowed_vms = 2 };
	struct ruleset cam = { .path = "usbPassthrough[1]", .target_vm = "vm1", .tag = "cam" };
	struct ruleset pci = { .kind = DEV_PCI, .path = "pciPassthrough[0]", .allowed_vms = allowed,
			       .n_allowed_vms = 2 };
	struct decision d;

	/* A PCI function is not handed around: allowedVms is no choice for it. */
	CHECK(!decisions_allowed(&pci, "vm1"));
	CHECK(decisions_allowed(&pick, "vm2") && !decisions_allowed(&pick, "vm3"));
	CHECK(decisions_allowed(&cam, "vm1") && !decisions_allowed(&cam, "vm2"));

	/* No choice: a select waits. */
	CHECK(decisions_desired(db, &pick, "usb:a", 0, NULL, &d) == 0);
	CHECK(!d.vm && !d.kept_out);
	CHECK(db_choice_set(db, "usb:a", "vm2", "test") == 0);
	CHECK(decisions_desired(db, &pick, "usb:a", 0, NULL, &d) == 0);
	CHECK(streq(d.vm, "vm2") && d.vm == allowed[1] && d.chosen);
	/* The rules changed under the choice: the rules decide. */
	pick.n_allowed_vms = 1;
	CHECK(decisions_desired(db, &pick, "usb:a", 0, "a", &d) == 0);
	CHECK(!d.vm && !d.chosen);

	/* The tag's mark keeps it out; the device's own "let in" wins over it. */
	CHECK(decisions_desired(db, &cam, "usb:b", 0, NULL, &d) == 0);
	CHECK(streq(d.vm, "vm1") && !d.kept_out);
	CHECK(db_mark_tag(db, "cam", true, "test") == 0);
	CHECK(decisions_desired(db, &cam, "usb:b", 0, NULL, &d) == 0);
	CHECK(!d.vm && d.kept_out && strstr(d.why, "cam"));
	CHECK(db_mark_device(db, "usb:b", 0, "test") == 0);
	CHECK(decisions_desired(db, &cam, "usb:b", 0, NULL, &d) == 0);
	CHECK(streq(d.vm, "vm1") && !d.kept_out);
	CHECK(db_mark_tag(db, "cam", false, "test") == 0);
	CHECK(db_mark_device(db, "usb:b", 1, "test") == 0);
	CHECK(decisions_desired(db, &cam, "usb:b", 0, NULL, &d) == 0);
	CHECK(!d.vm && d.kept_out);
	/* Taken out by a suspend: out until resume. */
	CHECK(db_mark_device(db, "usb:b", -1, "test") == 0);
	CHECK(db_suspended_add(db, "usb:b", "vm1", "usb", "test") == 0);
	CHECK(decisions_desired(db, &cam, "usb:b", 0, NULL, &d) == 0);
	CHECK(!d.vm && d.kept_out);
	CHECK(db_suspended_del(db, "usb:b") == 0);
	CHECK(decisions_desired(db, &cam, "usb:b", 0, NULL, &d) == 0);
	CHECK(streq(d.vm, "vm1"));
}

int main(void)
{
	char path[sizeof(dir) + 16];
	struct db *db = NULL;

	if (!mkdtemp(dir))
		return 99;
	snprintf(path, sizeof(path), "%s/db", dir);
	REQUIRE(db_open(path, 1000, 0, &db) == 0);
	test_devname(db);
	test_decisions(db);
out:
	db_close(db);
	if (!check_failures) {
		char cmd[sizeof(dir) + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 99;
	}
	return check_result();
}
