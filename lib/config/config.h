/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "string-table.h"

/* Device kinds; also the index of a rule set's section in the config. */
enum dev_kind {
	DEV_USB,
	DEV_PCI,
	DEV_EVDEV,
	DEV_KIND_MAX,
	DEV_KIND_INVALID = -EINVAL,
};

enum vm_type {
	VM_QEMU,
	VM_CROSVM,
	VM_TYPE_MAX,
	VM_TYPE_INVALID = -EINVAL,
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
	RF_DRIVER_PATH = 1u << 18,	/* usb: "driverPath" regex on a kernel module's file */
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
	regex_t driver_path;
	int bus;
	int port;
	int if_class, if_subclass, if_protocol;
	int dev_class, dev_subclass, dev_protocol;
	unsigned removable;	/* enum removable_bit */
	char *address;		/* pci, lower case */
	char *property;
	char *value;		/* NULL: the property only has to be set */
};

/* pciPassthrough rule-set flags: parsed now, acted on by a later issue. */
struct pci_flags {
	bool iommu_add_all;		/* "pciIommuAddAll" */
	bool iommu_skip_if_shared;	/* "pciIommuSkipIfShared" */
	bool auto_ovmf;			/* "autoOvmf" */
	bool qemu_use_root_bus;		/* "qemuUseRootBus" */
	bool crosvm_use_root_bus;	/* "crosvmUseRootBus" */
};

struct ruleset {
	enum dev_kind kind;
	char *path;		/* "usbPassthrough[0]" */
	char *description;
	bool disabled;
	bool no_target;		/* neither targetVm nor allowedVms: skipped, as upstream does */
	char *target_vm;	/* at most one of target_vm / allowed_vms */
	char **allowed_vms;
	size_t n_allowed_vms;
	char *tag;		/* carried on the decision, for tools that select by tag */
	bool skip_on_suspend;
	struct pci_flags pci;
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
	char *user;		/* "user": who runs the VMM, trusted with its socket */
	uid_t uid;		/* USER resolved at load; (uid_t)-1 when unset */
	unsigned vsock_cid;	/* "vsockCid": the API's vsock peer with this CID is this VM; 0: unset */
};

/* general.api.cidActions: what a vsock peer may ask beyond the USB actions. */
struct api_cid_grant {
	unsigned cid;
	char **actions;		/* the original's action names ("pci_list", "vmm_args", ...) */
	size_t n_actions;
};

/* general.api: the original's JSON API (statd/api/, lib/api/). */
struct api_config {
	bool present;
	bool disabled;		/* "enable": false or "disable": true */
	char *host;		/* default "127.0.0.1" */
	int port;		/* default 2000 */
	unsigned transports;	/* enum api_transport bits */
	unsigned *allowed_cids;	/* vsock peers; NULL: any */
	size_t n_allowed_cids;
	char *unix_socket;
	char *unix_socket_user;
	char *unix_socket_group;
	int unix_socket_mode;	/* -1: unset */
	struct api_cid_grant *grants;
	size_t n_grants;
};

enum api_transport {
	API_TCP = 1u << 0,
	API_VSOCK = 1u << 1,
	API_UNIX = 1u << 2,
};

/* One acpiPassthrough allow entry: a table file for a VM (not acted on yet). */
struct acpi_table {
	char *path;		/* JSON path */
	char *description;
	char *target_vm;
	char *file;		/* "acpiTable" */
	char *set_user;
	char *set_group;
	bool disabled;
};

/* usbAuthorization (lib/host/usbauth.h, statd/usbauth.c, the helper's intake-auth.c). */
struct usb_authorization {
	bool enabled;		/* default false */
	bool deauthorize_unmatched;
	struct rule *host_allow;
	size_t n_host_allow;
};

struct kmods;

struct config {
	char *file;
	/* Module look-ups for driverPath rules; opened at the first one. */
	struct kmods *kmods;
	/* All rule sets, USB first, then PCI, then evdev, each in file order. */
	struct ruleset *sets;
	size_t n_sets;
	struct vm *vms;
	size_t n_vms;
	struct acpi_table *acpi;
	size_t n_acpi;
	struct usb_authorization usb_auth;
	char *crosvm;		/* general.crosvm, default "crosvm" */
	char *state_path;	/* general.statePath, may be NULL */
	int qmp_timeout_ms;	/* general.qmpTimeoutMs, default 5000 */
	/* general.deviceDeletedTimeoutMs, default 5000: a PCI or evdev detach waits that long for the guest */
	int device_deleted_timeout_ms;
	int history_days;	/* general.historyDays; 0 when unset: the db's default (90) */
	bool persistency;	/* general.persistency, default true */
	char *ovmf_code;	/* general.ovmfCode */
	char *ovmf_vars;	/* general.ovmfVars */
	struct api_config api;
};

/* config_load_flags() */
enum config_flag {
	CONFIG_QUIET = 1u << 0,	/* no warnings: the helper loads the config for every event */
};

/*
 * Load and strictly validate FILE. On success *out is set and 0 returned.
 * On a bad config, returns -EINVAL and writes one line per problem to ERRS
 * ("FILE: JSON.path: reason"); ERRS may be NULL. Oddities the original
 * vhotplug accepts (keys this project does not act on yet, a rule that
 * can match nothing) are logged as warnings, once each, unless FLAGS has
 * CONFIG_QUIET. Other failures (no file) return -errno with a line in ERRS too.
 */
int config_load_flags(const char *file, unsigned flags, struct config **out, FILE *errs);
static inline int config_load(const char *file, struct config **out, FILE *errs)
{
	return config_load_flags(file, 0, out, errs);
}
void config_free(struct config *cfg);

/* Look driverPath modules up in DIR (a /lib/modules/VERSION) instead of the default. */
int config_set_module_dir(struct config *cfg, const char *dir);

const struct vm *config_find_vm(const struct config *cfg, const char *name);
/* The VM whose "vsockCid" is CID, or NULL. */
const struct vm *config_find_vm_by_cid(const struct config *cfg, unsigned cid);
/* general.api.allowedCids lets a vsock peer with CID in (no list: any). */
bool config_api_cid_allowed(const struct api_config *api, unsigned cid);
/* "usb", "pci", "evdev": also devices.kind in the database. */
DECLARE_STRING_TABLE_LOOKUP(dev_kind, enum dev_kind);
/* "qemu", "crosvm": a VM's "type" in the config. */
DECLARE_STRING_TABLE_LOOKUP(vm_type, enum vm_type);
