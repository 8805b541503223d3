/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/api's requests (api_request()) on a real database, with umockdev
 * devices: the original's error texts, its selectors' precedence, who may
 * ask what, history, and replies that wait for their intents, whose end is
 * written here as statd writes it. Runs itself again under umockdev-run.
 */
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "check.h"
#include "db.h"
#include "device.h"
#include "ident.h"
#include "macro.h"

static char dir[] = "/tmp/vhotplug-test-api.XXXXXX";
static struct config *cfg;
static struct db *db;
static struct paths paths;
static int n_db;

static const struct api_caller unix_caller = {
	.transport = API_UNIX, .uid = 0, .pid = 1, .who = "api unix uid=0 pid=1",
};
static const struct api_caller vsock_caller = {
	.transport = API_VSOCK, .cid = 3, .vm = "gui-vm", .who = "api vsock cid=3 vm=gui-vm",
};
static const struct api_caller tcp_caller = {
	.transport = API_TCP, .who = "api tcp 127.0.0.1:40000",
};

#define MOUSE "/dev/bus/usb/001/004"		/* 1-3, 046d:c077: allowedVms vm1, vm2 */
#define CAM "/dev/bus/usb/001/007"		/* 1-6, 04f2:b604: targetVm vm1, tag cam */
#define AUDIO "/dev/bus/usb/001/003"		/* 1-2, 0d8c:0014: no rule */
#define WIFI "0000:00:14.3"			/* 8086:a0f0: targetVm vm2 */

/* A fresh database with every usb_device and pci device of the testbed recorded plugged in. */
static void fresh_db(void)
{
	struct udev *udev = udev_new();
	struct udev_enumerate *e = udev_enumerate_new(udev);
	struct udev_list_entry *it;
	char path[sizeof(dir) + 32];

	db_close(db);
	db = NULL;
	snprintf(path, sizeof(path), "%s/%d.db", dir, ++n_db);
	CHECK(db_open(path, 1000, 0, &db) == 0);
	udev_enumerate_add_match_subsystem(e, "usb");
	udev_enumerate_add_match_subsystem(e, "pci");
	udev_enumerate_scan_devices(e);
	udev_list_entry_foreach(it, udev_enumerate_get_list_entry(e)) {
		struct udev_device *ud = udev_device_new_from_syspath(udev,
								      udev_list_entry_get_name(it));
		const char *type = ud ? udev_device_get_devtype(ud) : NULL;
		struct device *dev = NULL;

		if (ud && (streq(udev_device_get_subsystem(ud), "pci") || streq(type, "usb_device")) &&
		    device_from_udev(ud, &dev) == 0) {
			_cleanup_free_ char *ident = ident_make(dev), *label = device_describe(dev);
			int64_t id;

			CHECK(ident && label && db_device_upsert(db, dev, ident, label, &id) == 0);
			device_free(dev);
		}
		udev_device_unref(ud);
	}
	udev_enumerate_unref(e);
	udev_unref(udev);
}

/* api_request() of the JSON TEXT from CALLER. */
static struct api_answer ask(const struct api_caller *caller, const char *text)
{
	struct api_ctx ctx = { .paths = &paths, .cfg = cfg, .db = db };
	json_object *req = text ? json_tokener_parse(text) : NULL;
	struct api_answer ans;

	CHECK(api_request(&ctx, caller, req, &ans) == 0);
	CHECK(!ans.reply != !ans.pending);
	json_object_put(req);
	return ans;
}

