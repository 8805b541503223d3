/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder until the actions land: every request is answered now. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api-private.h"

json_object *api_failed(const char *error)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "result", json_object_new_string("failed"));
	json_object_object_add(o, "error", json_object_new_string(error));
	return o;
}

json_object *api_ok(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "result", json_object_new_string("ok"));
	return o;
}

int api_request(struct api_ctx *ctx, const struct api_caller *caller, json_object *req,
		struct api_answer *ans)
{
	json_object *action = NULL;
	const char *name;
	char buf[256];

	*ans = (struct api_answer){ 0 };
	if (!req || !json_object_object_get_ex(req, "action", &action) || !action ||
	    !(name = json_object_get_string(action))[0]) {
		ans->reply = api_failed("No action specified");
	} else if (!strcmp(name, "enable_notifications")) {
		ans->reply = api_ok();
		ans->subscribe = true;
	} else if (!strcmp(name, "usb_list")) {
		return api_list(ctx, DEV_USB, req, ans);
	} else if (!strcmp(name, "pci_list")) {
		return api_list(ctx, DEV_PCI, req, ans);
	} else if (!strcmp(name, "vmm_args")) {
		return api_vmm_args(ctx, caller, req, ans);
	} else {
		snprintf(buf, sizeof(buf), "Unknown message: %s", name);
		ans->reply = api_failed(buf);
	}
	return ans->reply ? 0 : -ENOMEM;
}
