/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/api: history rows, written as lib/intake and statd's outcomes write
 * them, become the original's notifications (its apiserver.py notify_*), in
 * its order. Devices from umockdev recordings.
 */
#include "check.h"
#include "api-util.h"

static struct config *cfg;

struct run {
	char dir[40];
	struct db *db;
	struct api_ctx ctx;
	int64_t last;
	char out[65536];	/* the notes of the last collect, one a line */
	size_t len;
	int n;
};

static void emit(json_object *note, void *userdata)
{
	struct run *r = userdata;

	r->n++;
	r->len += snprintf(r->out + r->len, sizeof(r->out) - r->len, "%s\n", text_of(note));
}

static void run_start(struct run *r)
{
	*r = (struct run){ .dir = "/tmp/vhotplug-test-api-XXXXXX" };
	r->db = db_fresh(r->dir);
	r->ctx = (struct api_ctx){ .cfg = cfg, .db = r->db };
	CHECK(api_notify_start(&r->ctx, &r->last) == 0);
}

/* The notes since the last collect, one a line. */
static const char *collect(struct run *r)
{
	r->len = 0;
	r->n = 0;
	r->out[0] = '\0';
	CHECK(api_notify_collect(&r->ctx, &r->last, emit, r) == 0);
	return r->out;
}

/* statd put device ID into VM: the attachment and its history row, as outcome.c records them. */
static void attached(struct run *r, int64_t id, const char *vm)
{
	CHECK(db_begin(r->db) == 0);
	CHECK(db_attachment_put(r->db, id, vm, "vhp-test") == 0);
	CHECK(db_history_add(r->db, id, "test device", HISTORY_ATTACHED, vm, "ok") == 0);
	CHECK(db_commit(r->db) == 0);
}

static void detached(struct run *r, int64_t id, const char *vm)
{
	CHECK(db_begin(r->db) == 0);
	CHECK(db_attachment_drop(r->db, vm, "vhp-test") == 0);
	CHECK(db_history_add(r->db, id, "test device", HISTORY_DETACHED, vm, "ok") == 0);
	CHECK(db_commit(r->db) == 0);
}

/* The helper's remove event. */
static void unplugged(struct run *r, const char *devpath)
{
	CHECK(db_begin(r->db) == 0);
	CHECK(intake_remove(r->db, devpath) == 0);
	CHECK(db_commit(r->db) == 0);
}

static void run_end(struct run *r)
{
	db_gone(r->db, r->dir);
}

#define CONNECTED(obj) "{\"event\":\"usb_connected\",\"usb_device\":" obj "}\n"
#define MOUSE_KEY "{\"device_node\":\"/dev/bus/usb/001/004\"}"
#define MOUSE_DETACHED(vm) "{\"event\":\"usb_detached\",\"usb_device\":" MOUSE_KEY ",\"vm\":\"" vm "\"}\n"
#define MOUSE_GONE "{\"event\":\"usb_disconnected\",\"usb_device\":" MOUSE_KEY "}\n"

/* Only what happens after the start is sent. */
static void test_from_start(void)
{
	struct run r;

	run_start(&r);
	plug(r.db, cfg, MOUSE);
	CHECK(api_notify_start(&r.ctx, &r.last) == 0);
	CHECK(streq(collect(&r), ""));
	run_end(&r);
}

/* A plug: usb_connected with the whole device, then usb_attached with its VM. */
static void test_plug_then_attached(void)
{
	struct run r;
	int64_t id;

	run_start(&r);
	id = plug(r.db, cfg, MOUSE);
	CHECK(streq(collect(&r), CONNECTED(MOUSE_OBJ)));
	attached(&r, id, "vm1");
	CHECK(streq(collect(&r),
		    "{\"event\":\"usb_attached\",\"usb_device\":" MOUSE_OBJ ",\"vm\":\"vm1\"}\n"));
	run_end(&r);
}

/* An allowedVms device: usb_connected, then usb_select_vm with the VMs to choose from. */
static void test_select_vm(void)
{
	struct run r;

	run_start(&r);
	plug(r.db, cfg, WEBCAM);
	CHECK(streq(collect(&r), CONNECTED(WEBCAM_OBJ)
		    "{\"event\":\"usb_select_vm\",\"usb_device\":" WEBCAM_OBJ ","
		    "\"allowed_vms\":[\"vm1\",\"vm2\"]}\n"));
	run_end(&r);
}