/* The reply of ANS (now, or polled once): its "error", "ok", or "" while pending. */
static const char *reply_of(struct api_answer *ans)
{
	static char buf[1024];
	struct api_ctx ctx = { .paths = &paths, .cfg = cfg, .db = db };
	json_object *reply = ans->reply, *v;
	int r;

	if (!reply) {
		r = api_call_poll(ans->pending, &ctx, &reply);
		CHECK(r >= 0);
		if (r != 0)
			return "";
		api_call_free(ans->pending);
		ans->pending = NULL;
	}
	ans->reply = NULL;
	if (json_object_object_get_ex(reply, "error", &v))
		snprintf(buf, sizeof(buf), "%s", json_object_get_string(v));
	else if (json_object_object_get_ex(reply, "result", &v))
		snprintf(buf, sizeof(buf), "%s", json_object_get_string(v));
	else
		snprintf(buf, sizeof(buf), "?");
	json_object_put(reply);
	return buf;
}

/* ask() and its reply at once. */
static const char *reply(const struct api_caller *caller, const char *text)
{
	struct api_answer ans = ask(caller, text);

	CHECK(ans.reply);
	return reply_of(&ans);
}

struct open_intent {
	int64_t id, device_id;
	enum intent_action action;
	char vm[32];
};

struct opens {
	struct open_intent v[16];
	size_t n;
};

static int collect(void *userdata, const struct db_pending *p)
{
	struct opens *o = userdata;

	if (o->n == ARRAY_SIZE(o->v))
		return -E2BIG;
	o->v[o->n] = (struct open_intent){ .id = p->intent_id, .device_id = p->device_id,
					   .action = p->action };
	snprintf(o->v[o->n++].vm, sizeof(o->v[0].vm), "%s", p->vm ?: "");
	return 0;
}

static size_t opens(struct opens *o)
{
	o->n = 0;
	CHECK(db_intents_pending(db, 0, collect, o) == 0);
	return o->n;
}

/* End every open intent as statd's outcome does: done (the attachment rows follow) or failed. */
static void end_intents(enum intent_state state, const char *result)
{
	struct opens o;

	opens(&o);
	for (size_t i = 0; i < o.n; i++) {
		struct open_intent *in = &o.v[i];
		struct db_attachment a = { 0 };
		char key[64];
		bool detach = in->action == INTENT_DETACH;

		snprintf(key, sizeof(key), "vhp-test-%lld", (long long)in->device_id);
		CHECK(db_begin(db) == 0);
		if (state == INTENT_DONE && !detach)
			CHECK(db_attachment_put(db, in->device_id, in->vm, key) == 0);
		if (state == INTENT_DONE && detach &&
		    db_attachment_find(db, in->device_id, in->vm[0] ? in->vm : NULL, &a) == 0)
			CHECK(db_attachment_drop(db, a.vm, a.qdev_id) == 0);
		db_attachment_clear(&a);
		CHECK(db_history_add(db, in->device_id, "test", state == INTENT_DONE ?
				     (detach ? HISTORY_DETACHED : HISTORY_ATTACHED) :
				     (detach ? HISTORY_DETACH_FAILED : HISTORY_ATTACH_FAILED),
				     in->vm, result) == 0);
		CHECK(db_intent_finish(db, in->id, state, result) == 0);
		CHECK(db_commit(db) == 0);
	}
}

struct device_find {
	const char *name;
	int64_t id;
};

static int find_one(void *userdata, const struct db_device_name_row *d)
{
	struct device_find *f = userdata;

	if ((d->devnode && streq(d->devnode, f->name)) || streq(d->sysname, f->name))
		f->id = d->id;
	return 0;
}

/* The row id of the device of node or sysname NAME. */
static int64_t id_of(const char *name)
{
	struct device_find f = { name, 0 };

	CHECK(db_devices_each_named(db, find_one, &f) == 0);
	return f.id;
}

struct history_find {
	const char *device, *needle;
	int n;
};

static int history_one(void *userdata, const struct db_history_row *h)
{
	struct history_find *f = userdata;

	if (streq(h->device, f->device) && streq(h->event, "requested") && h->detail &&
	    strstr(h->detail, f->needle))
		f->n++;
	return 0;
}

