/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit test of config_load(): the parsed structure of the valid configs in
 * tests/configs, and the error text of every bad one there.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "macro.h"
#include "regex-cost.h"

#define MAX_EXPECT 5

struct bad_config {
	const char *name;
	const char *expect[MAX_EXPECT];	/* substrings of the error text */
};

static const struct bad_config bad_configs[] = {
	{ "bad-allowedvms-unknown-vm.json",
	  { "usbPassthrough[0].allowedVms[1]: no VM named \"vm3\" in vms" } },
	{ "bad-api.json",
	  { "general.api.port: expected an integer",
	    "general.api.transports[1]: unknown transport \"usb\"",
	    "general.api.allowedCids[1]: expected a vsock CID",
	    "general.api.unixSocketMode: expected a string of octal digits such as \"0660\", got 660" } },
	{ "bad-api-cid.json",
	  { "vms[0].vsockCid: expected an integer >= 3, got 2",
	    "vms[2].vsockCid: duplicate vsock CID 5 (also vms[1])",
	    "general.api.cidActions: key \"x3\" is not a vsock CID",
	    "general.api.cidActions.5[1]: unknown action \"usb_lsit\"" } },
	{ "bad-class-negative.json",
	  { "usbPassthrough[0].allow[0].deviceClass: expected an integer from 0 to 255, got -1" } },
	{ "bad-class-range.json",
	  { "usbPassthrough[0].allow[0].interfaceClass: expected an integer from 0 to 255, got 300" } },
	{ "bad-duplicate-vm.json", { "vms[1].name: duplicate VM name \"vm1\"" } },
	{ "bad-empty.json", { "bad-empty.json: empty file" } },
	{ "bad-evdev-type.json", { "evdevPassthrough: expected an array or an object" } },
	{ "bad-many.json",
	  { "vms[0].type: unknown value \"kvm\"",
	    "usbPassthrough[0].targetVm: no VM named \"vm9\" in vms",
	    "usbPassthrough[0].allow[0].vendorId: expected 4 hex digits, got \"xyz\"",
	    "usbPassthrough[0].allow[1].interfaceClas: unknown key (did you mean \"interfaceClass\"?)",
	    "general.statePath: expected a string" } },
	{ "bad-pci-address.json",
	  { "pciPassthrough[0].allow[0].address: expected a PCI address like "
	    "\"0000:00:14.3\", got \"00:14.3\"" } },
	{ "bad-pci-usb-key.json", { "pciPassthrough[0].allow[0].productId: unknown key" } },
	{ "bad-productid-nothex.json",
	  { "usbPassthrough[0].allow[0].productId: expected 4 hex digits, got \"zzzz\"" } },
	{ "bad-qmp-timeout.json",
	  { "general.qmpTimeoutMs: expected an integer from 1 to 600000, got 0" } },
	{ "bad-regex-backref.json",
	  { "usbPassthrough[0].allow[0].productName: bad regular expression \"(ab*)x\\\\1\": "
	    "back-references (\\1 to \\9) are not supported" } },
	{ "bad-regex.json",
	  { "usbPassthrough[0].allow[0].productName: bad regular expression \"([a-\": " } },
	{ "bad-removable.json",
	  { "usbPassthrough[0].allow[0].removable[1]: unknown value \"sometimes\"" } },
	{ "bad-root-array.json", { "expected a JSON object at the top level" } },
	{ "bad-syntax.json", { "bad-syntax.json:3:37: JSON syntax error: " } },
	{ "bad-target-unknown-vm.json",
	  { "usbPassthrough[0].targetVm: no VM named \"vm3\" in vms" } },
	{ "bad-trailing-data.json",
	  { "bad-trailing-data.json:4:1: JSON syntax error: "
	    "unexpected data after the top-level object" } },
	{ "bad-truncated.json", { "bad-truncated.json:4:1: JSON syntax error: " } },
	{ "bad-unknown-key.json",
	  { "usbPassthrough[0].allow[1].vendorID: unknown key (did you mean \"vendorId\"?)" } },
	{ "bad-unknown-toplevel.json",
	  { "usbPasthrough: unknown key (did you mean \"usbPassthrough\"?)" } },
	{ "bad-usb-attach-by.json",
	  { "vms[0].usbAttachBy: unknown value \"serial\" "
	    "(expected \"busaddr\", \"vidpid\" or \"port\")" } },
	{ "bad-vendorid-number.json",
	  { "pciPassthrough[0].allow[0].vendorId: expected a string of 4 hex digits, got int "
	    "(the original vhotplug silently never matches it)",
	    "usbPassthrough[0].allow[0].productName: expected a string, got int "
	    "(the original vhotplug fails the whole lookup" } },
	{ "bad-vendorid-short.json",
	  { "usbPassthrough[0].allow[0].vendorId: expected 4 hex digits, got \"46d\"" } },
	{ "bad-vm-name-empty.json", { "vms[0].name: empty" } },
	{ "bad-vm-name-type.json", { "vms[0].name: expected a string" } },
	{ "bad-vm-no-socket.json", { "vms[0].socket: missing (required)" } },
	{ "bad-vm-socket-empty.json", { "vms[0].socket: empty" } },
	{ "bad-vm-socket-long.json",
	  { "vms[0].socket: 115 bytes long: a unix socket path can have at most 107" } },
	{ "bad-vm-socket-relative.json",
	  { "vms[0].socket: \"run/office.qmp\" is a relative path: give an absolute one" } },
	{ "bad-vm-type.json",
	  { "vms[0].type: unknown value \"xen\" (expected \"qemu\" or \"crosvm\")" } },
	{ "bad-wrong-type.json",
	  { "usbPassthrough[0].skipOnSuspend: expected true or false",
	    "usbPassthrough[0].allow[0].port: expected an integer" } },
};

