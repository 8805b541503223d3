/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/api: device objects field for field as the original's to_dict(), and
 * usb_list / pci_list with its filters, on umockdev devices.
 */
#include "check.h"
#include "api-util.h"

static struct config *cfg;

/* OBJ (a literal object) with the list's fields EXTRA added at its end. */
static char *with(const char *obj, const char *extra)
{
	char *s = NULL;

	if (asprintf(&s, "%.*s,%s}", (int)strlen(obj) - 1, obj, extra) < 0)
		abort();
	return s;
}

/* The reply to REQ (JSON text) as one line; caller frees. */
static char *list(struct db *db, enum dev_kind kind, const char *req)
{
	struct api_ctx ctx = { .cfg = cfg, .db = db };
	struct api_answer ans = { 0 };
	json_object *r = json_tokener_parse(req);
	char *s = NULL;

	if (api_list(&ctx, kind, r, &ans) == 0 && ans.reply)
		s = strdup(text_of(ans.reply));
	json_object_put(ans.reply);
	json_object_put(r);
	return s;
}

static char *udev_text(const char *devpath, enum dev_kind kind)
{
	struct udev *udev = udev_new();
	char syspath[PATH_MAX];
	struct udev_device *ud;
	json_object *o = NULL;
	char *s = NULL;

	snprintf(syspath, sizeof(syspath), "/sys%s", devpath);
	ud = udev_device_new_from_syspath(udev, syspath);
	if (ud)
		o = api_device_udev(ud, kind);
	if (o)
		s = strdup(text_of(o));
	json_object_put(o);
	udev_device_unref(ud);
	udev_unref(udev);
	return s;
}

/* USBInfo.to_dict(): every key, in its order, in its formats. */
static void test_usb_object(void)
{
	_cleanup_free_ char *mouse = udev_text(MOUSE, DEV_USB);
	_cleanup_free_ char *webcam = udev_text(WEBCAM, DEV_USB);

	CHECK(streq(mouse, MOUSE_OBJ));
	CHECK(streq(webcam, WEBCAM_OBJ));
}

/* PCIInfo.to_dict(): every key, in its order, in its formats. */
static void test_pci_object(void)
{
	_cleanup_free_ char *wifi = udev_text(WIFI, DEV_PCI);

	CHECK(streq(wifi, WIFI_OBJ));
}

/* The original masks the prog-if with 0xF: an xHCI controller (0x30) says 0. */
static void test_pci_prog_if_as_original(void)
{
	_cleanup_free_ char *xhci = udev_text("/devices/pci0000:00/0000:00:14.0", DEV_PCI);

	CHECK(xhci && strstr(xhci, "\"pci_class\":12,\"pci_subclass\":3,\"pci_prog_if\":0,"));
}

/* A device gone from sysfs: what the database recorded, the rest null. */
static void test_recorded_object(void)
{
	struct db_api_device d = { .kind = "usb", .devpath = MOUSE "-gone", .sysname = "1-3",
				   .devnode = "/dev/bus/usb/001/004", .vendor_name = "Logitech",
				   .product_name = "USB Optical Mouse", .vendor_id = 0x046d,
				   .product_id = 0xc077, .busnum = 1, .devnum = 4, .present = true };
	struct db_api_device p = { .kind = "pci", .sysname = "0000:00:14.3", .vendor_id = 0x8086,
				   .product_id = 0xa0f0, .busnum = -1, .devnum = -1 };
	struct udev *udev = udev_new();
	json_object *o = api_device_object(udev, &d);

	CHECK(o && streq(text_of(o),
			 "{\"device_node\":\"/dev/bus/usb/001/004\",\"vid\":\"046d\",\"pid\":\"c077\","
			 "\"vendor_name\":\"Logitech\",\"product_name\":\"USB Optical Mouse\","
			 "\"interfaces\":null,\"device_class\":null,\"device_subclass\":null,"
			 "\"device_protocol\":null,\"busnum\":1,\"devnum\":4,\"portnum\":3,"
			 "\"serial\":null,\"sys_name\":\"1-3\"}"));
	json_object_put(o);
	o = api_device_object(udev, &p);
	CHECK(o && streq(text_of(o),
			 "{\"address\":\"0000:00:14.3\",\"driver\":null,\"vendor_id\":32902,"
			 "\"device_id\":41200,\"vid\":\"8086\",\"did\":\"A0F0\",\"vendor_name\":null,"
			 "\"device_name\":null,\"pci_class\":null,\"pci_subclass\":null,"
			 "\"pci_prog_if\":null,\"pci_subsystem_vendor_id\":null,"
			 "\"pci_subsystem_id\":null}"));
	json_object_put(o);
	udev_unref(udev);
}