/* How many 'requested' history rows of DEVICE (the device column) have NEEDLE in their detail. */
static int requested_rows(const char *device, const char *needle)
{
	struct history_find f = { device, needle, 0 };

	CHECK(db_history_each(db, 0, NULL, 0, history_one, &f) == 0);
	return f.n;
}

/* The open intents' devices and actions, "ID:attach ID:detach". */
static const char *open_list(void)
{
	static char buf[256];
	struct opens o;
	size_t len = 0;

	buf[0] = '\0';
	opens(&o);
	for (size_t i = 0; i < o.n; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%lld:%s", i ? " " : "",
				(long long)o.v[i].device_id, intent_action_to_string(o.v[i].action));
	return buf;
}

static const char *want_open(int64_t id, const char *action)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%lld:%s", (long long)id, action);
	return buf;
}

/* Device MOUSE attached to VM through the API, done. */
static void mouse_in(const char *vm)
{
	char req[128];
	struct api_answer ans;

	snprintf(req, sizeof(req), "{\"action\": \"usb_attach\", \"device_node\": \"%s\", \"vm\": \"%s\"}",
		 MOUSE, vm);
	ans = ask(&unix_caller, req);
	end_intents(INTENT_DONE, "attached");
	CHECK(streq(reply_of(&ans), "ok"));
}

/* ---- the original's texts: vhotplug/apiserver.py handle_message() ---- */

static void test_no_action(void)
{
	fresh_db();
	/* apiserver.py: {"result": "failed", "error": "No action specified"} */
	CHECK(streq(reply(&unix_caller, "{}"), "No action specified"));
	CHECK(streq(reply(&unix_caller, "{\"action\": \"\"}"), "No action specified"));
	CHECK(streq(reply(&unix_caller, NULL), "No action specified"));
}

static void test_unknown_action(void)
{
	fresh_db();
	/* apiserver.py: f"Unknown message: {action}" */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_frob\"}"), "Unknown message: usb_frob"));
	/* An action is a name: a number is none the table has. */
	CHECK(streq(reply(&unix_caller, "{\"action\": 7}"), "Unknown message: 7"));
}

static void test_vmm_args_needs_vm(void)
{
	fresh_db();
	/* apiserver.py _on_vmm_args(): raise RuntimeError("VM name is required") */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"vmm_args\"}"), "VM name is required"));
	CHECK(streq(reply(&unix_caller, "{\"action\": \"vmm_args\", \"vm\": \"\"}"), "VM name is required"));
}

/* ---- device.py's "not found" texts, one per selector ---- */

static void test_usb_not_found(void)
{
	fresh_db();
	/* device.py attach_existing_usb_device(): f"USB device {device_node} not found in the system" */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_attach\", \"device_node\": \"/dev/bus/usb/009/009\"}"),
		    "USB device /dev/bus/usb/009/009 not found in the system"));
	/* device.py remove_existing_usb_device(): the same words */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_detach\", \"device_node\": \"/dev/bus/usb/009/009\"}"),
		    "USB device /dev/bus/usb/009/009 not found in the system"));
	/* device.py ..._by_bus_port(): f"USB device with bus {bus} and port {port} not found in the system" */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_attach\", \"bus\": 9, \"port\": 9}"),
		    "USB device with bus 9 and port 9 not found in the system"));
	/* device.py ..._by_vid_pid(): f"USB device {vid}:{pid} not found in the system" */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_detach\", \"vid\": \"dead\", \"pid\": \"beef\"}"),
		    "USB device dead:beef not found in the system"));
}

static void test_pci_not_found(void)
{
	fresh_db();
	/* device.py attach_existing_pci_device(): f"PCI device {pci_address} not found in the system" */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"pci_attach\", \"address\": \"0000:09:00.0\"}"),
		    "PCI device 0000:09:00.0 not found in the system"));
	/* device.py ..._by_vid_did(): f"PCI device {vid}:{did} not found in the system" */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"pci_detach\", \"vid\": \"dead\", \"did\": \"beef\"}"),
		    "PCI device dead:beef not found in the system"));
}

