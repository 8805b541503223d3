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
#include "safety.h"

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

static void print_json(const char *arg, const struct device *dev, const char *desc,
		       const struct match_result *res, char *why)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return;
	json_object_object_add(o, "syspath", json_object_new_string(dev->syspath ?: arg));
	json_object_object_add(o, "kind", json_object_new_string(dev_kind_name(dev->kind)));
	json_object_object_add(o, "device", str_or_null(desc));
	json_object_object_add(o, "targetVm", str_or_null(res->set ? res->set->target_vm : NULL));
	json_object_object_add(o, "allowedVms", config_allowed_vms_json(res->set));
	json_object_object_add(o, "ruleset", str_or_null(res->set ? res->set->path : NULL));
	json_object_object_add(o, "rule", str_or_null(res->rule ? res->rule->path : NULL));
	/* For the operator tools that select devices by tag. */
	json_object_object_add(o, "tag", str_or_null(res->set ? res->set->tag : NULL));
	json_object_object_add(o, "skipOnSuspend",
			       res->set ? json_object_new_boolean(res->set->skip_on_suspend) : NULL);
	json_object_object_add(o, "reasons", reasons_json(why));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_text(const char *desc, const struct match_result *res, const char *why)
{
	printf("%s\n%s", desc, why);
	if (!res->set) {
		printf("=> no rule set takes this device: it stays on the host\n\n");
		return;
	}
	printf("=> %s \"%s\" by %s \"%s\": ", res->set->path, res->set->description ?: "",
	       res->rule->path, res->rule->description ?: "");
	if (res->set->tag)
		printf("[tag %s] ", res->set->tag);
	if (res->set->target_vm) {
		printf("attach to %s\n\n", res->set->target_vm);
		return;
	}
	printf("may be attached to one of");
	for (size_t i = 0; i < res->set->n_allowed_vms; i++)
		printf(" %s", res->set->allowed_vms[i]);
	printf(" (selected with vhotplugctl)\n\n");
}

static int explain_one(const struct config *cfg, struct udev *udev, const char *arg, bool json)
{
	struct udev_device *ud = lookup(udev, arg);
	struct match_result res;
	struct device *dev = NULL;
	_cleanup_free_ char *why = NULL;
	_cleanup_free_ char *desc = NULL;
	char unsafe[256];
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
	/* Whatever the rules say: the verdict statd will reach (lib/safety.c). */
	if (dev->kind == DEV_USB && res.set &&
	    safety_check_usb(dev->syspath, unsafe, sizeof(unsafe)) > 0) {
		fprintf(f, "never passed to a VM: it %s\n", unsafe);
		res.set = NULL;
		res.rule = NULL;
	}
	fclose(f);
	desc = device_describe(dev);
	if (json)
		print_json(arg, dev, desc, &res, why);
	else
		print_text(desc ?: arg, &res, why);
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
			return 2;
		}
	}
	if (optind >= argc) {
		log_err("explain: which device? Give a syspath such as /sys/bus/usb/devices/1-3");
		return 2;
	}
	if (config_load(file, &cfg, stderr) < 0)
		return 1;
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