/* Every device a rule set takes, udev's order, hubs left out, in no VM yet. */
static void test_usb_list(void)
{
	char dir[] = "/tmp/vhotplug-test-api-XXXXXX";
	struct db *db = db_fresh(dir);
	_cleanup_free_ char *mouse = with(MOUSE_OBJ, "\"allowed_vms\":[\"vm1\"],\"vm\":null");
	_cleanup_free_ char *cam = with(WEBCAM_OBJ, "\"allowed_vms\":[\"vm1\",\"vm2\"],\"vm\":null");
	_cleanup_free_ char *want = NULL;
	_cleanup_free_ char *got = list(db, DEV_USB, "{\"action\":\"usb_list\"}");

	CHECK(asprintf(&want, "{\"result\":\"ok\",\"usb_devices\":[%s,%s]}", mouse, cam) > 0);
	CHECK(streq(got, want));
	db_gone(db, dir);
}

/* "vm": the VM its attachment is in. */
static void test_usb_list_vm(void)
{
	char dir[] = "/tmp/vhotplug-test-api-XXXXXX";
	struct db *db = db_fresh(dir);
	int64_t id = plug(db, cfg, MOUSE);
	_cleanup_free_ char *got = NULL;
	_cleanup_free_ char *mouse = with(MOUSE_OBJ, "\"allowed_vms\":[\"vm1\"],\"vm\":\"vm1\"");

	CHECK(db_attachment_put(db, id, "vm1", "vhp-usb-mouse") == 0);
	got = list(db, DEV_USB, "{\"action\":\"usb_list\",\"tag\":\"mouse\"}");
	CHECK(got && strstr(got, mouse));
	db_gone(db, dir);
}

/* "disconnected": true only the devices a user detached (in no VM), false only the others. */
static void test_usb_list_disconnected(void)
{
	char dir[] = "/tmp/vhotplug-test-api-XXXXXX";
	struct db *db = db_fresh(dir);
	int64_t id = plug(db, cfg, MOUSE);
	_cleanup_free_ char *mouse = with(MOUSE_OBJ, "\"allowed_vms\":[\"vm1\"],\"vm\":null");
	_cleanup_free_ char *cam = with(WEBCAM_OBJ, "\"allowed_vms\":[\"vm1\",\"vm2\"],\"vm\":null");
	_cleanup_free_ char *want_out = NULL;
	_cleanup_free_ char *want_in = NULL;
	_cleanup_free_ char *out = NULL;
	_cleanup_free_ char *in = NULL;
	_cleanup_free_ char *any = NULL;

	/* A detach that left it in the VM (timed out) does not make it listed there. */
	CHECK(db_attachment_put(db, id, "vm1", "vhp-usb-mouse") == 0);
	CHECK(db_mark_device(db, "usb:046d:c077@1-3", 1, "test") == 0);
	out = list(db, DEV_USB, "{\"action\":\"usb_list\",\"disconnected\":true}");
	in = list(db, DEV_USB, "{\"action\":\"usb_list\",\"disconnected\":false}");
	/* Only JSON's true and false filter, as the original's `is True`. */
	any = list(db, DEV_USB, "{\"action\":\"usb_list\",\"disconnected\":1}");
	CHECK(asprintf(&want_out, "{\"result\":\"ok\",\"usb_devices\":[%s]}", mouse) > 0);
	CHECK(asprintf(&want_in, "{\"result\":\"ok\",\"usb_devices\":[%s]}", cam) > 0);
	CHECK(streq(out, want_out));
	CHECK(streq(in, want_in));
	CHECK(any && strstr(any, "\"sys_name\":\"1-3\"") && strstr(any, "\"sys_name\":\"1-6\""));
	db_gone(db, dir);
}

/* A rule set's tag detached by a user counts as the device's own detach. */
static void test_usb_list_disconnected_by_tag(void)
{
	char dir[] = "/tmp/vhotplug-test-api-XXXXXX";
	struct db *db = db_fresh(dir);
	_cleanup_free_ char *out = NULL;

	CHECK(db_mark_tag(db, "cam", true, "test") == 0);
	out = list(db, DEV_USB, "{\"action\":\"usb_list\",\"disconnected\":true}");
	CHECK(out && strstr(out, "\"sys_name\":\"1-6\"") && !strstr(out, "\"sys_name\":\"1-3\""));
	db_gone(db, dir);
}

/* "tag": only that rule set's devices; an empty one filters nothing, as in Python. */
static void test_usb_list_tag(void)
{
	char dir[] = "/tmp/vhotplug-test-api-XXXXXX";
	struct db *db = db_fresh(dir);
	_cleanup_free_ char *cam = list(db, DEV_USB, "{\"action\":\"usb_list\",\"tag\":\"cam\"}");
	_cleanup_free_ char *none = list(db, DEV_USB, "{\"action\":\"usb_list\",\"tag\":\"kbd\"}");
	_cleanup_free_ char *empty = list(db, DEV_USB, "{\"action\":\"usb_list\",\"tag\":\"\"}");

	CHECK(cam && strstr(cam, "\"sys_name\":\"1-6\"") && !strstr(cam, "\"sys_name\":\"1-3\""));
	CHECK(streq(none, "{\"result\":\"ok\",\"usb_devices\":[]}"));
	CHECK(empty && strstr(empty, "\"sys_name\":\"1-6\"") && strstr(empty, "\"sys_name\":\"1-3\""));
	db_gone(db, dir);
}