static void test_pci_vid_not_hex(void)
{
	fresh_db();
	/* device.py's int(vid, 16) raised ValueError; handle_message() answered with its text. */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"pci_attach\", \"vid\": \"xyz\", \"did\": \"1\"}"),
		    "invalid literal for int() with base 16: 'xyz'"));
}

static void test_selector_required(void)
{
	fresh_db();
	/* apiserver.py _on_usb_attach(): assert ..., "vid and pid must be set" */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_attach\"}"), "vid and pid must be set"));
	/* apiserver.py _on_pci_detach(): assert ..., "vid and did must be set" */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"pci_detach\", \"vid\": \"8086\"}"),
		    "vid and did must be set"));
}

static void test_selected_vm_not_allowed(void)
{
	fresh_db();
	/* device.py _attach_existing_device(): f"Selected VM {selected_vm} is not allowed" */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_attach\", \"device_node\": \"" MOUSE "\", \"vm\": \"vm3\"}"),
		    "Selected VM vm3 is not allowed"));
	CHECK(streq(open_list(), ""));
}

static void test_selected_vm_not_target(void)
{
	fresh_db();
	/* device.py: f"Selected VM {selected_vm} but target VM is set to {target_vm}" */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_attach\", \"device_node\": \"" CAM "\", \"vm\": \"vm2\"}"),
		    "Selected VM vm2 but target VM is set to vm1"));
	CHECK(streq(open_list(), ""));
}

static void test_no_vm_found(void)
{
	fresh_db();
	/* device.py: f"No VM found for {dev_info.friendly_name()}"; usb.py friendly_name() */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_attach\", \"device_node\": \"" AUDIO "\"}"),
		    "No VM found for 0d8c:0014 (C-Media Electronics, Inc. Audio Adapter (Unitek Y-247A))"));
}

static void test_not_attached(void)
{
	int dev = 0;
	bool tag_out = true;

	fresh_db();
	/* device.py remove_device(): f"Device {dev_info.friendly_name()} is not attached to any VM" */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_detach\", \"device_node\": \"" MOUSE "\"}"),
		    "Device 046d:c077 (Logitech, Inc. Mouse) is not attached to any VM"));
	/* pci.py friendly_name(): address, PCI_ID's vid:did, the names */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"pci_detach\", \"address\": \"" WIFI "\"}"),
		    "Device 0000:00:14.3 8086:A0F0 (Intel Corporation Wi-Fi 6 AX201) is not attached to any VM"));
	/* As the original, nothing is marked: set_disconnected() came after the removal. */
	CHECK(db_marks_get(db, "usb:046d:c077@1-3", NULL, &dev, &tag_out) == 0);
	CHECK(dev == -1);
	CHECK(streq(open_list(), ""));
}

/* ---- selectors: apiserver.py's precedence ---- */

static void test_device_node_first(void)
{
	struct api_answer ans;

	fresh_db();
	/* bus and port name the camera, vid and pid the audio: the node (the mouse) wins. */
	ans = ask(&unix_caller, "{\"action\": \"usb_attach\", \"device_node\": \"" MOUSE "\", \"bus\": 1,"
		  " \"port\": 6, \"tag\": \"cam\", \"vid\": \"0d8c\", \"pid\": \"0014\", \"vm\": \"vm2\"}");
	CHECK(ans.pending && ans.queued);
	CHECK(streq(open_list(), want_open(id_of(MOUSE), "attach")));
	api_call_free(ans.pending);
}

static void test_bus_port_before_tag(void)
{
	struct api_answer ans;

	fresh_db();
	ans = ask(&unix_caller, "{\"action\": \"usb_attach\", \"bus\": 1, \"port\": 3, \"tag\": \"cam\","
		  " \"vm\": \"vm1\"}");
	CHECK(ans.pending);
	CHECK(streq(open_list(), want_open(id_of(MOUSE), "attach")));
	api_call_free(ans.pending);
}