static void config_path(char *buf, size_t size, const char *name)
{
	const char *top = getenv("top_srcdir");

	snprintf(buf, size, "%s/tests/configs/%s", top ? top : ".", name);
}

/* Load NAME; on failure print the errors and return NULL. */
static struct config *load(const char *name)
{
	char path[PATH_MAX];
	struct config *cfg;
	int r;

	config_path(path, sizeof(path), name);
	r = config_load(path, &cfg, stderr);
	if (r < 0) {
		fprintf(stderr, "%s: config_load: %s\n", path, strerror(-r));
		return NULL;
	}
	return cfg;
}

/* As the matcher does: the match must start at 0. */
static bool matches(const regex_t *re, const char *s)
{
	regmatch_t m;

	return regexec(re, s, 1, &m, 0) == 0 && m.rm_so == 0;
}

static int test_legacy_usb(const struct ruleset *set)
{
	int fails = 0;

	CHECK(set->kind == DEV_USB);
	CHECK(streq(set->path, "usbPassthrough[0]"));
	CHECK(streq(set->target_vm, "office"));
	CHECK(set->n_allowed_vms == 0 && !set->allowed_vms);
	CHECK(set->n_allow == 3 && set->n_deny == 1);
	if (set->n_allow != 3 || set->n_deny != 1)
		return fails;
	CHECK(streq(set->allow[0].path, "usbPassthrough[0].allow[0]"));
	CHECK(set->allow[0].fields == (RF_IF_CLASS | RF_IF_PROTOCOL));
	CHECK(set->allow[0].if_class == 3 && set->allow[0].if_protocol == 1);
	CHECK(streq(set->allow[0].description, "HID keyboards"));
	CHECK(!set->allow[0].disabled);
	CHECK(set->allow[1].fields == RF_PRODUCT_NAME);
	CHECK(matches(&set->allow[1].product_name, "USB Ethernet Adapter"));
	CHECK(matches(&set->allow[1].product_name, "ETHERNET"));
	CHECK(!matches(&set->allow[1].product_name, "Wireless Adapter"));
	CHECK(set->allow[2].fields == (RF_VENDOR_ID | RF_PRODUCT_ID));
	CHECK(set->allow[2].vendor_id == 0x10c4 && set->allow[2].product_id == 0xea60);
	CHECK(set->allow[2].disabled);
	CHECK(streq(set->deny[0].path, "usbPassthrough[0].deny[0]"));
	CHECK(set->deny[0].vendor_id == 0x046d && set->deny[0].product_id == 0xc534);
	return fails;
}

