/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <libudev.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "config-json.h"
#include "ctl.h"
#include "device.h"
#include "log.h"
#include "macro.h"
#include "match.h"
#include "pcigroup.h"
#include "safety.h"
#include "usbauth.h"

/* Accept a syspath, or a device node (/dev/input/event5) for convenience. */
static struct udev_device *lookup(struct udev *udev, const char *arg)
{
	struct stat st;

	if (strncmp(arg, "/dev/", 5) == 0 && stat(arg, &st) == 0 &&
	    (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
		return udev_device_new_from_devnum(udev, S_ISCHR(st.st_mode) ? 'c' : 'b',
						   st.st_rdev);
	return udev_device_new_from_syspath(udev, arg);
}

static struct json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* One reason per line of the matcher's trace. */
static struct json_object *reasons_json(char *why)
{
	struct json_object *a = json_object_new_array();
	char *save = NULL;

	for (char *line = strtok_r(why, "\n", &save); a && line; line = strtok_r(NULL, "\n", &save))
		json_object_array_add(a, json_object_new_string(line));
	return a;
}

/* What statd will do besides what the rules say, and why. */
struct verdict {
	char refused[400];		/* "" or why it stays on the host whatever the rules say */
	struct json_object *also;	/* pciIommuAddAll: addresses that go with it, or NULL */
};

static void print_json(const char *arg, const struct device *dev, const char *desc,
		       const struct match_result *res, char *why, struct verdict *v)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return;
	json_object_object_add(o, "syspath", json_object_new_string(dev->syspath ?: arg));
	json_object_object_add(o, "kind", json_object_new_string(dev_kind_to_string(dev->kind)));
	json_object_object_add(o, "device", str_or_null(desc));
	/* Refused: it goes nowhere; ruleset and rule still say which rule would have taken it. */
	json_object_object_add(o, "targetVm", str_or_null(res->set && !v->refused[0] ?
							  res->set->target_vm : NULL));
	json_object_object_add(o, "allowedVms", config_allowed_vms_json(v->refused[0] ? NULL :
									 res->set));
	json_object_object_add(o, "ruleset", str_or_null(res->set ? res->set->path : NULL));
	json_object_object_add(o, "rule", str_or_null(res->rule ? res->rule->path : NULL));
	/* For the operator tools that select devices by tag. */
	json_object_object_add(o, "tag", str_or_null(res->set ? res->set->tag : NULL));
	json_object_object_add(o, "skipOnSuspend",
			       res->set ? json_object_new_boolean(res->set->skip_on_suspend) : NULL);
	json_object_object_add(o, "refused", str_or_null(v->refused[0] ? v->refused : NULL));
	json_object_object_add(o, "alsoAttached", json_object_get(v->also));
	json_object_object_add(o, "reasons", reasons_json(why));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_text(const char *desc, const struct match_result *res, const char *why,
		       const struct verdict *v)
{
	size_t n = v->also ? json_object_array_length(v->also) : 0;

	printf("%s\n%s", desc, why);
	if (v->refused[0]) {
		printf("=> refused: %s; it stays on the host\n\n", v->refused);
		return;
	}
	if (!res->set) {
		printf("=> no rule set takes this device: it stays on the host\n\n");
		return;
	}
	printf("=> %s \"%s\" by %s \"%s\": ", res->set->path, res->set->description ?: "",
	       res->rule->path, res->rule->description ?: "");
	if (res->set->tag)
		printf("[tag %s] ", res->set->tag);
	if (res->set->target_vm) {
		printf("attach to %s", res->set->target_vm);
		for (size_t i = 0; i < n; i++)
			printf("%s%s", i ? ", " : ", with the rest of its IOMMU group (pciIommuAddAll): ",
			       json_object_get_string(json_object_array_get_idx(v->also, i)));
		printf("\n\n");
		return;
	}
	printf("may be attached to one of");
	for (size_t i = 0; i < res->set->n_allowed_vms; i++)
		printf(" %s", res->set->allowed_vms[i]);
	printf(" (selected with vhotplugctl)\n\n");
}

static int also_add(void *userdata, const char *addr, const struct device *member)
{
	return json_object_array_add(userdata, json_object_new_string(addr)) < 0 ? -ENOMEM : 0;
}

/* The verdicts the helper and statd reach past the rules (lib/intake/intake.c, lib/rules/safety.c). */
static void judge(const struct config *cfg, const struct device *dev,
		  const struct match_result *res, struct verdict *v, FILE *f)
{
	const char *never = match_never_reason(dev);
	const struct ruleset *set = res->set;
	char buf[256];
	int r;

	if (never)
		snprintf(v->refused, sizeof(v->refused), "%s", never);
	if (!set)
		return;
	if (dev->kind == DEV_USB) {
		r = safety_check_usb(dev->syspath, buf, sizeof(buf));
		if (r > 0)
			snprintf(v->refused, sizeof(v->refused), "never passed to a VM: it %s", buf);
		else if (r < 0)
			snprintf(v->refused, sizeof(v->refused),
				 "cannot tell whether it is safe to pass: %s", strerror(-r));
	}
	if (dev->kind != DEV_PCI)
		goto out;
	if (!set->target_vm)
		snprintf(v->refused, sizeof(v->refused),
			 "PCI rule sets need a targetVm: allowedVms alone is refused");
	else if (set->pci.iommu_skip_if_shared &&
		 pcigroup_unmatched(cfg, set, dev, buf, sizeof(buf)) > 0)
		snprintf(v->refused, sizeof(v->refused), "its IOMMU group is shared with %s, which "
			 "this rule set does not take (pciIommuSkipIfShared)", buf);
	else if (set->pci.iommu_add_all) {
		v->also = json_object_new_array();
		r = v->also ? pcigroup_foreach_other(cfg, set, dev, also_add, v->also) : -ENOMEM;
		if (r < 0)
			fprintf(f, "pciIommuAddAll: cannot read its IOMMU group: %s\n", strerror(-r));
	}
out:
	if (v->refused[0] && !never)
		fprintf(f, "%s\n", v->refused);
}

/* usbAuthorization: whether the host lets the device configure, and who decides. */
static const char *authorization(const struct config *cfg, const struct device *dev,
				 const struct match_result *res, const struct verdict *v,
				 char *buf, size_t size)
{
	const struct rule *host;

	if (dev->kind != DEV_USB || !cfg->usb_auth.enabled)
		return NULL;
	if (usbauth_is_hub(dev))
		return "authorized: a hub, so that the devices behind it enumerate";
	if (res->set && res->set->target_vm && !v->refused[0])
		return "unauthorized on the host: authorized only just before it goes to its VM";
	host = usbauth_host_rule(cfg, dev);
	if (host && usbauth_by_interface(host, dev)) {
		snprintf(buf, size, "for the host by %s (%s): only the interfaces it names are "
			 "authorized, by statd; the others stay unauthorized", host->path,
			 host->description ?: "");
		return buf;
	}
	if (host) {
		snprintf(buf, size, "authorized for the host by %s (%s)", host->path,
			 host->description ?: "");
		return buf;
	}
	return "unauthorized: no VM takes it and no usbAuthorization.hostAllow rule does";
}

static int explain_one(const struct config *cfg, struct udev *udev, const char *arg, bool json)
{
	struct udev_device *ud = lookup(udev, arg);
	struct match_result res;
	struct verdict v = { .refused = "" };
	struct device *dev = NULL;
	const char *auth;
	char abuf[300];
	_cleanup_free_ char *why = NULL;
	_cleanup_free_ char *desc = NULL;
	size_t len;
	FILE *f;
	int r;

	if (!ud) {
		log_err("%s: no such device", arg);
		return -ENODEV;
	}
	r = device_from_udev(ud, &dev);
	udev_device_unref(ud);
	if (r < 0) {
		log_err("%s: %s", arg, r == -ENOTSUP ?
			"not a USB device, PCI device or input event node" : strerror(-r));
		return r;
	}
	f = open_memstream(&why, &len);
	if (!f) {
		device_free(dev);
		return -ENOMEM;
	}
	match_device(cfg, dev, &res, f);
	judge(cfg, dev, &res, &v, f);
	auth = authorization(cfg, dev, &res, &v, abuf, sizeof(abuf));
	if (auth)
		fprintf(f, "usbAuthorization: %s\n", auth);
	fclose(f);
	desc = device_describe(dev);
	if (json)
		print_json(arg, dev, desc, &res, why, &v);
	else
		print_text(desc ?: arg, &res, why, &v);
	json_object_put(v.also);
	device_free(dev);
	return 0;
}

int ctl_explain(const struct paths *paths, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "module-dir", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *file = paths->config;
	const char *module_dir = NULL;
	struct config *cfg;
	struct udev *udev;
	bool json = false;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "c:jm:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			file = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'm':
			module_dir = optarg;
			break;
		case 'h':
			printf("Usage: vhotplugctl explain [-c CONFIG] [--json] [--module-dir DIR] "
			       "SYSPATH|DEVNODE...\n\n"
			       "  --module-dir DIR  kernel modules for driverPath rules (default "
			       "$VHOTPLUG_MODULE_DIR,\n"
			       "                    else /lib/modules/$(uname -r))\n");
			return 0;
		default:
			return ctl_usage_error("explain: unknown option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		return ctl_usage_error("explain: which device? Give a syspath such as "
				       "/sys/bus/usb/devices/1-3");
	}
	if (ctl_config_load(file, &cfg) < 0)
		return CTL_EXIT_FAILED;
	if (module_dir && config_set_module_dir(cfg, module_dir) < 0) {
		config_free(cfg);
		return 1;
	}
	udev = udev_new();
	if (!udev) {
		config_free(cfg);
		return 1;
	}
	for (int i = optind; i < argc; i++)
		if (explain_one(cfg, udev, argv[i], json) < 0)
			status = 1;
	udev_unref(udev);
	config_free(cfg);
	return status;
}