static void test_bus_port_are_numbers(void)
{
	fresh_db();
	/* The original compared them with udev's integers: "1" equals no bus. */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_attach\", \"bus\": \"1\", \"port\": \"3\"}"),
		    "USB device with bus 1 and port 3 not found in the system"));
	/* Bus 0 is false: `elif bus and port` passes on to the tag, then to vid and pid. */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_attach\", \"bus\": 0, \"port\": 3}"),
		    "vid and pid must be set"));
}

static void test_tag_before_vid_pid(void)
{
	struct api_answer ans;

	fresh_db();
	ans = ask(&unix_caller, "{\"action\": \"usb_attach\", \"tag\": \"cam\", \"vid\": \"046d\", \"pid\": \"c077\"}");
	CHECK(ans.pending);
	CHECK(streq(open_list(), want_open(id_of(CAM), "attach")));
	end_intents(INTENT_FAILED, "device_add: no free port");
	/* A tag's devices are many: the original said "ok" whatever each one's end. */
	CHECK(streq(reply_of(&ans), "ok"));
}

static void test_vid_pid_any_case(void)
{
	struct api_answer ans;

	fresh_db();
	ans = ask(&unix_caller, "{\"action\": \"usb_attach\", \"vid\": \"046D\", \"pid\": \"C077\", \"vm\": \"vm1\"}");
	CHECK(ans.pending);
	CHECK(streq(open_list(), want_open(id_of(MOUSE), "attach")));
	api_call_free(ans.pending);
}

static void test_pci_vid_did(void)
{
	struct api_answer ans;

	fresh_db();
	/* int(vid, 16): "0x8086" and "a0f0" are udev's numbers. */
	ans = ask(&unix_caller, "{\"action\": \"pci_attach\", \"vid\": \"0x8086\", \"did\": \"a0f0\"}");
	CHECK(ans.pending);
	CHECK(streq(open_list(), want_open(id_of(WIFI), "attach")));
	api_call_free(ans.pending);
}

/* ---- who may ask what ---- */

static void test_vsock_usb_only(void)
{
	const char *refused[] = { "usb_suspend", "usb_resume", "pci_list", "pci_attach", "pci_detach",
				  "pci_suspend", "pci_resume", "vmm_args" };
	char req[128];

	fresh_db();
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		snprintf(req, sizeof(req), "{\"action\": \"%s\", \"vm\": \"vm2\", \"address\": \"" WIFI "\"}",
			 refused[i]);
		CHECK(strstr(reply(&vsock_caller, req), "is not allowed over vsock (CID 3)"));
		CHECK(requested_rows(refused[i], "asked by api vsock cid=3 vm=gui-vm") == 1);
	}
	CHECK(streq(open_list(), ""));
	CHECK(streq(reply(&vsock_caller, "{\"action\": \"enable_notifications\"}"), "ok"));
}

static void test_vsock_attaches_within_rules(void)
{
	struct api_answer ans;

	fresh_db();
	CHECK(streq(reply(&vsock_caller, "{\"action\": \"usb_attach\", \"device_node\": \"" MOUSE "\", \"vm\": \"host\"}"),
		    "Selected VM host is not allowed"));
	ans = ask(&vsock_caller, "{\"action\": \"usb_attach\", \"device_node\": \"" MOUSE "\", \"vm\": \"vm2\"}");
	CHECK(ans.pending);
	api_call_free(ans.pending);
}

static void test_grant_widens_one_cid(void)
{
	char *actions[] = { "usb_suspend" };
	struct api_cid_grant grant = { .cid = 3, .actions = actions, .n_actions = 1 };
	struct api_caller other = vsock_caller;

	fresh_db();
	cfg->api.grants = &grant;
	cfg->api.n_grants = 1;
	/* Nothing attached: nothing to take, answered at once. */
	CHECK(streq(reply(&vsock_caller, "{\"action\": \"usb_suspend\"}"), "ok"));
	CHECK(strstr(reply(&vsock_caller, "{\"action\": \"usb_resume\"}"), "is not allowed over vsock"));
	other.cid = 4;
	CHECK(strstr(reply(&other, "{\"action\": \"usb_suspend\"}"), "is not allowed over vsock (CID 4)"));
	cfg->api.grants = NULL;
	cfg->api.n_grants = 0;
}

