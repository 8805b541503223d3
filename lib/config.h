/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Device kinds; also the index of a rule set's section in the config. */
enum dev_kind {
	DEV_USB,
	DEV_PCI,
	DEV_EVDEV,
	DEV_KIND_MAX,
};

enum vm_type {
	VM_QEMU,
	VM_CROSVM,
};

/* How a USB device is named to QEMU's usb-host (VM key "usbAttachBy"). */
enum usb_attach_by {
	USB_ATTACH_BUSADDR,	/* hostbus + hostaddr (default, as upstream) */
	USB_ATTACH_VIDPID,	/* vendorid + productid: QEMU waits for the device */
	USB_ATTACH_PORT,	/* hostbus + hostport: QEMU waits for the device */
};

/* Fields a rule may carry; a rule matches when every present field matches. */
enum rule_field {
	RF_VENDOR_ID = 1u << 0,		/* usb, pci: "vendorId" */
	RF_PRODUCT_ID = 1u << 1,	/* usb: "productId" */
	RF_DEVICE_ID = 1u << 2,		/* pci: "deviceId" */
	RF_VENDOR_NAME = 1u << 3,	/* usb: "vendorName" regex */
	RF_PRODUCT_NAME = 1u << 4,	/* usb: "productName" regex */
	RF_BUS = 1u << 5,		/* usb: "bus" */
	RF_PORT = 1u << 6,		/* usb: "port" (root port) */
	RF_IF_CLASS = 1u << 7,		/* usb: "interfaceClass" */
	RF_IF_SUBCLASS = 1u << 8,	/* usb: "interfaceSubclass" */
	RF_IF_PROTOCOL = 1u << 9,	/* usb: "interfaceProtocol" */
	RF_DEV_CLASS = 1u << 10,	/* usb, pci: "deviceClass" */
	RF_DEV_SUBCLASS = 1u << 11,	/* usb, pci: "deviceSubclass" */
	RF_DEV_PROTOCOL = 1u << 12,	/* usb: "deviceProtocol", pci: "deviceProgIf" */
	RF_REMOVABLE = 1u << 13,	/* usb: "removable" */
	RF_ADDRESS = 1u << 14,		/* pci: "address" */
	RF_NAME = 1u << 15,		/* evdev: "name" regex */
	RF_PATH_TAG = 1u << 16,		/* evdev: "pathTag" regex */
	RF_PROPERTY = 1u << 17,		/* evdev: "property" (+ optional "value") */
};

/* Values of the sysfs "removable" attribute, as a bit set in a rule. */
enum removable_bit {
	REMOVABLE_REMOVABLE = 1u << 0,
	REMOVABLE_FIXED = 1u << 1,
	REMOVABLE_UNKNOWN = 1u << 2,
};

struct rule {
	char *path;		/* JSON path, e.g. "usbPassthrough[0].allow[1]" */
	char *description;	/* may be NULL */
	bool disabled;
	unsigned fields;	/* enum rule_field bits present */
	unsigned vendor_id;
	unsigned product_id;	/* usb productId or pci deviceId */
	regex_t vendor_name;
	regex_t product_name;
	regex_t name;
	regex_t path_tag;
	int bus;
	int port;
	int if_class, if_subclass, if_protocol;
	int dev_class, dev_subclass, dev_protocol;
	unsigned removable;	/* enum removable_bit */
	char *address;		/* pci, lower case */
	char *property;
	char *value;		/* NULL: the property only has to be set */
};

struct ruleset {
	enum dev_kind kind;
	char *path;		/* "usbPassthrough[0]" */
	char *description;
	bool disabled;
	char *target_vm;	/* exactly one of target_vm / allowed_vms */
	char **allowed_vms;
	size_t n_allowed_vms;
	char *tag;
	bool skip_on_suspend;
	struct rule *allow;
	size_t n_allow;
	struct rule *deny;
	size_t n_deny;
};

struct vm {
	char *name;
	enum vm_type type;
	char *socket;
	enum usb_attach_by usb_attach_by;
};

struct config {
	char *file;
	/* All rule sets, USB first, then PCI, then evdev, each in file order. */
	struct ruleset *sets;
	size_t n_sets;
	struct vm *vms;
	size_t n_vms;
	char *crosvm;		/* general.crosvm, default "crosvm" */
	char *state_path;	/* general.statePath, may be NULL */
	int qmp_timeout_ms;	/* general.qmpTimeoutMs, default 5000 */
	int history_days;	/* general.historyDays; 0 when unset: the db's default (90) */
};

/*
 * Load and strictly validate FILE. On success *out is set and 0 returned.
 * On a bad config, returns -EINVAL and writes one line per problem to ERRS
 * ("FILE: JSON.path: reason"); ERRS may be NULL. Keys the original vhotplug
 * knows but this project ignores are logged as warnings, once each.
 * Other failures (no file) return -errno with a line in ERRS too.
 */
int config_load(const char *file, struct config **out, FILE *errs);
void config_free(struct config *cfg);

const struct vm *config_find_vm(const struct config *cfg, const char *name);
const char *dev_kind_name(enum dev_kind kind);	/* "usb", "pci", "evdev" */
const char *vm_type_name(enum vm_type type);	/* "qemu", "crosvm" */