static int test_legacy_pci(const struct ruleset *set)
{
	int fails = 0;

	CHECK(set->kind == DEV_PCI);
	CHECK(streq(set->path, "pciPassthrough[0]"));
	CHECK(set->n_allow == 2 && set->n_deny == 0);
	if (set->n_allow != 2)
		return fails;
	CHECK(set->allow[0].fields == RF_ADDRESS);
	CHECK(streq(set->allow[0].address, "0000:3a:00.0"));
	CHECK(set->allow[1].fields == (RF_VENDOR_ID | RF_DEVICE_ID));
	CHECK(set->allow[1].vendor_id == 0x14e4 && set->allow[1].product_id == 0x43a0);
	return fails;
}

static int test_legacy_evdev(const struct ruleset *set)
{
	static const char *const props[] = {
		"ID_INPUT_MOUSE", "ID_INPUT_KEYBOARD", "ID_INPUT_TOUCHPAD",
		"ID_INPUT_TOUCHSCREEN", "ID_INPUT_TABLET",
	};
	int fails = 0;

	CHECK(set->kind == DEV_EVDEV);
	CHECK(streq(set->path, "evdevPassthrough"));
	CHECK(set->disabled);
	CHECK(streq(set->target_vm, "office"));
	CHECK(set->description != NULL);
	CHECK(set->n_allow == ARRAY_SIZE(props) && set->n_deny == 0);
	for (size_t i = 0; i < set->n_allow && i < ARRAY_SIZE(props); i++) {
		char path[64];

		snprintf(path, sizeof(path), "evdevPassthrough.allow[%zu]", i);
		CHECK(streq(set->allow[i].path, path));
		CHECK(set->allow[i].fields == RF_PROPERTY);
		CHECK(streq(set->allow[i].property, props[i]));
		CHECK(streq(set->allow[i].value, "1"));
		CHECK(set->allow[i].description != NULL);
		CHECK(!set->allow[i].disabled);
	}
	return fails;
}

/* The older README shape: trailing commas, evdevPassthrough as an object. */
static int test_legacy(void)
{
	struct config *cfg = load("valid-legacy.json");
	int fails = 0;

	CHECK(cfg);
	if (!cfg)
		return fails;
	CHECK(cfg->n_sets == 3);
	if (cfg->n_sets == 3) {
		fails += test_legacy_usb(&cfg->sets[0]);
		fails += test_legacy_pci(&cfg->sets[1]);
		fails += test_legacy_evdev(&cfg->sets[2]);
	}
	CHECK(cfg->n_vms == 1);
	CHECK(streq(cfg->vms[0].name, "office") && cfg->vms[0].type == VM_QEMU);
	CHECK(streq(cfg->vms[0].socket, "/run/office.qmp"));
	CHECK(cfg->vms[0].usb_attach_by == USB_ATTACH_BUSADDR);
	CHECK(streq(cfg->crosvm, "crosvm"));
	CHECK(cfg->qmp_timeout_ms == 5000);
	CHECK(!cfg->state_path);
	config_free(cfg);
	return fails;
}