static void test_tcp_as_a_guest(void)
{
	fresh_db();
	CHECK(strstr(reply(&tcp_caller, "{\"action\": \"pci_list\"}"), "is not allowed over tcp"));
	CHECK(requested_rows("pci_list", "asked by api tcp") == 1);
}

/* ---- history ---- */

static void test_history_names_the_caller(void)
{
	struct api_answer ans;
	_cleanup_free_ char *label = NULL;
	int64_t id = 0;

	fresh_db();
	reply(&vsock_caller, "{\"action\": \"enable_notifications\"}");
	CHECK(requested_rows("enable_notifications", "asked by api vsock cid=3 vm=gui-vm") == 1);
	ans = ask(&vsock_caller, "{\"action\": \"usb_attach\", \"device_node\": \"" MOUSE "\", \"vm\": \"vm2\"}");
	CHECK(db_device_find(db, "usb:046d:c077@1-3", &id, &label) == 0);
	CHECK(requested_rows(label, "attach to vm2, asked by api vsock cid=3 vm=gui-vm") == 1);
	api_call_free(ans.pending);
	/* A refusal too, on the device's row. */
	reply(&unix_caller, "{\"action\": \"usb_attach\", \"device_node\": \"" MOUSE "\", \"vm\": \"vm9\"}");
	CHECK(requested_rows(label, "Selected VM vm9 is not allowed, asked by api unix uid=0 pid=1") == 1);
}

/* ---- replies that wait for their intents ---- */

static void test_attach_answers_when_done(void)
{
	struct api_answer ans;
	_cleanup_free_ char *chosen = NULL;

	fresh_db();
	ans = ask(&unix_caller, "{\"action\": \"usb_attach\", \"device_node\": \"" MOUSE "\", \"vm\": \"vm2\"}");
	CHECK(ans.pending && ans.queued);
	CHECK(streq(reply_of(&ans), ""));
	end_intents(INTENT_DONE, "attached");
	CHECK(streq(reply_of(&ans), "ok"));
	/* The choice among allowedVms is kept, as the original's select_vm_for_device(). */
	CHECK(db_choice_get(db, "usb:046d:c077@1-3", &chosen) == 0 && streq(chosen, "vm2"));
}

static void test_attach_answers_failure(void)
{
	struct api_answer ans;

	fresh_db();
	ans = ask(&unix_caller, "{\"action\": \"usb_attach\", \"device_node\": \"" MOUSE "\", \"vm\": \"vm1\"}");
	CHECK(ans.pending);
	end_intents(INTENT_FAILED, "device_add: Duplicate device ID");
	CHECK(streq(reply_of(&ans), "device_add: Duplicate device ID"));
}

static void test_attach_moves(void)
{
	struct api_answer ans;

	fresh_db();
	mouse_in("vm1");
	ans = ask(&unix_caller, "{\"action\": \"usb_attach\", \"device_node\": \"" MOUSE "\", \"vm\": \"vm2\"}");
	/* Out of vm1 first; statd holds the attach to vm2 until then. */
	CHECK(streq(open_list(), want_open(id_of(MOUSE), "detach")));
	end_intents(INTENT_DONE, "detached");
	CHECK(streq(reply_of(&ans), ""));
	CHECK(streq(open_list(), want_open(id_of(MOUSE), "attach")));
	end_intents(INTENT_DONE, "attached");
	CHECK(streq(reply_of(&ans), "ok"));
}