/* A "tag" that is no string: Python's truth decides, and no set's tag equals it. */
static void test_usb_list_tag_not_text(void)
{
	char dir[] = "/tmp/vhotplug-test-api-XXXXXX";
	struct db *db = db_fresh(dir);
	_cleanup_free_ char *one = list(db, DEV_USB, "{\"action\":\"usb_list\",\"tag\":1}");
	_cleanup_free_ char *arr = list(db, DEV_USB, "{\"action\":\"usb_list\",\"tag\":[\"cam\"]}");
	_cleanup_free_ char *none = list(db, DEV_USB, "{\"action\":\"usb_list\",\"tag\":[]}");

	CHECK(streq(one, "{\"result\":\"ok\",\"usb_devices\":[]}"));
	CHECK(streq(arr, "{\"result\":\"ok\",\"usb_devices\":[]}"));
	CHECK(none && strstr(none, "\"sys_name\":\"1-6\"") && strstr(none, "\"sys_name\":\"1-3\""));
	db_gone(db, dir);
}

/* No config loaded: no rule set takes anything, and nothing fails. */
static void test_list_without_config(void)
{
	char dir[] = "/tmp/vhotplug-test-api-XXXXXX";
	struct db *db = db_fresh(dir);
	struct config *loaded = cfg;
	_cleanup_free_ char *got = NULL;

	cfg = NULL;
	got = list(db, DEV_USB, "{\"action\":\"usb_list\"}");
	cfg = loaded;
	CHECK(streq(got, "{\"result\":\"ok\",\"usb_devices\":[]}"));
	db_gone(db, dir);
}

/*
 * PCI: by the place of the rule that took them, then by address; the other
 * functions of a pciIommuAddAll group with "iommu_member" (bridges stay with
 * the host, as the attach leaves them).
 */
static void test_pci_list(void)
{
	char dir[] = "/tmp/vhotplug-test-api-XXXXXX";
	struct db *db = db_fresh(dir);
	_cleanup_free_ char *got = list(db, DEV_PCI, "{\"action\":\"pci_list\"}");
	_cleanup_free_ char *wifi = with(WIFI_OBJ, "\"allowed_vms\":[\"vm1\"],\"vm\":null");
	const char *a = got ? strstr(got, "\"address\":\"0000:06:00.0\"") : NULL;
	const char *b = got ? strstr(got, "\"address\":\"0000:06:01.0\"") : NULL;
	const char *c = got ? strstr(got, "\"address\":\"0000:06:02.0\"") : NULL;
	const char *w = got ? strstr(got, wifi) : NULL;

	REQUIRE(got);
	CHECK(strncmp(got, "{\"result\":\"ok\",\"pci_devices\":[{\"address\":\"0000:06:00.0\"", 55) == 0);
	CHECK(a && b && c && w && a < b && b < c && c < w);
	CHECK(!strstr(got, "0000:05:00.0") && !strstr(got, "0000:00:14.0"));
	CHECK(b && strstr(b, "\"pci_subsystem_id\":\"1371\",\"iommu_member\":true,"
			    "\"allowed_vms\":[\"vm2\"],\"vm\":null}"));
	CHECK(a && b && !memmem(a, (size_t)(b - a), "iommu_member", 12));
out:
	db_gone(db, dir);
}

/* pci_list's "tag" filters after the group is gathered: its members carry the group's tag. */
static void test_pci_list_tag(void)
{
	char dir[] = "/tmp/vhotplug-test-api-XXXXXX";
	struct db *db = db_fresh(dir);
	_cleanup_free_ char *wifi = list(db, DEV_PCI, "{\"action\":\"pci_list\",\"tag\":\"wifi\"}");
	_cleanup_free_ char *nic = list(db, DEV_PCI, "{\"action\":\"pci_list\",\"tag\":\"nic\"}");

	CHECK(wifi && strstr(wifi, "0000:00:14.3") && !strstr(wifi, "0000:06:"));
	CHECK(nic && strstr(nic, "0000:06:02.0") && !strstr(nic, "0000:00:14.3"));
	db_gone(db, dir);
}

int main(int argc, char **argv)
{
	(void)argc;
	testbed_enter(argv);
	cfg = config_from(config_json);
	test_usb_object();
	test_pci_object();
	test_pci_prog_if_as_original();
	test_recorded_object();
	test_usb_list();
	test_usb_list_vm();
	test_usb_list_disconnected();
	test_usb_list_disconnected_by_tag();
	test_usb_list_tag();
	test_usb_list_tag_not_text();
	test_list_without_config();
	test_pci_list();
	test_pci_list_tag();
	config_free(cfg);
	return check_result();
}