static int test_full_usb(const struct config *cfg)
{
	const struct ruleset *s = cfg->sets;
	int fails = 0;

	CHECK(s[0].kind == DEV_USB && s[1].kind == DEV_USB && s[2].kind == DEV_USB);
	CHECK(!s[0].target_vm && s[0].n_allowed_vms == 2);
	CHECK(streq(s[0].allowed_vms[0], "browser") && streq(s[0].allowed_vms[1], "office"));
	CHECK(streq(s[0].tag, "shared") && s[0].skip_on_suspend && !s[0].disabled);
	CHECK(s[0].allow[1].fields == (RF_VENDOR_NAME | RF_PRODUCT_NAME));
	CHECK(matches(&s[0].allow[1].vendor_name, "Yubico AB"));
	CHECK(!matches(&s[0].allow[1].vendor_name, "Not Yubico"));
	CHECK(matches(&s[0].allow[1].product_name, "YubiKey OTP+FIDO+CCID"));

	CHECK(streq(s[1].target_vm, "office") && !s[1].tag && !s[1].skip_on_suspend);
	CHECK(s[1].allow[0].fields ==
	      (RF_IF_CLASS | RF_IF_SUBCLASS | RF_IF_PROTOCOL | RF_REMOVABLE));
	CHECK(s[1].allow[0].if_subclass == 6 && s[1].allow[0].if_protocol == 80);
	CHECK(s[1].allow[0].removable == (REMOVABLE_REMOVABLE | REMOVABLE_UNKNOWN));
	CHECK(s[1].allow[1].fields == (RF_BUS | RF_PORT | RF_REMOVABLE | RF_DRIVER_PATH));
	CHECK(matches(&s[1].allow[1].driver_path,
		      "/lib/modules/6.1.0/kernel/drivers/usb/storage/usb-storage.ko"));
	CHECK(s[1].allow[1].bus == 3 && s[1].allow[1].port == 2);
	CHECK(s[1].allow[1].removable == REMOVABLE_FIXED);
	CHECK(s[1].n_deny == 2);
	CHECK(s[1].deny[0].fields == (RF_DEV_CLASS | RF_DEV_SUBCLASS | RF_DEV_PROTOCOL));
	CHECK(s[1].deny[0].dev_class == 9 && s[1].deny[0].dev_protocol == 3);
	/* anchored at the start, like Python's re.match() */
	CHECK(streq(s[1].deny[1].path, "usbPassthrough[1].deny[1]"));
	CHECK(matches(&s[1].deny[1].product_name, "Ethernet Gadget"));
	CHECK(!matches(&s[1].deny[1].product_name, "my eth"));

	CHECK(s[2].disabled && s[2].allow[0].disabled);	/* "enable": false */
	CHECK(s[2].allow[0].vendor_id == 0x1d6b && s[2].allow[0].product_id == 0x0104);
	return fails;
}

static int test_full_pci_evdev(const struct config *cfg)
{
	const struct ruleset *pci = &cfg->sets[3], *evdev = &cfg->sets[4];
	int fails = 0;

	CHECK(pci->kind == DEV_PCI && streq(pci->path, "pciPassthrough[0]"));
	CHECK(pci->allow[0].fields == (RF_DEV_CLASS | RF_DEV_SUBCLASS | RF_DEV_PROTOCOL));
	CHECK(pci->allow[0].dev_class == 2 && pci->allow[0].dev_subclass == 128);
	CHECK(pci->allow[0].dev_protocol == 0);
	CHECK(pci->allow[1].fields == (RF_VENDOR_ID | RF_DEVICE_ID | RF_ADDRESS));
	CHECK(pci->allow[1].product_id == 0x51f0);

	CHECK(evdev->kind == DEV_EVDEV && streq(evdev->path, "evdevPassthrough[0]"));
	CHECK(evdev->n_allow == 4 && evdev->n_deny == 1);
	CHECK(streq(evdev->allow[0].property, "ID_INPUT_KEYBOARD"));
	CHECK(streq(evdev->allow[0].value, "1"));
	CHECK(evdev->allow[1].fields == RF_PROPERTY && !evdev->allow[1].value);
	CHECK(evdev->allow[2].fields == RF_NAME);
	CHECK(matches(&evdev->allow[2].name, "synaptics touchpad"));
	CHECK(!matches(&evdev->allow[2].name, "SynPS/2 Synaptics TouchPad"));
	CHECK(evdev->allow[3].fields == RF_PATH_TAG);
	CHECK(matches(&evdev->allow[3].path_tag, "platform-i8042-serio-1"));
	CHECK(matches(&evdev->deny[0].name, "Power Button"));
	return fails;
}

