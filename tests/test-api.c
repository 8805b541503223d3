/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/api's requests answered at once: the original's error texts, each
 * compared with the literal its code raised (the file is named), and the
 * precedence of its selectors. The testbed: tests/api-testbed.h.
 */
#include "api-testbed.h"

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

static void test_unknown_tag_is_ok(void)
{
	fresh_db();
	/* The original found no device of it and said "ok". */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_detach\", \"tag\": \"nope\"}"), "ok"));
	CHECK(streq(open_list(), ""));
}


static void test_boot_device(void)
{
	fresh_db();
	/* device.py _attach_existing_device(): f"Device {dev_info.friendly_name()} is used as a boot device" */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_attach\", \"bus\": 2, \"port\": 2}"),
		    "Device 04e8:4001 (Samsung Electronics Co., Ltd PSSD T7) is used as a boot device"));
	CHECK(streq(open_list(), ""));
}

static void test_unreadable_mounts_refuse(void)
{
	char path[sizeof(dir) + 32], moved[sizeof(dir) + 32];

	fresh_db();
	snprintf(path, sizeof(path), "%s/proc/self/mountinfo", dir);
	snprintf(moved, sizeof(moved), "%s/mountinfo", dir);
	REQUIRE(rename(path, moved) == 0);
	/* Not knowing whether the disk holds /boot is no permission to pass it. */
	CHECK(strstr(reply(&unix_caller, "{\"action\": \"usb_attach\", \"bus\": 2, \"port\": 2}"),
		     "whether it backs a mounted filesystem could not be told"));
	CHECK(streq(open_list(), ""));
	CHECK(rename(moved, path) == 0);
out:
	return;
}

static void test_attached_to_a_vm_gone_from_the_config(void)
{
	fresh_db();
	CHECK(db_attachment_put(db, id_of(MOUSE), "old-vm", "vhp-test") == 0);
	/* device.py remove_device(): f"VM {current_vm_name} not found in the configuration file" */
	CHECK(streq(reply(&unix_caller, "{\"action\": \"usb_detach\", \"device_node\": \"" MOUSE "\"}"),
		    "VM old-vm not found in the configuration file"));
	CHECK(streq(open_list(), ""));
}

static void tests(void)
{
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
	test_unknown_tag_is_ok();
	test_boot_device();
	test_unreadable_mounts_refuse();
	test_attached_to_a_vm_gone_from_the_config();
}

int main(int argc, char **argv)
{
	(void)argc;
	return testbed_main(argv, tests);
}
