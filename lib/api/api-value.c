/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The action names, and request values as the original's Python read them: its handlers test
 * `if value:` and format values with str() into their messages, so a
 * client sees the same choice and the same text here.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-req.h"
#include "log.h"
#include "macro.h"

static const char *const api_action_table[API_ACTION_MAX] = {
	[API_ENABLE_NOTIFICATIONS] = "enable_notifications",
	[API_USB_LIST] = "usb_list",
	[API_USB_ATTACH] = "usb_attach",
	[API_USB_DETACH] = "usb_detach",
	[API_USB_SUSPEND] = "usb_suspend",
	[API_USB_RESUME] = "usb_resume",
	[API_PCI_LIST] = "pci_list",
	[API_PCI_ATTACH] = "pci_attach",
	[API_PCI_DETACH] = "pci_detach",
	[API_PCI_SUSPEND] = "pci_suspend",
	[API_PCI_RESUME] = "pci_resume",
	[API_VMM_ARGS] = "vmm_args",
};
DEFINE_STRING_TABLE_LOOKUP(api_action, enum api_action, API_ACTION_MAX)

json_object *api_member(json_object *req, const char *key)
{
	json_object *v = NULL;

	if (!req || !json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, key, &v))
		return NULL;
	return v;
}

bool api_truthy(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_boolean:
		return json_object_get_boolean(v);
	case json_type_int:
		return json_object_get_int64(v) != 0;
	case json_type_double:
		return json_object_get_double(v) != 0.0;
	case json_type_string:
		return json_object_get_string_len(v) > 0;
	case json_type_array:
		return json_object_array_length(v) > 0;
	case json_type_object:
		return json_object_object_length(v) > 0;
	default:
		return false;	/* null */
	}
}

const char *api_str(json_object *v, char *buf, size_t size)
{
	double d;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return "None";
	case json_type_boolean:
		return json_object_get_boolean(v) ? "True" : "False";
	case json_type_string:
		return json_object_get_string(v);
	case json_type_int:
		snprintf(buf, size, "%" PRId64, json_object_get_int64(v));
		return buf;
	case json_type_double:
		/* Python writes an integral float with ".0". */
		d = json_object_get_double(v);
		snprintf(buf, size, d == floor(d) && fabs(d) < 1e16 ? "%.1f" : "%.17g", d);
		return buf;
	default:
		return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	}
}

json_object *api_reply_ok(void)
{
	json_object *o = json_object_new_object();

	if (o && json_object_object_add(o, "result", json_object_new_string("ok")) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

json_object *api_failedf(const char *fmt, ...)
{
	json_object *o = json_object_new_object();
	_cleanup_free_ char *text = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (!o || n < 0 ||
	    json_object_object_add(o, "result", json_object_new_string("failed")) < 0 ||
	    json_object_object_add(o, "error", json_object_new_string(text)) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

void api_history(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
		 int64_t device_id, const char *label, const char *vm, const char *detail)
{
	/* No action, or an unknown one: "request" stands in the device column. */
	const char *name = api_action_to_string(action) ?: "request";
	_cleanup_free_ char *text = NULL;
	int r;

	if (asprintf(&text, "%s: %s, asked by %s", name, detail, caller->who) < 0)
		r = -ENOMEM;
	else
		r = db_history_add(ctx->db, device_id, label ?: name, HISTORY_REQUESTED, vm, text);
	if (r < 0)
		log_warn("api: %s from %s: history not written: %s", name, caller->who,
			    strerror(-r));
}

/* api-private.h's two, here so api-list.c and the others need not call api.c. */
json_object *api_failed(const char *error)
{
	return api_failedf("%s", error);
}

json_object *api_ok(void)
{
	return api_reply_ok();
}