static int test_full_vms(const struct config *cfg)
{
	const struct vm *vm;
	int fails = 0;

	CHECK(cfg->n_vms == 3);
	vm = config_find_vm(cfg, "office");
	CHECK(vm && vm->type == VM_QEMU && vm->usb_attach_by == USB_ATTACH_VIDPID);
	vm = config_find_vm(cfg, "browser");
	CHECK(vm && vm->usb_attach_by == USB_ATTACH_PORT);
	vm = config_find_vm(cfg, "netvm");
	CHECK(vm && vm->type == VM_CROSVM && vm->usb_attach_by == USB_ATTACH_BUSADDR);
	CHECK(vm && streq(vm->socket, "/run/vms/netvm.sock"));
	CHECK(!config_find_vm(cfg, "Office"));
	CHECK(streq(cfg->crosvm, "/opt/crosvm/bin/crosvm"));
	CHECK(streq(cfg->state_path, "/var/lib/vhotplug-test"));
	CHECK(cfg->qmp_timeout_ms == 1500);
	return fails;
}

/* The newer shape, with upstream keys this project ignores. */
static int test_full(void)
{
	struct config *cfg = load("valid-full.json");
	int fails = 0;

	CHECK(cfg);
	if (!cfg)
		return fails;
	CHECK(cfg->n_sets == 5);
	if (cfg->n_sets == 5) {
		fails += test_full_usb(cfg);
		fails += test_full_pci_evdev(cfg);
	}
	fails += test_full_vms(cfg);
	config_free(cfg);
	return fails;
}

/* vms[].vsockCid, general.api.cidActions, and the allowedCids filter. */
static int test_api(void)
{
	struct config *cfg = load("valid-api.json");
	const struct api_config *api;
	int fails = 0;

	CHECK(cfg);
	if (!cfg)
		return fails;
	api = &cfg->api;
	CHECK(cfg->vms[0].vsock_cid == 3 && cfg->vms[1].vsock_cid == 0);
	CHECK(config_find_vm_by_cid(cfg, 3) == &cfg->vms[0]);
	CHECK(!config_find_vm_by_cid(cfg, 7) && !config_find_vm_by_cid(cfg, 0));
	CHECK(api->n_grants == 2);
	if (api->n_grants == 2) {
		CHECK(api->grants[0].cid == 3 && api->grants[0].n_actions == 2);
		CHECK(streq(api->grants[0].actions[0], "pci_list"));
		CHECK(streq(api->grants[0].actions[1], "vmm_args"));
		CHECK(api->grants[1].cid == 7 && api->grants[1].n_actions == 0);
	}
	CHECK(config_api_cid_allowed(api, 3) && config_api_cid_allowed(api, 7));
	CHECK(!config_api_cid_allowed(api, 4) && !config_api_cid_allowed(api, 2));
	config_free(cfg);
	/* The original lets every CID in when the list is absent or empty. */
	CHECK(config_api_cid_allowed(&(struct api_config){ 0 }, 12345));
	return fails;
}

static int test_minimal(void)
{
	struct config *cfg = load("valid-minimal.json");
	int fails = 0;

	CHECK(cfg);
	if (!cfg)
		return fails;
	CHECK(cfg->n_sets == 0 && !cfg->sets);
	CHECK(cfg->n_vms == 1 && cfg->vms[0].type == VM_CROSVM);
	CHECK(streq(cfg->crosvm, "crosvm") && cfg->qmp_timeout_ms == 5000);
	CHECK(strstr(cfg->file, "valid-minimal.json") != NULL);
	config_free(cfg);
	return fails;
}

