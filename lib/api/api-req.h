/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The requests' insides, below api.c: api-value.c (the action names,
 * request values as the original's Python saw them), api-perm.c (who may
 * ask what), api-find.c (the device a selector names), api-call.c (pending calls),
 * api-dev.c (attach, detach, tag, suspend as lib/ops operations with the
 * original's checks), api-select.c (the USB and PCI actions' selectors).
 * Each calls only files listed before it.
 */
#include "api-private.h"
#include "device.h"
#include "macro.h"
#include "match.h"
#include "ops.h"
#include "string-table.h"

/* The original's twelve actions, named in api-value.c: a misspelled action does not compile. */
enum api_action {
	API_ENABLE_NOTIFICATIONS,
	API_USB_LIST,
	API_USB_ATTACH,
	API_USB_DETACH,
	API_USB_SUSPEND,
	API_USB_RESUME,
	API_PCI_LIST,
	API_PCI_ATTACH,
	API_PCI_DETACH,
	API_PCI_SUSPEND,
	API_PCI_RESUME,
	API_VMM_ARGS,
	API_ACTION_MAX,
	API_ACTION_INVALID = -EINVAL,
};
DECLARE_STRING_TABLE_LOOKUP(api_action, enum api_action);

/* ---- api-value.c ---- */

/* REQ's member KEY, or NULL (absent or JSON null). */
json_object *api_member(json_object *req, const char *key);
/* Python's truth of a JSON value, as the original's `if value:` tested it. */
bool api_truthy(json_object *v);
/* V as Python's str() wrote it into the original's messages (NULL: "None"), into BUF. */
const char *api_str(json_object *v, char *buf, size_t size);
/* {"result": "failed"} with a printf-formatted error; {"result": "ok"}. NULL: no memory. */
json_object *api_failedf(const char *fmt, ...) _printf_(1, 2);
json_object *api_reply_ok(void);
/*
 * A history row 'requested' for ACTION by CALLER: DEVICE_ID and LABEL (0,
 * NULL: the action's name stands in the device column), VM, and what
 * happened (DETAIL). Logged, never fails the request.
 */
void api_history(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
		 int64_t device_id, const char *label, const char *vm, const char *detail);

/* ---- api-perm.c ---- */

/* May CALLER ask ACTION? When not, WHY (SIZE bytes) says so. */
bool api_permitted(const struct config *cfg, const struct api_caller *caller,
		   enum api_action action, char *why, size_t size);

/* ---- api-find.c ---- */

/* A device as a request found it: its row, read from udev, matched. */
struct api_dev {
	int64_t id;
	char *ident, *label;
	struct device *dev;		/* NULL: could not be read */
	struct match_result m;
};
void api_dev_clear(struct api_dev *d);
/* What to find among the devices recorded plugged in. */
struct api_sel {
	enum dev_kind kind;
	const char *devnode;		/* USB device_node */
	json_object *bus, *port;	/* USB bus and root port: numbers */
	const char *vid, *pid;		/* USB "046d", "c077", any case */
	const char *address;		/* PCI */
	long long pci_vid, pci_did;	/* PCI, > 0 */
};
/* The first plugged-in device SEL names into *D: 1 found, 0 none, -errno. */
int api_find(struct api_ctx *ctx, const struct api_sel *sel, struct api_dev *d);
/* The original's friendly_name() of D. */
const char *api_friendly(const struct api_dev *d, char *buf, size_t size);

/* ---- api-call.c ---- */

/*
 * Answer with what an operation queued (RES, emptied): at once when nothing
 * was queued, else pending until every item ended. BATCH (tag, suspend,
 * resume): "ok" then whatever each device's end, as the original, which
 * logs those; else the first failure as statd recorded it.
 */
int api_answer_ops(const struct api_caller *caller, enum api_action action, struct ops_result *res,
		   bool batch, struct api_answer *ans);

/* ---- api-dev.c ---- */

/* The attach (VM: the one asked, or NULL) or detach of D, after the original's checks. */
int api_dev_attach(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
		   struct api_dev *d, const char *vm, struct api_answer *ans);
int api_dev_detach(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
		   struct api_dev *d, struct api_answer *ans);
/* Tag attach or detach, and suspend or resume (BUS "usb" or "pci"; VM NULL: every VM). */
int api_tag(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
	    const char *tag, bool out, struct api_answer *ans);
int api_suspend(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
		const char *bus, const char *vm, bool out, struct api_answer *ans);

/* ---- api-select.c ---- */

/* usb_attach, usb_detach, pci_attach, pci_detach: the selectors, in the original's precedence. */
int api_select(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
	       json_object *req, struct api_answer *ans);