/* A move: usb_detached (its device node only) from the old VM, then usb_attached to the new. */
static void test_move(void)
{
	struct run r;
	int64_t id;

	run_start(&r);
	id = plug(r.db, cfg, MOUSE);
	attached(&r, id, "vm1");
	collect(&r);
	detached(&r, id, "vm1");
	attached(&r, id, "vm2");
	CHECK(streq(collect(&r), MOUSE_DETACHED("vm1")
		    "{\"event\":\"usb_attached\",\"usb_device\":" MOUSE_OBJ ",\"vm\":\"vm2\"}\n"));
	run_end(&r);
}

/* usb_detached has its "vm" even when the row names none: null, as the original's key is always there. */
static void test_detached_vm_always_there(void)
{
	struct run r;
	int64_t id;

	run_start(&r);
	id = plug(r.db, cfg, MOUSE);
	collect(&r);
	CHECK(db_history_add(r.db, id, "test device", HISTORY_DETACHED, NULL, "ok") == 0);
	CHECK(streq(collect(&r), "{\"event\":\"usb_detached\",\"usb_device\":" MOUSE_KEY ",\"vm\":null}\n"));
	run_end(&r);
}

/* Unplugged while in a VM: usb_disconnected waits for the detach, as the original sends it after. */
static void test_unplug_waits_for_detach(void)
{
	struct run r;
	int64_t id;

	run_start(&r);
	id = plug(r.db, cfg, MOUSE);
	attached(&r, id, "vm1");
	collect(&r);
	unplugged(&r, MOUSE);
	CHECK(streq(collect(&r), ""));
	detached(&r, id, "vm1");
	CHECK(streq(collect(&r), MOUSE_DETACHED("vm1") MOUSE_GONE));
	run_end(&r);
}

/* The unplug and the detach read in one go: the same order. */
static void test_unplug_and_detach_together(void)
{
	struct run r;
	int64_t id;

	run_start(&r);
	id = plug(r.db, cfg, MOUSE);
	attached(&r, id, "vm1");
	collect(&r);
	unplugged(&r, MOUSE);
	detached(&r, id, "vm1");
	CHECK(streq(collect(&r), MOUSE_DETACHED("vm1") MOUSE_GONE));
	run_end(&r);
}

/* In no VM: usb_disconnected at once. */
static void test_unplug_not_attached(void)
{
	struct run r;

	run_start(&r);
	plug(r.db, cfg, MOUSE);
	collect(&r);
	unplugged(&r, MOUSE);
	CHECK(streq(collect(&r), MOUSE_GONE));
	run_end(&r);
}

/* The attach it was going in with failed: no detach comes, the note goes out then. */
static void test_unplug_attach_failed(void)
{
	struct run r;
	int64_t id;

	run_start(&r);
	id = plug(r.db, cfg, MOUSE);
	collect(&r);
	CHECK(db_attachment_put(r.db, id, "vm1", "vhp-test") == 0);
	CHECK(db_attachment_settle(r.db, "vm1", "vhp-test", ATTACHMENT_ATTACHING, NULL) == 0);
	unplugged(&r, MOUSE);
	CHECK(streq(collect(&r), ""));
	CHECK(db_begin(r.db) == 0);
	CHECK(db_attachment_drop(r.db, "vm1", "vhp-test") == 0);
	CHECK(db_history_add(r.db, id, "test device", HISTORY_ATTACH_FAILED, "vm1", "gone") == 0);
	CHECK(db_commit(r.db) == 0);
	CHECK(streq(collect(&r), MOUSE_GONE));
	run_end(&r);
}

/* A queued attach cancelled by the unplug is no end while the device is still in a VM. */
static void test_unplug_attach_cancelled_while_in_vm(void)
{
	struct run r;
	int64_t id;

	run_start(&r);
	id = plug(r.db, cfg, MOUSE);
	attached(&r, id, "vm1");
	collect(&r);
	unplugged(&r, MOUSE);
	CHECK(db_history_add(r.db, id, "test device", HISTORY_ATTACH_CANCELLED, NULL,
			     "device unplugged before it was attached") == 0);
	CHECK(streq(collect(&r), ""));
	detached(&r, id, "vm1");
	CHECK(streq(collect(&r), MOUSE_DETACHED("vm1") MOUSE_GONE));
	run_end(&r);
}

/* Its attachment went with no history row (statd found nothing to detach): out at the next collect. */
static void test_unplug_attachment_gone(void)
{
	struct run r;
	int64_t id;

	run_start(&r);
	id = plug(r.db, cfg, MOUSE);
	attached(&r, id, "vm1");
	collect(&r);
	unplugged(&r, MOUSE);
	CHECK(streq(collect(&r), ""));
	CHECK(db_attachment_drop(r.db, "vm1", "vhp-test") == 0);
	CHECK(streq(collect(&r), MOUSE_GONE));
	run_end(&r);
}

