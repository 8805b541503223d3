/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The original's requests: the dispatch of its actions (named in
 * api-value.c) to the parts, after who may ask each one (api-perm.c). Every request leaves a
 * history row 'requested' with its caller: written by lib/ops for what it
 * queues, here and in api-dev.c and api-select.c for the rest.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api-req.h"
#include "log.h"

/* A request that needs no device: recorded, then answered by its part. */
static int simple(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
		  json_object *req, struct api_answer *ans)
{
	char buf[64];
	json_object *vm = api_member(req, "vm");
	const char *vm_name = api_truthy(vm) ? api_str(vm, buf, sizeof(buf)) : NULL;

	if (action == API_VMM_ARGS)
		log_info("api: vmm_args from %s: %s", caller->who, vm_name ?: "(no VM)");
	else
		log_debug("api: %s from %s", api_action_to_string(action), caller->who);
	api_history(ctx, caller, action, 0, NULL, action == API_VMM_ARGS ? vm_name : NULL,
		    action == API_ENABLE_NOTIFICATIONS ? "notifications for this connection" :
		    action == API_VMM_ARGS ? "the VM's start arguments" : "the device list");
	switch (action) {
	case API_ENABLE_NOTIFICATIONS:
		ans->reply = api_ok();
		ans->subscribe = true;
		return ans->reply ? 0 : -ENOMEM;
	case API_USB_LIST:
		return api_list(ctx, DEV_USB, req, ans);
	case API_PCI_LIST:
		return api_list(ctx, DEV_PCI, req, ans);
	default:
		/* apiserver.py _on_vmm_args() wants the VM before anything else. */
		if (!vm_name) {
			ans->reply = api_failed("VM name is required");
			return ans->reply ? 0 : -ENOMEM;
		}
		return api_vmm_args(ctx, caller, req, ans);
	}
}

static int dispatch(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
		    json_object *req, struct api_answer *ans)
{
	char buf[64];
	json_object *vm = api_member(req, "vm");
	/* As the original: `[vm] if vm else None`. */
	const char *vm_name = api_truthy(vm) ? api_str(vm, buf, sizeof(buf)) : NULL;

	switch (action) {
	case API_USB_ATTACH:
	case API_USB_DETACH:
	case API_PCI_ATTACH:
	case API_PCI_DETACH:
		return api_select(ctx, caller, action, req, ans);
	case API_USB_SUSPEND:
		return api_suspend(ctx, caller, action, "usb", vm_name, true, ans);
	case API_USB_RESUME:
		return api_suspend(ctx, caller, action, "usb", vm_name, false, ans);
	case API_PCI_SUSPEND:
		return api_suspend(ctx, caller, action, "pci", vm_name, true, ans);
	case API_PCI_RESUME:
		return api_suspend(ctx, caller, action, "pci", vm_name, false, ans);
	default:
		return simple(ctx, caller, action, req, ans);
	}
}

int api_request(struct api_ctx *ctx, const struct api_caller *caller, json_object *req,
		struct api_answer *ans)
{
	json_object *action = api_member(req, "action");
	enum api_action a;
	char buf[64], why[512];
	const char *name;
	int r;

	*ans = (struct api_answer){ 0 };
	/* apiserver.py handle_message(): `if not action`, then its handler table. */
	if (!api_truthy(action)) {
		log_info("api: a request without an action from %s", caller->who);
		api_history(ctx, caller, API_ACTION_INVALID, 0, NULL, NULL, "No action specified");
		ans->reply = api_failed("No action specified");
		return ans->reply ? 0 : -ENOMEM;
	}
	name = api_str(action, buf, sizeof(buf));
	a = json_object_is_type(action, json_type_string) ? api_action_from_string(name) :
	    API_ACTION_INVALID;
	if (a < 0) {
		log_warn("api: unknown request \"%s\" from %s", name, caller->who);
		ans->reply = api_failedf("Unknown message: %s", name);
		if (ans->reply)
			api_history(ctx, caller, API_ACTION_INVALID, 0, NULL, NULL,
				    json_object_get_string(json_object_object_get(ans->reply, "error")));
		return ans->reply ? 0 : -ENOMEM;
	}
	if (!api_permitted(ctx->cfg, caller, a, why, sizeof(why))) {
		log_warn("api: refused %s from %s", name, caller->who);
		api_history(ctx, caller, a, 0, NULL, NULL, why);
		ans->reply = api_failed(why);
		return ans->reply ? 0 : -ENOMEM;
	}
	r = dispatch(ctx, caller, a, req, ans);
	if (r < 0) {
		/* The database or memory failed: say so rather than nothing (ans->queued stays). */
		log_err("api: %s from %s: %s", name, caller->who, strerror(-r));
		json_object_put(ans->reply);
		api_call_free(ans->pending);
		ans->pending = NULL;
		ans->reply = api_failedf("could not record it: %s", strerror(-r));
	}
	return ans->reply || ans->pending ? 0 : -ENOMEM;
}