/* Load a bad config; ERRS gets its error text. */
static int load_bad(const char *name, char **errs)
{
	char path[PATH_MAX];
	struct config *cfg = NULL;
	size_t size;
	FILE *f = open_memstream(errs, &size);
	int r;

	if (!f)
		return -errno;
	config_path(path, sizeof(path), name);
	r = config_load(path, &cfg, f);
	fclose(f);
	return cfg ? -EEXIST : r;	/* out must stay NULL on failure */
}

static int test_bad_config(const struct bad_config *bad)
{
	_cleanup_free_ char *errs = NULL;
	int fails = 0;
	int r = load_bad(bad->name, &errs);

	CHECK(r == -EINVAL);
	for (size_t i = 0; i < MAX_EXPECT && bad->expect[i]; i++) {
		if (errs && strstr(errs, bad->expect[i]))
			continue;
		fprintf(stderr, "%s: expected \"%s\" in:\n%s", bad->name, bad->expect[i],
			errs ? errs : "(nothing)\n");
		fails++;
	}
	return fails;
}

static bool is_listed(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_configs); i++)
		if (streq(bad_configs[i].name, name))
			return true;
	return false;
}

/* Every bad-*.json must have an expectation here. */
static int test_bad_listed(void)
{
	char dir[PATH_MAX];
	struct dirent *de;
	int fails = 0;
	DIR *d;

	config_path(dir, sizeof(dir), "");
	d = opendir(dir);
	CHECK(d);
	if (!d)
		return fails;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "bad-", 4) != 0 || is_listed(de->d_name))
			continue;
		fprintf(stderr, "%s: no expected error listed in test-config.c\n", de->d_name);
		fails++;
	}
	closedir(d);
	return fails;
}

static int test_bad(void)
{
	int fails = 0;

	for (size_t i = 0; i < ARRAY_SIZE(bad_configs); i++)
		fails += test_bad_config(&bad_configs[i]);
	fails += test_bad_listed();
	return fails;
}

static int test_missing_file(void)
{
	_cleanup_free_ char *errs = NULL;
	int fails = 0;
	int r = load_bad("does-not-exist.json", &errs);

	CHECK(r == -ENOENT);
	CHECK(errs && strstr(errs, "does-not-exist.json: No such file"));
	return fails;
}

/* Write a config of N USB rules to PATH: PATTERN as each productName, or vendorId 0001. */
static int write_rules(const char *path, size_t n, const char *pattern)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs("{\"vms\": [{\"name\": \"vm1\", \"type\": \"qemu\", \"socket\": \"/run/vm1.sock\"}],\n"
	      " \"usbPassthrough\": [{\"targetVm\": \"vm1\", \"allow\": [\n", f);
	for (size_t i = 0; i < n; i++) {
		if (pattern)
			fprintf(f, "%s{\"productName\": \"%s\"}\n", i ? "," : "", pattern);
		else
			fprintf(f, "%s{\"vendorId\": \"0001\"}\n", i ? "," : "");
	}
	fputs("]}]}\n", f);
	return fclose(f) == 0 ? 0 : -errno;
}

/* Load PATH; its error text into ERRS. */
static int load_file(const char *path, char **errs)
{
	struct config *cfg = NULL;
	size_t size;
	FILE *f = open_memstream(errs, &size);
	int r;

	if (!f)
		return -errno;
	r = config_load(path, &cfg, f);
	fclose(f);
	config_free(cfg);
	return r;
}