static void test_attach_in_place_is_ok_now(void)
{
	fresh_db();
	mouse_in("vm1");
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_attach\", \"device_node\": \"" MOUSE "\", \"vm\": \"vm1\"}"),
		    "ok"));
}

static void test_detach_is_permanent(void)
{
	struct api_answer ans;
	int dev = 0;
	bool tag_out = true;

	fresh_db();
	mouse_in("vm1");
	ans = ask(&unix_caller, "{\"action\": \"usb_detach\", \"bus\": 1, \"port\": 3}");
	CHECK(ans.pending && ans.queued);
	CHECK(streq(open_list(), want_open(id_of(MOUSE), "detach")));
	end_intents(INTENT_DONE, "detached");
	CHECK(streq(reply_of(&ans), "ok"));
	CHECK(db_marks_get(db, "usb:046d:c077@1-3", NULL, &dev, &tag_out) == 0);
	CHECK(dev == 1);
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_detach\", \"device_node\": \"" MOUSE "\"}"),
		    "Device 046d:c077 (Logitech, Inc. Mouse) is not attached to any VM"));
}

static void test_suspend_resume(void)
{
	struct api_answer ans;

	fresh_db();
	mouse_in("vm2");
	ans = ask(&unix_caller, "{\"action\": \"usb_suspend\"}");
	CHECK(ans.pending);
	CHECK(streq(open_list(), want_open(id_of(MOUSE), "detach")));
	end_intents(INTENT_DONE, "detached");
	CHECK(streq(reply_of(&ans), "ok"));
	ans = ask(&unix_caller, "{\"action\": \"usb_resume\", \"vm\": \"vm2\"}");
	CHECK(ans.pending);
	CHECK(streq(open_list(), want_open(id_of(MOUSE), "attach")));
	end_intents(INTENT_DONE, "attached");
	CHECK(streq(reply_of(&ans), "ok"));
}

static void test_pci_suspend_every_vm(void)
{
	struct api_answer ans;

	fresh_db();
	ans = ask(&unix_caller, "{\"action\": \"pci_attach\", \"address\": \"" WIFI "\"}");
	end_intents(INTENT_DONE, "attached");
	CHECK(streq(reply_of(&ans), "ok"));
	/* lib/ops takes one VM's PCI functions; the original, without a VM, every VM's. */
	ans = ask(&unix_caller, "{\"action\": \"pci_suspend\"}");
	CHECK(ans.pending);
	CHECK(streq(open_list(), want_open(id_of(WIFI), "detach")));
	end_intents(INTENT_DONE, "detached");
	CHECK(streq(reply_of(&ans), "ok"));
}

static void test_unknown_tag_is_ok(void)
{
	fresh_db();
	/* The original found no device of it and said "ok". */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_detach\", \"tag\": \"nope\"}"), "ok"));
	CHECK(streq(open_list(), ""));
}