/* Plugged again before the detach was recorded: it left first. */
static void test_replug_releases(void)
{
	struct run r;
	int64_t id;

	run_start(&r);
	id = plug(r.db, cfg, MOUSE);
	attached(&r, id, "vm1");
	collect(&r);
	unplugged(&r, MOUSE);
	CHECK(db_attachment_drop(r.db, "vm1", "vhp-test") == 0);
	plug(r.db, cfg, MOUSE);
	CHECK(streq(collect(&r), MOUSE_GONE CONNECTED(MOUSE_OBJ)));
	run_end(&r);
}

/* Held notes are bounded: past the bound the oldest goes out, out of order rather than never. */
static void test_hold_bounded(void)
{
	struct run r;

	run_start(&r);
	for (int i = 1; i <= 65; i++) {
		char devpath[64], ident[64], node[64];
		struct device dev = { .kind = DEV_USB, .devpath = devpath, .sysname = devpath + 9,
				      .devnode = node, .vendor_id = 1, .product_id = i,
				      .busnum = 9, .devnum = i };
		int64_t id = 0;

		snprintf(devpath, sizeof(devpath), "/devices/9-%d", i);
		snprintf(ident, sizeof(ident), "usb:0001:%04x@9-%d", i, i);
		snprintf(node, sizeof(node), "/dev/bus/usb/009/%03d", i);
		CHECK(db_device_upsert(r.db, &dev, ident, ident, &id) == 0);
		CHECK(db_attachment_put(r.db, id, "vm1", ident) == 0);
		unplugged(&r, devpath);
	}
	CHECK(streq(collect(&r), "{\"event\":\"usb_disconnected\","
		    "\"usb_device\":{\"device_node\":\"/dev/bus/usb/009/001\"}}\n"));
	run_end(&r);
}

/* A hub is a USB device like any: the original says usb_connected (and nothing more). */
static void test_hub_connected(void)
{
	struct run r;

	run_start(&r);
	plug(r.db, cfg, HUB);
	CHECK(strncmp(collect(&r), "{\"event\":\"usb_connected\",\"usb_device\":"
		      "{\"device_node\":\"/dev/bus/usb/001/002\",\"vid\":\"05e3\"", 71) == 0);
	CHECK(r.n == 1);
	run_end(&r);
}

/* With usbAuthorization, the original authorizes a plugged hub and says nothing of it. */
static void test_hub_silent_with_authorization(void)
{
	struct config *plain = cfg;
	struct run r;

	cfg = config_from("{\"usbAuthorization\":{\"enable\":true},"
			  "\"vms\":[{\"name\":\"vm1\",\"type\":\"qemu\",\"socket\":\"/run/vm1.sock\"}]}");
	run_start(&r);
	plug(r.db, cfg, HUB);
	CHECK(streq(collect(&r), ""));
	plug(r.db, cfg, MOUSE);
	CHECK(strstr(collect(&r), "\"sys_name\":\"1-3\""));
	run_end(&r);
	config_free(cfg);
	cfg = plain;
}

/* PCI: the whole device in pci_connected, pci_attached and pci_detached; its address when it leaves. */
static void test_pci(void)
{
	struct run r;
	int64_t id;

	run_start(&r);
	id = plug(r.db, cfg, WIFI);
	CHECK(streq(collect(&r), "{\"event\":\"pci_connected\",\"pci_device\":" WIFI_OBJ "}\n"));
	attached(&r, id, "vm1");
	CHECK(streq(collect(&r),
		    "{\"event\":\"pci_attached\",\"pci_device\":" WIFI_OBJ ",\"vm\":\"vm1\"}\n"));
	detached(&r, id, "vm1");
	CHECK(streq(collect(&r),
		    "{\"event\":\"pci_detached\",\"pci_device\":" WIFI_OBJ ",\"vm\":\"vm1\"}\n"));
	unplugged(&r, WIFI);
	CHECK(streq(collect(&r),
		    "{\"event\":\"pci_disconnected\",\"pci_device\":{\"address\":\"0000:00:14.3\"}}\n"));
	run_end(&r);
}

int main(int argc, char **argv)
{
	(void)argc;
	testbed_enter(argv);
	cfg = config_from(config_json);
	test_from_start();
	test_plug_then_attached();
	test_select_vm();
	test_move();
	test_detached_vm_always_there();
	test_unplug_waits_for_detach();
	test_unplug_and_detach_together();
	test_unplug_not_attached();
	test_unplug_attach_failed();
	test_unplug_attach_cancelled_while_in_vm();
	test_unplug_attachment_gone();
	test_replug_releases();
	test_hold_bounded();
	test_hub_connected();
	test_hub_silent_with_authorization();
	test_pci();
	config_free(cfg);
	return check_result();
}