/* A helper run's time and memory stay bounded: the file's size is. */
static int test_bound_file_size(const char *dir)
{
	char path[PATH_MAX];
	_cleanup_free_ char *errs = NULL, *errs2 = NULL;
	int fails = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/big.json", dir);
	CHECK(write_rules(path, 1, NULL) == 0);
	/* Blanks up to exactly 1 MiB: still read. */
	f = fopen(path, "r+");
	CHECK(f && fseek(f, 0, SEEK_END) == 0);
	if (!f)
		return fails;
	while (ftell(f) < 1024 * 1024)
		fputc(' ', f);
	CHECK(fclose(f) == 0);
	CHECK(load_file(path, &errs) == 0);
	f = fopen(path, "a");
	CHECK(f && fputc(' ', f) == ' ' && fclose(f) == 0);
	CHECK(load_file(path, &errs2) == -EFBIG);
	CHECK(errs2 && strstr(errs2, "big.json: larger than 1048576 bytes (1 MiB), the most a config may be"));
	return fails;
}

static int test_bound_rules(const char *dir)
{
	char path[PATH_MAX];
	_cleanup_free_ char *errs = NULL, *errs2 = NULL;
	int fails = 0;

	snprintf(path, sizeof(path), "%s/rules.json", dir);
	CHECK(write_rules(path, 4096, NULL) == 0);
	CHECK(load_file(path, &errs) == 0);
	CHECK(write_rules(path, 4097, NULL) == 0);
	CHECK(load_file(path, &errs2) == -EINVAL);
	CHECK(errs2 && strstr(errs2, "rules.json: usbPassthrough[0].allow: more than 4096 rules in the "
				     "config, the most it may have"));
	return fails;
}

/* Patterns each within REGEX_MAX_COST, but so many that together they are not. */
static int test_bound_regex_total(const char *dir)
{
	const char *pattern = "(ab?){30}x";
	uint64_t cost = regex_cost(pattern);
	size_t n = cost ? 200000 / cost + 1 : 0;
	char path[PATH_MAX];
	_cleanup_free_ char *errs = NULL, *errs2 = NULL;
	int fails = 0;

	CHECK(cost > 50 && n < 4096);
	snprintf(path, sizeof(path), "%s/regex.json", dir);
	CHECK(write_rules(path, n - 1, pattern) == 0);
	CHECK(load_file(path, &errs) == 0);
	CHECK(write_rules(path, n, pattern) == 0);
	CHECK(load_file(path, &errs2) == -EINVAL);
	CHECK(errs2 && strstr(errs2, "regex.json: usbPassthrough[0].allow[") &&
	      strstr(errs2, "].productName: the config's regular expressions together exceed 200000 "
			    "nodes, the most it may have"));
	return fails;
}

static int test_bounds(void)
{
	char dir[] = "/tmp/test-config-XXXXXX", cmd[64];
	int fails = 0;

	if (!mkdtemp(dir))
		return 1;
	fails += test_bound_file_size(dir);
	fails += test_bound_rules(dir);
	fails += test_bound_regex_total(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fails++;
	return fails;
}

static int test_names(void)
{
	int fails = 0;

	CHECK(streq(dev_kind_to_string(DEV_USB), "usb"));
	CHECK(streq(dev_kind_to_string(DEV_PCI), "pci"));
	CHECK(streq(dev_kind_to_string(DEV_EVDEV), "evdev"));
	CHECK(streq(vm_type_to_string(VM_QEMU), "qemu"));
	CHECK(streq(vm_type_to_string(VM_CROSVM), "crosvm"));
	return fails;
}

int main(void)
{
	int fails = 0;

	/* The valid configs warn about ignored upstream keys; not tested here. */
	log_set_max_level(LOG_ERR);
	fails += test_legacy();
	fails += test_full();
	fails += test_minimal();
	fails += test_api();
	fails += test_bad();
	fails += test_missing_file();
	fails += test_names();
	fails += test_bounds();
	/* CHECK() counts in check_failures; "fails" holds the other failures. */
	check_failures += fails;
	return check_result();
}