static int run(void)
{
	char path[sizeof(dir) + 16];
	FILE *f;

	if (!mkdtemp(dir))
		return 99;
	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	if (!f)
		return 99;
	fprintf(f, "{\n"
		" \"usbPassthrough\": [\n"
		"  { \"allowedVms\": [\"vm1\", \"vm2\"], \"allow\": [ { \"vendorId\": \"046d\", \"productId\": \"c077\" } ] },\n"
		"  { \"targetVm\": \"vm1\", \"tag\": \"cam\", \"allow\": [ { \"vendorId\": \"04f2\" } ] }\n"
		" ],\n"
		" \"pciPassthrough\": [ { \"targetVm\": \"vm2\", \"allow\": [ { \"address\": \"" WIFI "\" } ] } ],\n"
		" \"vms\": [ { \"name\": \"vm1\", \"type\": \"qemu\", \"socket\": \"%s/vm1.sock\" },\n"
		"          { \"name\": \"vm2\", \"type\": \"qemu\", \"socket\": \"%s/vm2.sock\" } ]\n"
		"}\n", dir, dir);
	fclose(f);
	REQUIRE(config_load(path, &cfg, stderr) == 0);
	paths = (struct paths){ .config = path, .rundir = dir };

	test_no_action();
	test_unknown_action();
	test_vmm_args_needs_vm();
	test_usb_not_found();
	test_pci_not_found();
	test_pci_vid_not_hex();
	test_selector_required();
	test_selected_vm_not_allowed();
	test_selected_vm_not_target();
	test_no_vm_found();
	test_not_attached();
	test_device_node_first();
	test_bus_port_before_tag();
	test_bus_port_are_numbers();
	test_tag_before_vid_pid();
	test_vid_pid_any_case();
	test_pci_vid_did();
	test_vsock_usb_only();
	test_vsock_attaches_within_rules();
	test_grant_widens_one_cid();
	test_tcp_as_a_guest();
	test_history_names_the_caller();
	test_attach_answers_when_done();
	test_attach_answers_failure();
	test_attach_moves();
	test_attach_in_place_is_ok_now();
	test_detach_is_permanent();
	test_suspend_resume();
	test_pci_suspend_every_vm();
	test_unknown_tag_is_ok();
out:
	db_close(db);
	config_free(cfg);
	if (getenv("TEST_API_RECORDING"))
		unlink(getenv("TEST_API_RECORDING"));
	if (!check_failures) {
		char cmd[sizeof(dir) + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 99;
	}
	return check_result();
}

/*
 * The recordings RECS (tests/data/NAME.umockdev) as one file at OUT: each
 * device once, as tests/common.bash's merge_recordings (devices they share,
 * the root hub, would be added twice).
 */
static int merge(const char *src, const char *const *recs, size_t n, const char *out)
{
	char **seen = NULL;
	size_t n_seen = 0;
	FILE *o = fopen(out, "w");
	int r = 0;

	for (size_t i = 0; o && r == 0 && i < n; i++) {
		char path[512], *text = NULL, *p, *end;
		size_t len = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s/tests/data/%s.umockdev", src, recs[i]);
		f = fopen(path, "r");
		if (!f || getdelim(&text, &len, '\0', f) < 0)
			r = -1;
		if (f)
			fclose(f);
		for (p = text; r == 0 && p && *p; p = end) {
			size_t k = strcspn(p, "\n"), m;
			bool dup = false;

			end = strstr(p, "\n\n");
			end = end ? end + 2 : p + strlen(p);
			for (m = 0; m < n_seen; m++)
				dup |= strlen(seen[m]) == k && !strncmp(seen[m], p, k);
			if (dup || *p == '\n')
				continue;
			seen = realloc(seen, (n_seen + 1) * sizeof(*seen));
			seen[n_seen++] = strndup(p, k);
			fprintf(o, "%.*s%s", (int)(end - p), p, end[-1] == '\n' && end[-2] == '\n' ? "" : "\n\n");
		}
		free(text);
	}
	for (size_t m = 0; m < n_seen; m++)
		free(seen[m]);
	free(seen);
	if (!o || fclose(o) != 0)
		r = -1;
	return r;
}

int main(int argc, char **argv)
{
	const char *src = getenv("top_srcdir") ?: ".";
	const char *const recs[] = { "usb-mouse", "usb-webcam", "usb-audio", "pci-wifi" };
	char file[64];

	(void)argc;
	if (getenv("UMOCKDEV_DIR"))
		return run();
	/* The devices: this program again, under umockdev-run. */
	snprintf(file, sizeof(file), "/tmp/vhotplug-test-api.%d.umockdev", (int)getpid());
	if (merge(src, recs, ARRAY_SIZE(recs), file) < 0) {
		perror(file);
		return 99;
	}
	setenv("TEST_API_RECORDING", file, 1);
	execlp("umockdev-run", "umockdev-run", "--device", file, "--", argv[0], (char *)NULL);
	perror("umockdev-run");
	return 77;	/* skipped: no umockdev */
}
