/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/api's requests: who may ask what, the history rows naming the
 * caller, and replies that wait for their intents, ended here as statd's
 * outcome writes them. The testbed: tests/api-testbed.h.
 */
#include "api-testbed.h"

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


static void test_pci_detach_answers_when_done(void)
{
	struct api_answer ans;

	fresh_db();
	ans = ask(&unix_caller, "{\"action\": \"pci_attach\", \"address\": \"" WIFI "\"}");
	end_intents(INTENT_DONE, "attached");
	CHECK(streq(reply_of(&ans), "ok"));
	ans = ask(&unix_caller, "{\"action\": \"pci_detach\", \"vid\": \"8086\", \"did\": \"A0F0\"}");
	CHECK(ans.pending);
	CHECK(streq(open_list(), want_open(id_of(WIFI), "detach")));
	end_intents(INTENT_FAILED, "device_del: timeout");
	CHECK(streq(reply_of(&ans), "device_del: timeout"));
}

static void test_tag_detach_keeps_out(void)
{
	struct api_answer ans;
	int dev = 0;
	bool tag_out = false;

	fresh_db();
	ans = ask(&unix_caller, "{\"action\": \"usb_attach\", \"tag\": \"cam\"}");
	end_intents(INTENT_DONE, "attached");
	CHECK(streq(reply_of(&ans), "ok"));
	ans = ask(&vsock_caller, "{\"action\": \"usb_detach\", \"tag\": \"cam\"}");
	CHECK(ans.pending);
	CHECK(streq(open_list(), want_open(id_of(CAM), "detach")));
	end_intents(INTENT_DONE, "detached");
	CHECK(streq(reply_of(&ans), "ok"));
	/* The kill switch: the tag stays out, for cameras plugged later too. */
	CHECK(db_marks_get(db, "usb:04f2:b604:0001", "cam", &dev, &tag_out) == 0);
	CHECK(tag_out);
}

static void tests(void)
{
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
	test_pci_detach_answers_when_done();
	test_tag_detach_keeps_out();
}

int main(int argc, char **argv)
{
	(void)argc;
	return testbed_main(argv, tests);
}
