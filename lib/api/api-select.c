/* SPDX-License-Identifier: Apache-2.0 */
/*
 * usb_attach, usb_detach, pci_attach, pci_detach: which device, in the
 * precedence of the original's apiserver.py handlers (device_node, then
 * bus and port, then tag, then vid and pid; PCI: address, tag, vid and
 * did), and its "not found" words from device.py for each selector.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api-req.h"
#include "log.h"

/*
 * Python's int(S, 16), which device.py applies to a PCI vid or did:
 * blanks around, a sign, "0x", and '_' between digits are taken.
 * False (*ERR set as Python words it) when S is no such number.
 */
static bool py_hex(json_object *v, long long *out, char *err, size_t size)
{
	const char *s = json_object_get_string(v), *p;
	long long n = 0;
	bool neg = false, digit = false, after = false;	/* AFTER: a digit or "0x" before */

	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, size, "int() can't convert non-string with explicit base");
		return false;
	}
	for (p = s; isspace((unsigned char)*p); p++)
		;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		after = true;
	}
	for (;; p++) {
		if (isxdigit((unsigned char)*p)) {
			n = n * 16 + (isdigit((unsigned char)*p) ? *p - '0' : tolower(*p) - 'a' + 10);
			/* No vendor has more than 16 bits: not found, as in Python. */
			n = n > 0xffffffffLL ? 0x100000000LL : n;
			digit = after = true;
		} else if (*p == '_' && after && isxdigit((unsigned char)p[1])) {
			after = false;
		} else {
			break;
		}
	}
	while (isspace((unsigned char)*p))
		p++;
	if (!digit || *p) {
		snprintf(err, size, "invalid literal for int() with base 16: '%s'", s);
		return false;
	}
	*out = neg ? -n : n;
	return true;
}

/* A member the original formatted into its messages, or NULL when falsy. */
static const char *text_of(json_object *req, const char *key, char *buf, size_t size)
{
	json_object *v = api_member(req, key);

	return api_truthy(v) ? api_str(v, buf, size) : NULL;
}

static int failed_now(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
		      const char *vm, const char *text, struct api_answer *ans)
{
	log_info("api: %s from %s: %s", api_action_to_string(action), caller->who, text);
	api_history(ctx, caller, action, 0, NULL, vm, text);
	ans->reply = api_failedf("%s", text);
	return ans->reply ? 0 : -ENOMEM;
}

/* Fill SEL from REQ; *TAG when the tag decides; false with ERR when refused before any look. */
static bool selector(enum api_action action, json_object *req, struct api_sel *sel,
		     const char **tag, char *err, size_t size, char (*bufs)[64])
{
	bool usb = action == API_USB_ATTACH || action == API_USB_DETACH;
	json_object *vid = api_member(req, "vid"), *id = api_member(req, usb ? "pid" : "did");

	*sel = (struct api_sel){ .kind = usb ? DEV_USB : DEV_PCI };
	*tag = NULL;
	if (usb && (sel->devnode = text_of(req, "device_node", bufs[0], sizeof(bufs[0]))))
		return true;
	if (usb && api_truthy(api_member(req, "bus")) && api_truthy(api_member(req, "port"))) {
		sel->bus = api_member(req, "bus");
		sel->port = api_member(req, "port");
		return true;
	}
	if (!usb && (sel->address = text_of(req, "address", bufs[0], sizeof(bufs[0]))))
		return true;
	if ((*tag = text_of(req, "tag", bufs[1], sizeof(bufs[1]))))
		return true;
	/* The original asserted these; its assertion text is the answer here. */
	if (!vid || !id) {
		snprintf(err, size, usb ? "vid and pid must be set" : "vid and did must be set");
		return false;
	}
	if (usb) {
		sel->vid = api_str(vid, bufs[2], sizeof(bufs[2]));
		sel->pid = api_str(id, bufs[3], sizeof(bufs[3]));
		return true;
	}
	return py_hex(vid, &sel->pci_vid, err, size) && py_hex(id, &sel->pci_did, err, size);
}

/* The original's "not found" message for SEL. */
static void not_found(const struct api_sel *sel, json_object *req, char *buf, size_t size)
{
	char b1[64], b2[64];
	bool usb = sel->kind == DEV_USB;

	if (sel->devnode)
		snprintf(buf, size, "USB device %s not found in the system", sel->devnode);
	else if (sel->bus)
		snprintf(buf, size, "USB device with bus %s and port %s not found in the system",
			 api_str(sel->bus, b1, sizeof(b1)), api_str(sel->port, b2, sizeof(b2)));
	else if (sel->address)
		snprintf(buf, size, "PCI device %s not found in the system", sel->address);
	else
		snprintf(buf, size, "%s device %s:%s not found in the system", usb ? "USB" : "PCI",
			 api_str(api_member(req, "vid"), b1, sizeof(b1)),
			 api_str(api_member(req, usb ? "pid" : "did"), b2, sizeof(b2)));
}

int api_select(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
	       json_object *req, struct api_answer *ans)
{
	bool attach = action == API_USB_ATTACH || action == API_PCI_ATTACH;
	char bufs[4][64], vmbuf[64], err[512];
	const char *vm = attach ? text_of(req, "vm", vmbuf, sizeof(vmbuf)) : NULL;
	const char *tag;
	struct api_sel sel;
	struct api_dev d = { 0 };
	int r;

	if (!selector(action, req, &sel, &tag, err, sizeof(err), bufs))
		return failed_now(ctx, caller, action, vm, err, ans);
	if (tag)
		return api_tag(ctx, caller, action, tag, !attach, ans);
	r = api_find(ctx, &sel, &d);
	if (r < 0)
		return r;
	/* Recorded plugged in but gone from udev: its remove is on its way. */
	if (r == 0 || !d.dev) {
		not_found(&sel, req, err, sizeof(err));
		api_dev_clear(&d);
		return failed_now(ctx, caller, action, vm, err, ans);
	}
	r = attach ? api_dev_attach(ctx, caller, action, &d, vm, ans) :
		     api_dev_detach(ctx, caller, action, &d, ans);
	api_dev_clear(&d);
	return r;
}
