/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit test of config_load() on configs shaped like generated real-world
 * ones: null and "" fields, driverPath, PCI flags, api and the other keys
 * upstream knows, and the oddities upstream resolves with a log line.
 */
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "macro.h"

static struct config *load(const char *name)
{
	const char *top = getenv("top_srcdir");
	char path[PATH_MAX];
	struct config *cfg = NULL;

	snprintf(path, sizeof(path), "%s/tests/configs/%s", top ? top : ".", name);
	if (config_load(path, &cfg, stderr) < 0)
		fprintf(stderr, "%s: did not load\n", path);
	return cfg;
}

/* As the matcher does: the match must start at 0. */
static bool matches(const regex_t *re, const char *s)
{
	regmatch_t m;

	return regexec(re, s, 1, &m, 0) == 0 && m.rm_so == 0;
}

static void test_generated_usb(const struct ruleset *s)
{
	/* null fields are absent, not zero */
	CHECK(s[0].allow[0].fields == (RF_IF_CLASS | RF_IF_PROTOCOL));
	CHECK(s[0].allow[1].fields == (RF_IF_CLASS | RF_IF_PROTOCOL));
	CHECK(streq(s[0].tag, "input") && !s[0].skip_on_suspend);
	CHECK(s[0].deny[0].fields == (RF_VENDOR_ID | RF_PRODUCT_ID));
	CHECK(streq(s[1].tag, "net") && s[1].skip_on_suspend);
	CHECK(s[1].allow[0].fields == RF_DRIVER_PATH);
	CHECK(matches(&s[1].allow[0].driver_path,
		      "/lib/modules/6.6.30/kernel/drivers/net/usb/r8152.ko.xz"));
	CHECK(!matches(&s[1].allow[0].driver_path,
		       "/lib/modules/6.6.30/kernel/drivers/usb/serial/pl2303.ko"));
	CHECK(s[1].allow[2].vendor_id == 0x0bda && s[1].allow[2].product_id == 0x8153);
	CHECK(s[2].allow[0].fields == (RF_BUS | RF_PORT));
	CHECK(s[2].allow[1].fields == 0);	/* all null: matches nothing */
	CHECK(s[4].n_allow == 0 && !s[4].allow);
	CHECK(s[5].n_allowed_vms == 2 && streq(s[5].tag, "camera"));
	CHECK(s[6].n_allow == 0 && s[6].n_deny == 2);
}

static void test_generated_pci(const struct ruleset *s)
{
	CHECK(s[0].kind == DEV_PCI && streq(s[0].tag, "wifi") && s[0].skip_on_suspend);
	CHECK(s[0].pci.iommu_add_all && s[0].pci.iommu_skip_if_shared);
	CHECK(!s[0].pci.auto_ovmf && !s[0].pci.qemu_use_root_bus);
	CHECK(s[0].allow[0].fields == (RF_VENDOR_ID | RF_DEVICE_ID));	/* "" address */
	CHECK(s[0].allow[0].product_id == 0x2725);
	CHECK(s[0].allow[1].fields == RF_ADDRESS);
	CHECK(s[0].allow[2].fields == 0);
	CHECK(s[1].pci.auto_ovmf && s[1].pci.qemu_use_root_bus && !s[1].pci.crosvm_use_root_bus);
	CHECK(s[1].allow[0].fields == RF_DEV_CLASS && s[1].allow[0].dev_class == 3);
	CHECK(s[2].allow[0].vendor_id == 0x8086 && s[2].allow[0].product_id == 0x51c8);
}

static void test_generated_general(const struct config *cfg)
{
	const struct api_config *api = &cfg->api;

	CHECK(cfg->n_acpi == 1);
	if (cfg->n_acpi == 1) {
		CHECK(streq(cfg->acpi[0].path, "acpiPassthrough[0].allow[0]"));
		CHECK(streq(cfg->acpi[0].target_vm, "audio-vm"));
		CHECK(streq(cfg->acpi[0].file, "/sys/firmware/acpi/tables/NHLT"));
		CHECK(streq(cfg->acpi[0].set_user, "qemu-audio") && !cfg->acpi[0].set_group);
	}
	CHECK(!cfg->usb_auth.enabled && cfg->usb_auth.n_host_allow == 1);
	CHECK(streq(cfg->state_path, "/var/lib/vhotplug/state.json") && cfg->persistency);
	CHECK(streq(cfg->ovmf_code, "/run/ovmf/OVMF_CODE.fd"));
	CHECK(api->present && !api->disabled && streq(api->host, "0.0.0.0") && api->port == 2000);
	CHECK(api->transports == (API_VSOCK | API_UNIX));
	CHECK(api->n_allowed_cids == 3 && api->allowed_cids[2] == 12);
	CHECK(streq(api->unix_socket, "/run/vhotplug/api.sock"));
	CHECK(streq(api->unix_socket_group, "vhotplug") && api->unix_socket_mode == 0660);
}

/* Shaped like the configs a Nix module generates for laptops. */
static void test_generated(void)
{
	struct config *cfg = load("valid-generated-laptop.json");

	CHECK(cfg);
	if (!cfg)
		return;
	CHECK(cfg->n_sets == 11);
	if (cfg->n_sets == 11) {
		test_generated_usb(cfg->sets);
		test_generated_pci(cfg->sets + 7);
		CHECK(cfg->sets[10].allow[1].fields == RF_NAME);	/* null pathTag */
	}
	test_generated_general(cfg);
	config_free(cfg);
	cfg = load("valid-generated-board.json");
	CHECK(cfg);
	if (cfg) {
		CHECK(cfg->api.present && cfg->api.disabled && cfg->api.transports == API_TCP);
		CHECK(!cfg->persistency && !cfg->state_path);
		CHECK(cfg->n_sets == 2 && cfg->sets[1].n_allow == 0 && cfg->sets[1].n_deny == 1);
		config_free(cfg);
	}
}

/* Loads, with the oddity resolved as upstream resolves it. */
static void test_warned(void)
{
	struct config *cfg;

	cfg = load("warn-both-targets.json");
	CHECK(cfg && streq(cfg->sets[0].target_vm, "vm1") && !cfg->sets[0].allowed_vms);
	config_free(cfg);
	cfg = load("warn-no-target.json");
	CHECK(cfg && cfg->sets[0].no_target);
	config_free(cfg);
	cfg = load("warn-all-absent.json");
	CHECK(cfg && cfg->n_sets == 2);
	if (cfg && cfg->n_sets == 2)
		CHECK(cfg->sets[0].allow[0].fields == 0 && cfg->sets[0].allow[1].fields == 0 &&
		      cfg->sets[1].allow[0].fields == 0);
	config_free(cfg);
	cfg = load("warn-odd-shapes.json");
	CHECK(cfg && cfg->n_sets == 2);
	if (cfg && cfg->n_sets == 2) {
		CHECK(cfg->sets[0].allow[0].fields == (RF_IF_CLASS | RF_REMOVABLE));
		CHECK(cfg->sets[0].allow[0].removable == 0);	/* matches no device */
		CHECK(cfg->sets[1].no_target && !cfg->sets[1].target_vm);
	}
	config_free(cfg);
	cfg = load("warn-value-without-property.json");
	CHECK(cfg && cfg->sets[0].allow[0].fields == RF_NAME);
	config_free(cfg);
}

int main(void)
{
	log_set_max_level(LOG_ERR);	/* the warnings are tested in check-config.bats */
	test_generated();
	test_warned();
	return check_result();
}
