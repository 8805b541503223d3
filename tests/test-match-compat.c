/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rule shapes of generated real-world configs decide as upstream
 * decides them: null and "" are absent, a rule with no field matches
 * nothing, "0x" ids, regexes compiled as written and anchored at 0, rule
 * sets without or with both targets, driverPath only for devices whose
 * interfaces are all vendor-specific.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "match-util.h"

static void test_absent(void)
{
	struct device d;

	usb_init(&d);
	CHECK(takes("{\"vendorId\":\"046d\",\"productId\":null,\"bus\":null,\"port\":null}", &d));
	CHECK(takes("{\"bus\":3,\"port\":2,\"vendorId\":null,\"productId\":null}", &d));
	CHECK(takes("{\"productName\":\"\",\"vendorName\":\"logi\"}", &d));
	/* all absent: nothing, never everything */
	CHECK(!takes("{\"vendorId\":null,\"productId\":null,\"bus\":null,\"port\":null}", &d));
	CHECK(!takes("{\"vendorName\":\"\",\"productName\":\"\",\"driverPath\":null}", &d));
	CHECK(!takes("{\"description\":\"blank\"}", &d));
	CHECK(!takes("{\"interfaceClass\":3,\"removable\":[]}", &d));	/* no kind listed */
}

static void test_absent_deny(void)
{
	struct config *cfg = load("{\"usbPassthrough\":[{\"targetVm\":\"vm1\","
				  "\"allow\":[{\"interfaceClass\":3}],"
				  "\"deny\":[{\"vendorId\":null,\"productId\":null}]}]," VMS "}");
	struct device d;

	usb_init(&d);
	CHECK(streq(decide(cfg, &d), "vm1"));	/* a blank deny rule denies nothing */
	config_free(cfg);
}

static void test_pci_empty_address(void)
{
	struct config *cfg = load("{\"pciPassthrough\":[{\"targetVm\":\"vm1\",\"allow\":["
				  "{\"address\":\"\",\"vendorId\":null,\"deviceId\":null},"
				  "{\"address\":\"\",\"vendorId\":\"0x8086\",\"deviceId\":\"0xA0F0\"}]}],"
				  VMS "}");
	struct device d = { .kind = DEV_PCI, .sysname = "0000:00:14.3", .vendor_id = 0x8086,
			    .product_id = 0xa0f0, .dev_class = 2, .dev_subclass = 0x80 };
	struct match_result res;

	CHECK(match_device(cfg, &d, &res, NULL));
	CHECK(res.rule && streq(res.rule->path, "pciPassthrough[0].allow[1]"));
	d.product_id = 0xa0f1;
	CHECK(streq(decide(cfg, &d), "none"));
	config_free(cfg);
}

static void test_hex_prefix(void)
{
	struct device d;

	usb_init(&d);
	CHECK(takes("{\"vendorId\":\"0x046D\",\"productId\":\"0Xc077\"}", &d));
	CHECK(!takes("{\"vendorId\":\"0x046e\"}", &d));
}

/* Anchored at 0 like re.match(), with no wrapping group around the pattern. */
static void test_regex(void)
{
	struct config *cfg = usb_rule("{\"productName\":\"(m)(1)05\"}");
	const regex_t *re = &cfg->sets[0].allow[0].product_name;
	regmatch_t m[3];
	struct device d;

	CHECK(regexec(re, "M105 Optical Mouse", 3, m, 0) == 0);
	CHECK(m[0].rm_so == 0 && m[0].rm_eo == 4);
	CHECK(m[1].rm_so == 0 && m[1].rm_eo == 1);	/* group 1 is the user's first */
	CHECK(m[2].rm_so == 1 && m[2].rm_eo == 2);
	config_free(cfg);

	usb_init(&d);
	CHECK(takes("{\"productName\":\"optical|m105\"}", &d));
	CHECK(!takes("{\"productName\":\"optical|mouse\"}", &d));	/* only at 5 and 13 */
	CHECK(takes("{\"productName\":\"[[:alnum:]]+ (optical)\"}", &d));
	CHECK(takes("{\"productName\":\"m105 optical mouse)?\"}", &d) ==
	      takes("{\"productName\":\"m105\"}", &d));	/* a lone ")" is literal in glibc */
}

static void test_targets(void)
{
	struct config *cfg = load("{\"usbPassthrough\":["
				  "{\"description\":\"no target\",\"allow\":[{\"interfaceClass\":3}]},"
				  "{\"targetVm\":\"vm2\",\"allowedVms\":[\"vm1\"],"
				  "\"allow\":[{\"interfaceClass\":3}]}]," VMS "}");
	struct match_result res;
	struct device d;

	usb_init(&d);
	CHECK(match_device(cfg, &d, &res, NULL));
	CHECK(res.set && streq(res.set->path, "usbPassthrough[1]"));	/* [0] is skipped */
	CHECK(res.set && streq(res.set->target_vm, "vm2") && res.set->n_allowed_vms == 0);
	config_free(cfg);
}

static void test_empty_lists(void)
{
	struct config *cfg = load("{\"usbPassthrough\":["
				  "{\"targetVm\":\"vm1\",\"allow\":[]},"
				  "{\"targetVm\":\"vm1\",\"deny\":[{\"interfaceClass\":3}]},"
				  "{\"allowedVms\":[],\"allow\":[{\"interfaceClass\":3}]}]," VMS "}");
	struct device d;

	usb_init(&d);
	CHECK(streq(decide(cfg, &d), "none"));
	config_free(cfg);
}

/*
 * Upstream looks drivers up only when no interface has a real class; the
 * look-up itself is tested in explain.bats, with a module directory.
 */
static void test_driver_path_precondition(void)
{
	struct config *cfg = usb_rule("{\"driverPath\":\".*\"}");
	struct match_result res;
	struct device d;
	char *why = NULL;
	size_t len;
	FILE *f = open_memstream(&why, &len);

	CHECK(config_set_module_dir(cfg, "/nonexistent/lib/modules/0.0") == 0);
	usb_init(&d);	/* HID: class 3 */
	CHECK(!match_device(cfg, &d, &res, f));
	fclose(f);
	CHECK(why && strstr(why, "driverPath: not looked at, an interface has class 03"));
	free(why);
	d.ifaces[0] = (struct usb_iface){ 0xff, 0xff, 0 };
	d.bcd_device = 0x0100;
	CHECK(!match_device(cfg, &d, &res, NULL));	/* no module in that directory */
	config_free(cfg);
}

int main(void)
{
	test_absent();
	test_absent_deny();
	test_pci_empty_address();
	test_hex_prefix();
	test_regex();
	test_targets();
	test_empty_lists();
	test_driver_path_precondition();
	return check_result();
}
